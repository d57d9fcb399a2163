import { Job } from "kubernetes-models/batch/v1/Job";
import type { KubeObject } from "../cluster/kube-object.js";
import { EXIT } from "../errors.js";
import { failureKey, jobNameFor } from "./rollout-failure.js";
import type { RolloutFailure } from "./rollout-failure.js";

/** The container the receiver fills in: its args name the Rollout. */
export const JOB_CONTAINER_NAME = "rollout-medic";

export const LABEL = {
  rolloutNamespace: "rollout-medic.dev/rollout-namespace",
  rolloutName: "rollout-medic.dev/rollout-name",
  revision: "rollout-medic.dev/revision",
  canaryPodHash: "rollout-medic.dev/canary-pod-hash",
} as const;

export const ANNOTATION = {
  rollout: "rollout-medic.dev/rollout",
  rolloutUid: "rollout-medic.dev/rollout-uid",
  event: "rollout-medic.dev/event",
  stablePodHash: "rollout-medic.dev/stable-pod-hash",
  failureKey: "rollout-medic.dev/failure-key",
} as const;

export interface JobTemplateSettings {
  image: string;
  serviceAccount: string;
  secretName: string;
  ttlSecondsAfterFinished: number;
  backoffLimit: number;
  activeDeadlineSeconds: number;
}

/** The Job as the API returns it, loosely typed: the template may carry any Job field. */
export interface JobObject extends KubeObject {
  spec: {
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpecLike;
    };
    [key: string]: unknown;
  };
}

interface PodSpecLike {
  containers: { name: string; args?: string[]; [key: string]: unknown }[];
  restartPolicy?: string;
  [key: string]: unknown;
}

/**
 * Which failures of `rollout-medic run` are retried (see docs/production.md, "Exit codes and retries").
 * First matching rule wins; exit codes not listed count towards backoffLimit like any crash.
 */
export function remediationPodFailurePolicy(): Record<string, unknown> {
  const sorted = (codes: number[]) => [...new Set(codes)].sort((a, b) => a - b);
  return {
    rules: [
      // A drained node, a preemption or an eviction says nothing about the run: start it again, uncounted.
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      {
        // Outcomes of a completed run (an issue filed, nothing to do, a guardrail's refusal) and failures a
        // retry repeats (bad configuration or usage, a bug): running again would redo the same work, file a
        // second issue or spend the model budget on the same crash.
        action: "FailJob",
        onExitCodes: {
          containerName: JOB_CONTAINER_NAME,
          operator: "In",
          values: sorted([
            EXIT.issue,
            EXIT.nothingToDo,
            EXIT.refusedByLimit,
            EXIT.usage,
            EXIT.scenario,
            EXIT.internal,
            EXIT.config,
          ]),
        },
      },
      {
        // The cluster, the git host, the forge or the model endpoint failed: usually transient (a 5xx, a rate
        // limit, a network blip), and the run is idempotent (the branch name is its key).
        action: "Count",
        onExitCodes: {
          containerName: JOB_CONTAINER_NAME,
          operator: "In",
          values: sorted([EXIT.cluster, EXIT.workspace, EXIT.forge, EXIT.model]),
        },
      },
    ],
  };
}

/** The built-in Job template; a ConfigMap's `job.yaml` replaces it as a whole (see job-template-source.ts). */
export function defaultJobTemplate(settings: JobTemplateSettings): JobObject {
  const nonRoot = 65532;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: "rollout-medic-run",
      labels: { "app.kubernetes.io/name": "rollout-medic", "app.kubernetes.io/component": "remediation" },
    },
    spec: {
      backoffLimit: settings.backoffLimit,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      podFailurePolicy: remediationPodFailurePolicy(),
      template: {
        metadata: {
          labels: { "app.kubernetes.io/name": "rollout-medic", "app.kubernetes.io/component": "remediation" },
          annotations: { "kubectl.kubernetes.io/default-container": JOB_CONTAINER_NAME },
        },
        spec: {
          serviceAccountName: settings.serviceAccount,
          automountServiceAccountToken: true,
          restartPolicy: "Never",
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: nonRoot,
            runAsGroup: nonRoot,
            fsGroup: nonRoot,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: JOB_CONTAINER_NAME,
              image: settings.image,
              imagePullPolicy: "IfNotPresent",
              args: ["run", "--namespace", "NAMESPACE", "--rollout", "NAME"],
              env: [
                // The clone goes to the workspace volume (os.tmpdir()); git needs a writable HOME.
                { name: "TMPDIR", value: "/workspace" },
                { name: "HOME", value: "/tmp" },
                { name: "ROLLOUT_MEDIC_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              // Optional so that a missing Secret fails the run with exit 78 and a message, rather than
              // leaving the pod in CreateContainerConfigError until the deadline.
              envFrom: [{ secretRef: { name: settings.secretName, optional: true } }],
              resources: {
                requests: { cpu: "100m", memory: "256Mi" },
                limits: { cpu: "1", memory: "1Gi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: nonRoot,
                runAsGroup: nonRoot,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              terminationMessagePolicy: "FallbackToLogsOnError",
              volumeMounts: [
                { name: "workspace", mountPath: "/workspace" },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "workspace", emptyDir: { sizeLimit: "2Gi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ],
        },
      },
    },
  };
}

/** A label value: at most 63 characters, alphanumeric at both ends. */
function isLabelValue(value: string): boolean {
  return value.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value);
}

/** Labels that select a failure's Jobs and pods (`kubectl logs -l rollout-medic.dev/rollout-name=checkout`). */
export function rolloutLabels(failure: RolloutFailure): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.rolloutNamespace]: failure.namespace,
    [LABEL.revision]: failure.revision,
    [LABEL.canaryPodHash]: failure.canaryPodHash,
  };
  // Rollout names may be 253 characters long; the annotation always has the full name.
  if (isLabelValue(failure.name)) labels[LABEL.rolloutName] = failure.name;
  return labels;
}

export function rolloutAnnotations(failure: RolloutFailure): Record<string, string> {
  return {
    [ANNOTATION.rollout]: `${failure.namespace}/${failure.name}`,
    [ANNOTATION.rolloutUid]: failure.uid,
    [ANNOTATION.event]: failure.event,
    ...(failure.stablePodHash ? { [ANNOTATION.stablePodHash]: failure.stablePodHash } : {}),
    [ANNOTATION.failureKey]: failureKey(failure),
  };
}

/** The Job for one failure: the template with its name, namespace, links to the Rollout and arguments. */
export function buildRemediationJob(
  template: JobObject,
  failure: RolloutFailure,
  namespace: string,
): JobObject {
  const job = structuredClone(template);
  const labels = rolloutLabels(failure);
  const annotations = rolloutAnnotations(failure);
  const { generateName: _g, resourceVersion: _r, uid: _u, creationTimestamp: _c, ...metadata } = job.metadata;
  job.metadata = {
    ...metadata,
    name: jobNameFor(failure),
    namespace,
    labels: { ...job.metadata.labels, ...labels },
    annotations: { ...job.metadata.annotations, ...annotations },
  };
  const podMetadata = job.spec.template.metadata ?? {};
  job.spec.template.metadata = {
    ...podMetadata,
    labels: { ...podMetadata.labels, ...labels },
    annotations: { ...podMetadata.annotations, [ANNOTATION.rollout]: annotations[ANNOTATION.rollout]! },
  };
  const container = agentContainer(job);
  container.args = ["run", "--namespace", failure.namespace, "--rollout", failure.name];
  return job;
}

function agentContainer(job: JobObject): PodSpecLike["containers"][number] {
  const containers = job.spec.template.spec.containers;
  const named = containers.find((c) => c.name === JOB_CONTAINER_NAME);
  if (named) return named;
  if (containers.length === 1) return containers[0]!;
  throw new Error(`the Job template has several containers and none is named "${JOB_CONTAINER_NAME}"`);
}

/**
 * Checks a Job template from a ConfigMap: the Kubernetes schema (types, enums, required fields) and what
 * the receiver needs to fill it in. Returns the problem in one line, or null.
 */
export function jobTemplateProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "it is not a YAML mapping";
  const object = value as Record<string, unknown>;
  if (object["apiVersion"] !== "batch/v1" || object["kind"] !== "Job") return "it is not a batch/v1 Job";
  const withName = {
    ...object,
    metadata: { ...(object["metadata"] as object | undefined), name: "template-check" },
  };
  try {
    new Job(withName as ConstructorParameters<typeof Job>[0]).validate();
  } catch (error) {
    return (error as Error).message.split("\n")[0]!.slice(0, 300);
  }
  const spec = (object["spec"] ?? {}) as { template?: { spec?: PodSpecLike }; podFailurePolicy?: unknown };
  const podSpec = spec.template?.spec;
  if (!podSpec || !Array.isArray(podSpec.containers) || podSpec.containers.length === 0) {
    return "spec.template.spec.containers is empty";
  }
  if (podSpec.restartPolicy !== "Never" && podSpec.restartPolicy !== "OnFailure") {
    return 'spec.template.spec.restartPolicy must be "Never" (or "OnFailure" without a podFailurePolicy)';
  }
  if (spec.podFailurePolicy !== undefined && podSpec.restartPolicy !== "Never") {
    return 'a podFailurePolicy needs spec.template.spec.restartPolicy "Never"';
  }
  try {
    agentContainer(value as JobObject);
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}
