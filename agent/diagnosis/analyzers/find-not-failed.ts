import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { evidence } from "./evidence.js";
import { rolloutState } from "./rollout-state.js";

/** The rollout is healthy, or still progressing without an abort: nothing to remediate yet. */
export function findNotFailed(incident: Incident): Finding[] {
  const state = rolloutState(incident);
  if (state === "failed") return [];
  const r = incident.rollout;
  const promoted = r.canaryPodHash !== undefined && r.canaryPodHash === r.stablePodHash;
  const detail = `phase ${r.phase ?? "unknown"}${r.message ? ` (${r.message})` : ""}${
    promoted ? `, canary ${r.canaryPodHash} is the stable revision` : ""
  }${r.currentStepIndex !== undefined ? `, step ${r.currentStepIndex}/${r.steps.length}` : ""}`;
  const healthy = state === "healthy";
  return [
    {
      category: "not-failed",
      analyzer: "findNotFailed",
      summary: healthy
        ? `Rollout ${r.name} is healthy${promoted ? " and its canary was promoted" : ""}: nothing to remediate`
        : `Rollout ${r.name} is progressing and was not aborted: nothing to remediate yet`,
      evidence: [evidence(`rollout/${r.name}`, detail)],
      confidence: healthy ? 0.95 : 0.7,
      // Healthy overrides everything: old failures of a promoted canary need no fix. Progressing yields to any failure.
      rank: healthy ? RANK["not-failed-healthy"] : RANK["not-failed-progressing"],
      facts: { state, phase: r.phase ?? "unknown", promoted },
    },
  ];
}
