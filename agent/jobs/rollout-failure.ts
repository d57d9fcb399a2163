import { createHash } from "node:crypto";

/** The notification events rollout-medic acts on; the Argo Rollouts trigger that sends each is in deploy/. */
export const ROLLOUT_EVENTS = [
  "rollout-aborted",
  "analysis-run-failed",
  "analysis-run-error",
  "rollout-degraded",
] as const;

export type RolloutEvent = (typeof ROLLOUT_EVENTS)[number];

/** One failed canary: a Rollout at one revision, identified by the pod template hash of its canary. */
export interface RolloutFailure {
  event: RolloutEvent;
  namespace: string;
  name: string;
  uid: string;
  revision: string;
  canaryPodHash: string;
  stablePodHash?: string;
}

/** The deduplication key: a redelivered or repeated notification of the same failure has the same key. */
export function failureKey(
  failure: Pick<RolloutFailure, "namespace" | "name" | "revision" | "canaryPodHash">,
): string {
  return `${failure.namespace}/${failure.name}/${failure.revision}/${failure.canaryPodHash}`;
}

const NAME_PART_LENGTH = 30;
const HASH_LENGTH = 16;

/**
 * The Job's name, the same on every replica so that the API server's AlreadyExists answer deduplicates
 * across them. The Argo Events Sensor in deploy/argo-events/ computes the same name with sprig:
 * `replace "." "-" | trunc 30 | trimSuffix "-"` on the Rollout name, then the first 16 hex digits of
 * sha256 over the key. Keep both in step (a test checks it).
 */
export function jobNameFor(
  failure: Pick<RolloutFailure, "namespace" | "name" | "revision" | "canaryPodHash">,
): string {
  let readable = failure.name.replaceAll(".", "-").slice(0, NAME_PART_LENGTH);
  if (readable.endsWith("-")) readable = readable.slice(0, -1);
  const digest = createHash("sha256").update(failureKey(failure)).digest("hex").slice(0, HASH_LENGTH);
  return `medic-${readable}-${digest}`;
}
