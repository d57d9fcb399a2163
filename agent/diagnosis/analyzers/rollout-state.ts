import type { Incident, RolloutCondition } from "../../incident/incident.js";

export type RolloutState = "healthy" | "progressing" | "failed";

export function condition(incident: Incident, type: string): RolloutCondition | undefined {
  return incident.rollout.conditions.find((c) => c.type === type);
}

export function progressDeadlineExceeded(incident: Incident): RolloutCondition | undefined {
  const progressing = condition(incident, "Progressing");
  return progressing?.reason === "ProgressDeadlineExceeded" ? progressing : undefined;
}

export function invalidSpec(incident: Incident): RolloutCondition | undefined {
  const invalid = condition(incident, "InvalidSpec");
  return invalid?.status === "True" ? invalid : undefined;
}

/**
 * Where the rollout stands now. A promoted canary (its hash equals stable's) is healthy whatever
 * happened on the way; an abort, a degraded phase or a spent deadline is a failure.
 */
export function rolloutState(incident: Incident): RolloutState {
  const r = incident.rollout;
  const aborted = r.aborted || condition(incident, "Progressing")?.reason === "RolloutAborted";
  if (aborted || r.phase === "Degraded" || invalidSpec(incident) || progressDeadlineExceeded(incident))
    return "failed";
  if (r.phase === "Healthy") return "healthy";
  if (
    r.canaryPodHash &&
    r.canaryPodHash === r.stablePodHash &&
    r.phase !== "Progressing" &&
    r.phase !== "Paused"
  ) {
    return "healthy";
  }
  return "progressing";
}
