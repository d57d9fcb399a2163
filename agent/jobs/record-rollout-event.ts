import { hostname } from "node:os";
import { ClusterError } from "../errors.js";
import type { KubeApiClient, KubernetesApiCall } from "./kube-api-client.js";
import { statusMessage } from "./kube-api-client.js";

export const RECORD_ROLLOUT_EVENT_API_CALLS: readonly KubernetesApiCall[] = [
  { verb: "create", group: "", resource: "events" },
];

export interface RolloutEventInput {
  rollout: { namespace: string; name: string; uid?: string };
  type: "Normal" | "Warning";
  /** UpperCamelCase, as Kubernetes reasons are: "RemediationJobCreated", "PullRequestOpened". */
  reason: string;
  message: string;
  /** What was done, in one word ("Create", "Open"). */
  action?: string;
  /** The object the event is about besides the Rollout (the Job, ...). */
  related?: { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string };
  reportingInstance?: string;
}

const COMPONENT = "rollout-medic";
const MAX_MESSAGE = 1024;

/**
 * Records a core/v1 Event on a Rollout, as the Argo Rollouts controller records its own, so that
 * `kubectl describe rollout` and `kubectl argo rollouts get rollout` show what rollout-medic did.
 * Returns the Event's name.
 */
export async function recordRolloutEvent(client: KubeApiClient, input: RolloutEventInput): Promise<string> {
  const now = new Date();
  const timestamp = now.toISOString().replace(/\.\d+Z$/, "Z");
  // client-go names events "<object>.<unix nanoseconds in hex>"; the name must stay a DNS subdomain.
  const suffix = (
    BigInt(now.getTime()) * 1_000_000n +
    BigInt(Math.floor(Math.random() * 1_000_000))
  ).toString(16);
  const name = `${input.rollout.name.slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, "")}.${suffix}`;
  const event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: input.rollout.namespace },
    involvedObject: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      namespace: input.rollout.namespace,
      name: input.rollout.name,
      ...(input.rollout.uid ? { uid: input.rollout.uid } : {}),
    },
    type: input.type,
    reason: input.reason,
    message:
      input.message.length > MAX_MESSAGE ? `${input.message.slice(0, MAX_MESSAGE - 3)}...` : input.message,
    source: { component: COMPONENT },
    reportingComponent: COMPONENT,
    reportingInstance: input.reportingInstance ?? hostname(),
    ...(input.action ? { action: input.action } : {}),
    ...(input.related ? { related: input.related } : {}),
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    count: 1,
  };
  const response = await client.request(
    "POST",
    `/api/v1/namespaces/${encodeURIComponent(input.rollout.namespace)}/events`,
    event,
  );
  if (response.status === 201 || response.status === 200) return name;
  const message = statusMessage(response.body);
  throw new ClusterError(
    `the Kubernetes API refused to record an Event on Rollout ${input.rollout.namespace}/${input.rollout.name} (${response.status}${message ? `: ${message}` : ""})`,
    { status: response.status, verb: "create", resource: "events" },
  );
}
