import { CREATE_JOB_API_CALLS } from "./create-remediation-job.js";
import { JOB_TEMPLATE_API_CALLS } from "./job-template-source.js";
import type { KubernetesApiCall } from "./kube-api-client.js";
import { RECORD_ROLLOUT_EVENT_API_CALLS } from "./record-rollout-event.js";

/** Every resource call `rollout-medic serve` makes: the receiver's RBAC in deploy/ must grant exactly these. */
export const RECEIVER_KUBERNETES_API_CALLS: readonly KubernetesApiCall[] = Object.freeze([
  ...CREATE_JOB_API_CALLS,
  ...JOB_TEMPLATE_API_CALLS,
  ...RECORD_ROLLOUT_EVENT_API_CALLS,
]);

/** Readiness asks the API server's version: a non-resource URL every authenticated user may read. */
export const READINESS_PATH = "/version";
