import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { evidence, eventSource } from "./evidence.js";
import { progressDeadlineExceeded } from "./rollout-state.js";

/** The canary did not progress in time; ranks below every cause that would explain the delay. */
export function findProgressDeadline(incident: Incident): Finding[] {
  const deadline = progressDeadlineExceeded(incident);
  const events = incident.events.filter(
    (e) => e.object.kind === "Rollout" && /ProgressDeadlineExceeded/.test(`${e.reason} ${e.message}`),
  );
  if (!deadline && events.length === 0) return [];
  const message = deadline?.message ?? events[0]?.message ?? "";
  const items = [
    ...(deadline
      ? [
          evidence(
            `rollout/${incident.rollout.name}`,
            `Progressing False ProgressDeadlineExceeded: ${message}`,
          ),
        ]
      : []),
    ...events
      .slice(0, 2)
      .map((e) => evidence(eventSource(e.object.kind, e.object.name), `${e.reason}: ${e.message}`)),
  ];
  const r = incident.rollout;
  const facts: Record<string, string | number | boolean> = {};
  if (r.replicas !== undefined) facts["replicas"] = r.replicas;
  if (r.updatedReplicas !== undefined) facts["updatedReplicas"] = r.updatedReplicas;
  if (r.readyReplicas !== undefined) facts["readyReplicas"] = r.readyReplicas;
  if (r.availableReplicas !== undefined) facts["availableReplicas"] = r.availableReplicas;
  return [
    {
      category: "progress-deadline",
      analyzer: "findProgressDeadline",
      summary: `Canary of ${r.name} did not progress before its deadline${message ? `: ${message.slice(0, 160)}` : ""}`,
      evidence: items,
      confidence: deadline ? 0.7 : 0.55,
      rank: RANK["progress-deadline"],
      facts,
    },
  ];
}
