import { z } from "zod";
import type { PodSnapshot } from "../agent/incident/incident.js";
import { buildLogBaseline, readLogLines, reduceLogs } from "../agent/logs/reduce-logs.js";
import { findIncidentPod, namespaceOf, pickContainer, podsByInterest } from "./incident-scope.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const CompareCanaryStableLogsInput = z.object({
  container: z.string().optional().describe("Container name; default: the application container."),
  canaryPod: z
    .string()
    .optional()
    .describe("Canary pod to compare; default: the one with the most restarts."),
});

/**
 * compare_canary_stable_logs: what the canary logs that the stable version never did. Lines whose
 * template also appears in the stable pod's log lose to new ones when the budget is tight, so the new failure stays.
 */
export function createCompareCanaryStableLogsTool(context: ToolContext) {
  return defineTool(context, {
    name: "compare_canary_stable_logs",
    description:
      "Compares the canary's log with the stable version's log: keeps the canary lines (errors, panics, stack traces) whose pattern never appears in the stable log over those that do, with counts.",
    schema: CompareCanaryStableLogsInput,
    run: async ({ container: containerName, canaryPod }) => {
      const namespace = namespaceOf(context);
      const canary = canaryPod
        ? findIncidentPod(context, canaryPod)
        : podsByInterest(context.incident.pods.filter((p) => p.role === "canary"))[0];
      if (!canary || canary.role !== "canary")
        throw new Error("no canary pod to compare: name one with canaryPod");
      const container = pickContainer(canary, containerName);
      const stable = pickStable(context.incident.pods, container);
      if (!stable)
        throw new Error(
          `no stable pod runs a container named ${container}: read the canary log with read_pod_logs`,
        );
      const stableStream = await context.cluster.openLog({ namespace, pod: stable.name, container });
      if (!stableStream) throw new Error(`the stable pod ${stable.name} has no log for ${container}`);
      const baseline = await buildLogBaseline(readLogLines(stableStream));
      const canaryStream = await context.cluster.openLog({ namespace, pod: canary.name, container });
      if (!canaryStream) throw new Error(`the canary pod ${canary.name} has no log for ${container}`);
      const excerpt = await reduceLogs(readLogLines(canaryStream), {
        tokenBudget: Math.floor(context.outputTokens * 0.85),
        baseline,
      });
      return {
        text: `Canary ${canary.name}/${container} (${excerpt.totalLines} lines) against stable ${stable.name} (${baseline.totalLines} lines): lines new in the canary are kept over common ones.`,
        data: [
          {
            source: `log ${namespace}/${canary.name}/${container} compared with ${stable.name}`,
            text: excerpt.text,
            keep: "tail",
          },
        ],
      };
    },
  });
}

function pickStable(pods: PodSnapshot[], container: string): PodSnapshot | undefined {
  return podsByInterest(
    pods.filter((p) => p.role === "stable" && p.containers.some((c) => c.name === container)),
  ).at(-1);
}
