import { createHash } from "node:crypto";

export const BRANCH_PREFIX = "rollout-medic/";
export const MAX_BRANCH_LENGTH = 100;

export interface BranchNameInput {
  namespace: string;
  rollout: string;
  /** The canary's `rollouts-pod-template-hash`: one failed pod template, one branch. */
  canaryPodHash?: string;
  /** Used only when the pod hash is unknown, so the branch still names one canary. */
  revision?: string;
}

/**
 * The branch is the idempotency key: a retried Job or a redelivered notification for the same
 * canary lands on the same branch and updates its pull request instead of opening a second one.
 * So the name depends only on the input, never on time or on run state.
 */
export function branchNameFor(input: BranchNameInput): string {
  const namespace = sanitizeSegment(input.namespace);
  const rollout = sanitizeSegment(input.rollout);
  const hash = input.canaryPodHash ? sanitizeSegment(input.canaryPodHash) : "";
  const tail = hash !== "" ? hash : input.revision ? `rev${sanitizeSegment(input.revision)}` : "unknown";

  const lossy =
    namespace === "" ||
    rollout === "" ||
    namespace !== input.namespace ||
    rollout !== input.rollout ||
    (input.canaryPodHash !== undefined && input.canaryPodHash !== "" && hash !== input.canaryPodHash);
  const plain = `${BRANCH_PREFIX}${namespace}/${rollout}-${tail}`;
  if (!lossy && plain.length <= MAX_BRANCH_LENGTH) return plain;

  // Sanitising or shortening can make two odd names meet; a digest of the raw input keeps them apart.
  const digest = createHash("sha256")
    .update(JSON.stringify([input.namespace, input.rollout, input.canaryPodHash ?? "", input.revision ?? ""]))
    .digest("hex")
    .slice(0, 8);
  const suffix = `-${tail.slice(0, 16)}-${digest}`;
  const room = MAX_BRANCH_LENGTH - BRANCH_PREFIX.length - "/".length - suffix.length;
  const namespaceRoom = Math.max(8, Math.min(namespace.length, Math.floor(room / 2)));
  const shortNamespace = trimSegment(namespace.slice(0, namespaceRoom).replace(/\.lock$/, "")) || "ns";
  const shortRollout = trimSegment(rollout.slice(0, room - shortNamespace.length)) || "rollout";
  return `${BRANCH_PREFIX}${shortNamespace}/${shortRollout}${suffix}`;
}

/** One path component that `git check-ref-format` accepts and every file system keeps apart. */
function sanitizeSegment(value: string): string {
  const replaced = value
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/-{2,}/g, "-");
  return trimSegment(replaced.endsWith(".lock") ? replaced.slice(0, -".lock".length) : replaced);
}

function trimSegment(value: string): string {
  return value.replace(/^[.-]+/, "").replace(/[.-]+$/, "");
}
