import { z } from "zod";
import { readEvent } from "../agent/incident/read-objects.js";
import { findIncidentPod, namespaceOf } from "./incident-scope.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const DescribePodInput = z.object({
  pod: z
    .string()
    .min(1)
    .describe(
      "Name of one of the Rollout's pods (get_rollout_status lists the replica sets; list_events names pods).",
    ),
});

/** describe_pod: a pod's phase, conditions, containers (state, restarts, last termination) and events. */
export function createDescribePodTool(context: ToolContext) {
  return defineTool(context, {
    name: "describe_pod",
    description:
      "Like kubectl describe pod for one of the Rollout's pods: role (canary or stable), phase, conditions, each container's state, restarts, last termination (reason, exit code) and the pod's events.",
    schema: DescribePodInput,
    maxTokens: 1500,
    run: async ({ pod: name }) => {
      const pod = findIncidentPod(context, name);
      const events = (
        await context.cluster.listEvents(namespaceOf(context), { kind: "Pod", name: pod.name })
      ).map(readEvent);
      const lines = [
        `pod: ${pod.name} role ${pod.role} phase ${pod.phase}${pod.reason ? ` reason ${pod.reason}` : ""}${pod.message ? `: ${pod.message}` : ""}`,
        `node: ${pod.nodeName ?? "?"}`,
        "conditions:",
        ...pod.conditions.map(
          (c) =>
            `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`,
        ),
        "containers:",
        ...pod.containers.flatMap((c) => [
          `  ${c.name}${c.init ? " (init)" : ""}${c.sidecar ? " (sidecar)" : ""}: ${c.image} state ${c.state}${c.reason ? ` ${c.reason}` : ""} ready ${c.ready} restarts ${c.restartCount}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ""}`,
          ...(c.message ? [`    message: ${c.message}`] : []),
          ...(c.lastTermination
            ? [
                `    last termination: ${c.lastTermination.reason ?? "?"} exit ${c.lastTermination.exitCode ?? "?"}${c.lastTermination.finishedAt ? ` at ${c.lastTermination.finishedAt}` : ""}${c.lastTermination.message ? `: ${c.lastTermination.message}` : ""}`,
              ]
            : []),
        ]),
        "events:",
        ...(events.length === 0
          ? ["  none"]
          : events.map((e) => `  ${e.type} ${e.reason} x${e.count}: ${e.message.replace(/\s+/g, " ")}`)),
      ];
      return {
        text: `Pod ${pod.name} (${pod.role}).`,
        data: [{ source: `pod ${namespaceOf(context)}/${pod.name}`, text: lines.join("\n") }],
      };
    },
  });
}
