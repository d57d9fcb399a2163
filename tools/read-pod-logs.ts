import { z } from "zod";
import { readLogLines, reduceLogs } from "../agent/logs/reduce-logs.js";
import type { LogLines } from "../agent/logs/reduce-logs.js";
import {
  compilePattern,
  findIncidentPod,
  namespaceOf,
  pickContainer,
  podsByInterest,
} from "./incident-scope.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ReadPodLogsInput = z.object({
  pod: z
    .string()
    .optional()
    .describe("One of the Rollout's pods; default: the canary pod with the most restarts."),
  container: z.string().optional().describe("Container name; default: the application container."),
  previous: z
    .boolean()
    .optional()
    .describe("The previous (crashed) instance of the container, like kubectl logs --previous."),
  filter: z
    .string()
    .optional()
    .describe("Only lines matching this regular expression, e.g. panic|Exception|ERROR."),
  tail: z.number().int().min(1).max(100_000).optional().describe("Only the last N lines of the log."),
});

/** Leaves room for the fence and our own sentence inside the tool's budget. */
const EXCERPT_SHARE = 0.85;

/**
 * read_pod_logs: one container's log reduced to the budget (repeated lines collapsed with a count,
 * errors with their stack traces kept), redacted.
 */
export function createReadPodLogsTool(context: ToolContext) {
  return defineTool(context, {
    name: "read_pod_logs",
    description:
      "Reads the log of a container of one of the Rollout's pods (current or previous instance), optionally filtered by a regular expression or limited to the last N lines. Repeated lines are collapsed with a count; errors keep their stack traces.",
    schema: ReadPodLogsInput,
    run: async ({ pod: podName, container: containerName, previous, filter, tail }) => {
      const pod = podName
        ? findIncidentPod(context, podName)
        : podsByInterest(context.incident.pods.filter((p) => p.role === "canary"))[0];
      if (!pod) throw new Error("the Rollout has no canary pods: name a pod");
      const container = pickContainer(pod, containerName);
      const pattern = filter ? compilePattern(filter, "filter") : null;
      const stream = await context.cluster.openLog({
        namespace: namespaceOf(context),
        pod: pod.name,
        container,
        previous: previous ?? false,
        ...(tail ? { tailLines: tail } : {}),
      });
      const what = `${pod.name}/${container}${previous ? " (previous instance)" : ""}`;
      if (!stream)
        return `No log for ${what}: the container has no ${previous ? "previous instance" : "log"}.`;
      const lines: LogLines = pattern ? matching(readLogLines(stream), pattern) : readLogLines(stream);
      const excerpt = await reduceLogs(lines, {
        tokenBudget: Math.floor(context.outputTokens * EXCERPT_SHARE),
      });
      if (excerpt.totalLines === 0)
        return `The log of ${what} has no lines${pattern ? ` matching /${filter}/` : ""}.`;
      return {
        text: `Log of ${what} (${pod.role}): ${excerpt.totalLines} line(s)${pattern ? ` matching /${filter}/` : ""}, ${excerpt.keptLines} shown${excerpt.truncated ? " (reduced to fit)" : ""}.`,
        data: [{ source: `log ${namespaceOf(context)}/${what}`, text: excerpt.text, keep: "tail" }],
      };
    },
  });
}

async function* matching(lines: AsyncIterable<string>, pattern: RegExp): AsyncGenerator<string> {
  for await (const line of lines) if (pattern.test(line)) yield line;
}
