import { z } from "zod";
import type { EventSnapshot } from "../agent/incident/incident.js";
import { readEvent } from "../agent/incident/read-objects.js";
import { compilePattern, namespaceOf } from "./incident-scope.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ListEventsInput = z.object({
  object: z
    .string()
    .optional()
    .describe(
      'Only events of one object of this Rollout: "rollout", "pod/NAME", "replicaset/NAME" or "analysisrun/NAME". Default: every event gathered for the incident.',
    ),
  reason: z
    .string()
    .optional()
    .describe("Only events whose reason matches this regular expression, e.g. BackOff|Unhealthy."),
  warningsOnly: z.boolean().optional().describe("Only Warning events."),
});

const KINDS: Record<string, string> = {
  pod: "Pod",
  replicaset: "ReplicaSet",
  analysisrun: "AnalysisRun",
  rollout: "Rollout",
};

/** list_events: Kubernetes events of the Rollout and its pods, replica sets and analysis runs. */
export function createListEventsTool(context: ToolContext) {
  return defineTool(context, {
    name: "list_events",
    description:
      "Kubernetes events (type, reason, count, message) of the failed Rollout and its pods, replica sets and analysis runs, oldest first.",
    schema: ListEventsInput,
    maxTokens: 1500,
    run: async ({ object, reason, warningsOnly }) => {
      let events: EventSnapshot[];
      if (object) {
        const { kind, name } = resolveObject(context, object);
        events = (await context.cluster.listEvents(namespaceOf(context), { kind, name })).map(readEvent);
      } else {
        events = context.incident.events;
      }
      const filter = reason ? compilePattern(reason, "reason") : null;
      const selected = events.filter(
        (e) => (!filter || filter.test(e.reason)) && (!warningsOnly || e.type === "Warning"),
      );
      if (selected.length === 0) return `No events match${object ? ` for ${object}` : ""}.`;
      const text = selected
        .map(
          (e) =>
            `${e.lastSeen ?? e.firstSeen ?? "?"} ${e.type} ${e.reason} ${e.object.kind}/${e.object.name} x${e.count}: ${e.message.replace(/\s+/g, " ")}`,
        )
        .join("\n");
      return {
        text: `${selected.length} event(s)${object ? ` of ${object}` : ""}, oldest first.`,
        data: [{ source: `events in namespace ${namespaceOf(context)}`, text, keep: "tail" }],
      };
    },
  });
}

function resolveObject(context: ToolContext, ref: string): { kind: string; name: string } {
  const { incident } = context;
  const [rawKind, ...rest] = ref.split("/");
  const kind = KINDS[(rawKind ?? "").toLowerCase()];
  const name = rest.join("/");
  if (kind === "Rollout") return { kind, name: incident.rollout.name };
  const known =
    kind === "Pod"
      ? incident.pods.map((p) => p.name)
      : kind === "ReplicaSet"
        ? incident.replicaSets.map((r) => r.name)
        : kind === "AnalysisRun"
          ? incident.analysisRuns.map((r) => r.name)
          : null;
  if (!kind || !known)
    throw new Error(
      `object ${JSON.stringify(ref)} is not "rollout", "pod/NAME", "replicaset/NAME" or "analysisrun/NAME"`,
    );
  if (!known.includes(name)) {
    throw new Error(
      `${kind} ${JSON.stringify(name)} does not belong to this Rollout; known: ${known.join(", ") || "none"}`,
    );
  }
  return { kind, name };
}
