import { ClusterError } from "../errors.js";
import { ANNOTATION } from "./job-template.js";
import type { JobObject } from "./job-template.js";
import type { KubeApiClient, KubernetesApiCall } from "./kube-api-client.js";
import { statusMessage } from "./kube-api-client.js";

export const CREATE_JOB_API_CALLS: readonly KubernetesApiCall[] = [
  { verb: "create", group: "batch", resource: "jobs" },
  { verb: "get", group: "batch", resource: "jobs" },
];

export type CreateJobOutcome = "created" | "exists";

function jobsPath(namespace: string): string {
  return `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`;
}

/**
 * Creates the Job. AlreadyExists means another replica (or an earlier delivery) created it: done, once the
 * existing Job is confirmed to be for the same failure rather than a name collision.
 */
export async function createRemediationJob(client: KubeApiClient, job: JobObject): Promise<CreateJobOutcome> {
  const namespace = job.metadata.namespace ?? "";
  const response = await client.request("POST", jobsPath(namespace), job);
  if (response.status === 201 || response.status === 200) return "created";
  if (response.status === 409) {
    const existing = await client.request(
      "GET",
      `${jobsPath(namespace)}/${encodeURIComponent(job.metadata.name)}`,
    );
    if (existing.status !== 200) {
      throw new ClusterError(
        `Job ${namespace}/${job.metadata.name} exists but cannot be read (${existing.status}): grant "get" on jobs to the receiver`,
        { status: existing.status, verb: "get", resource: "jobs.batch" },
      );
    }
    const annotations = (existing.body as { metadata?: { annotations?: Record<string, string> } } | undefined)
      ?.metadata?.annotations;
    const wanted = job.metadata.annotations?.[ANNOTATION.failureKey];
    if (annotations?.[ANNOTATION.failureKey] !== wanted) {
      throw new ClusterError(
        `Job ${namespace}/${job.metadata.name} exists for another failure (${annotations?.[ANNOTATION.failureKey] ?? "no failure key"}, wanted ${wanted}): delete it`,
        { status: 409, verb: "create", resource: "jobs.batch" },
      );
    }
    return "exists";
  }
  const message = statusMessage(response.body);
  throw new ClusterError(
    `the Kubernetes API refused to create Job ${namespace}/${job.metadata.name} (${response.status}${message ? `: ${message}` : ""})`,
    { status: response.status, verb: "create", resource: "jobs.batch" },
  );
}
