import { z } from "zod";
import { ROLLOUT_EVENTS } from "../jobs/rollout-failure.js";
import type { RolloutEvent, RolloutFailure } from "../jobs/rollout-failure.js";

/** Set to "false" on a Rollout to keep rollout-medic away from it; the run command checks it too. */
export const ENABLED_ANNOTATION = "rollout-medic.dev/enabled";
export const REVISION_ANNOTATION = "rollout.argoproj.io/revision";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// rollouts-pod-template-hash: a safe-encoded 32-bit hash, 10 characters or fewer.
const POD_HASH = /^[a-z0-9]{1,20}$/;
const REVISION = /^[1-9][0-9]{0,9}$/;
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const namespace = z.string().max(63).regex(DNS_LABEL, "must be a Kubernetes namespace name");
const name = z.string().max(253).regex(DNS_SUBDOMAIN, "must be a Kubernetes object name");
const uid = z.string().regex(UID, "must be a Kubernetes uid");
const revision = z.string().regex(REVISION, "must be the rollout.argoproj.io/revision annotation (digits)");
const podHash = z.string().regex(POD_HASH, "must be a rollouts-pod-template-hash");
// A first deployment has no stable ReplicaSet; Argo's template renders a missing field as "" or null.
const optionalPodHash = z.union([podHash, z.literal(""), z.null()]).optional();
const event = z.enum(ROLLOUT_EVENTS);

/** The compact body of deploy/notifications/ (schema version 1). */
const CompactBody = z.object({
  schemaVersion: z.literal("1"),
  event,
  namespace,
  name,
  uid,
  revision,
  canaryPodHash: podHash,
  stablePodHash: optionalPodHash,
});

/** `{"rollout": {{toJson .rollout}}}`: the Rollout as Argo has it; only the fields used are read. */
const RolloutDumpBody = z.object({
  event: event.optional(),
  rollout: z.object({
    metadata: z.object({
      namespace,
      name,
      uid,
      annotations: z.record(z.string(), z.string()).optional(),
    }),
    status: z.object({
      currentPodHash: podHash,
      stableRS: optionalPodHash,
      abort: z.boolean().optional(),
      phase: z.string().optional(),
    }),
  }),
});

export type ParsedNotification =
  | { ok: true; failure: RolloutFailure; disabled: boolean }
  | { ok: false; message: string; issues: { path: string; message: string }[] };

function invalid(error: z.ZodError): ParsedNotification {
  const issues = error.issues.slice(0, 10).map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
  const first = issues[0]!;
  return { ok: false, message: `${first.path}: ${first.message}`, issues };
}

function invalidMessage(path: string, message: string): ParsedNotification {
  return { ok: false, message: `${path}: ${message}`, issues: [{ path, message }] };
}

/**
 * Validates a notification in either form. `pathEvent` is the `:event` of `/v1/rollout-events/:event`;
 * when the body names an event too, both must agree.
 */
export function parseRolloutNotification(body: unknown, pathEvent?: string): ParsedNotification {
  let fromPath: RolloutEvent | undefined;
  if (pathEvent !== undefined) {
    const parsed = event.safeParse(pathEvent);
    if (!parsed.success)
      return invalidMessage(
        "event",
        `unknown event "${pathEvent.slice(0, 64)}": use one of ${ROLLOUT_EVENTS.join(", ")}`,
      );
    fromPath = parsed.data;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalidMessage("(body)", "must be a JSON object");
  }
  const agree = (fromBody: RolloutEvent | undefined): RolloutEvent | ParsedNotification => {
    if (fromPath && fromBody && fromPath !== fromBody) {
      return invalidMessage("event", `the path names "${fromPath}" and the body "${fromBody}"`);
    }
    return fromBody ?? fromPath!;
  };
  if ("rollout" in body) {
    const parsed = RolloutDumpBody.safeParse(body);
    if (!parsed.success) return invalid(parsed.error);
    const { metadata, status } = parsed.data.rollout;
    const rev = metadata.annotations?.[REVISION_ANNOTATION];
    const revisionCheck = revision.safeParse(rev);
    if (!revisionCheck.success) {
      return invalidMessage(
        `rollout.metadata.annotations.${REVISION_ANNOTATION}`,
        "must be the Rollout's revision (digits)",
      );
    }
    // Without an event in the body or path, the Rollout's state says which failure this is.
    const inferred: RolloutEvent = status.abort ? "rollout-aborted" : "rollout-degraded";
    const chosen = agree(parsed.data.event ?? (fromPath ? undefined : inferred));
    if (typeof chosen !== "string") return chosen;
    return {
      ok: true,
      failure: {
        event: chosen,
        namespace: metadata.namespace,
        name: metadata.name,
        uid: metadata.uid,
        revision: revisionCheck.data,
        canaryPodHash: status.currentPodHash,
        ...(status.stableRS ? { stablePodHash: status.stableRS } : {}),
      },
      disabled: metadata.annotations?.[ENABLED_ANNOTATION]?.trim().toLowerCase() === "false",
    };
  }
  const parsed = CompactBody.safeParse(body);
  if (!parsed.success) return invalid(parsed.error);
  const chosen = agree(parsed.data.event);
  if (typeof chosen !== "string") return chosen;
  const { stablePodHash, schemaVersion: _version, event: _event, ...rest } = parsed.data;
  return {
    ok: true,
    failure: { ...rest, event: chosen, ...(stablePodHash ? { stablePodHash } : {}) },
    disabled: false,
  };
}
