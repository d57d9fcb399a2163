import type { Category, Diagnosis } from "../../agent/diagnosis/diagnosis.js";
import type {
  ContainerSnapshot,
  EventSnapshot,
  Incident,
  LogSnapshot,
  PodSnapshot,
} from "../../agent/incident/incident.js";
import type { LogExcerpt } from "../../agent/logs/reduce-logs.js";
import { observedRollout } from "../workspace/repo-builder.js";
import type { ObservedContainer } from "../workspace/repo-builder.js";

export const CANARY = "canaryhash";
export const STABLE = "stablehash";

export function diagnosisOf(category: Category): Diagnosis {
  return { category, summary: `test ${category}`, confidence: 0.9, evidence: [], findings: [] };
}

export function containerStatus(overrides: Partial<ContainerSnapshot> & { name: string }): ContainerSnapshot {
  return {
    image: "",
    init: false,
    sidecar: false,
    ready: false,
    restartCount: 0,
    state: "running",
    ...overrides,
  };
}

export function pod(name: string, role: "canary" | "stable", containers: ContainerSnapshot[]): PodSnapshot {
  return {
    name,
    role,
    podHash: role === "canary" ? CANARY : STABLE,
    phase: "Running",
    conditions: [],
    containers,
  };
}

export function event(reason: string, message: string, count = 1, object = "app-canary-1"): EventSnapshot {
  return { type: "Warning", reason, message, count, object: { kind: "Pod", name: object } };
}

export function log(podName: string, container: string, text: string, previous = false): LogSnapshot {
  return { pod: podName, container, role: "canary", previous, excerpt: { text } as unknown as LogExcerpt };
}

/** An Incident as gatherIncident would build it, from the parts a playbook reads. */
export function incidentOf(options: {
  namespace?: string;
  name?: string;
  containers: ObservedContainer[];
  stableContainers?: { name: string; image: string }[];
  pods?: PodSnapshot[];
  events?: EventSnapshot[];
  logs?: LogSnapshot[];
}): Incident {
  const rollout = {
    ...observedRollout(options.namespace ?? "shop", options.name ?? "app", options.containers),
    canaryPodHash: CANARY,
    stablePodHash: STABLE,
  };
  const stable =
    options.stableContainers ?? options.containers.map((c) => ({ name: c.name, image: c.image }));
  const stableRs = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: `${rollout.name}-${STABLE}`, labels: { "rollouts-pod-template-hash": STABLE } },
    spec: { template: { spec: { containers: stable } } },
  };
  return {
    source: "test",
    gatheredAt: new Date(0).toISOString(),
    rollout,
    replicaSets: [
      {
        name: `${rollout.name}-${CANARY}`,
        role: "canary",
        podHash: CANARY,
        replicas: 1,
        readyReplicas: 0,
        availableReplicas: 0,
        images: options.containers.map((c) => c.image),
      },
      {
        name: `${rollout.name}-${STABLE}`,
        role: "stable",
        podHash: STABLE,
        replicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        images: stable.map((c) => c.image),
      },
    ],
    pods: options.pods ?? [],
    analysisRuns: [],
    events: options.events ?? [],
    logs: options.logs ?? [],
    warnings: [],
    quarantined: [],
    raw: {
      rollout: {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: { name: rollout.name, namespace: rollout.namespace },
      },
      replicaSets: [stableRs],
      pods: [],
      analysisRuns: [],
      events: [],
    },
  };
}

/** Two canary pods whose container was OOMKilled (exit 137). */
export function oomPods(container = "app"): PodSnapshot[] {
  const killed = () =>
    containerStatus({
      name: container,
      restartCount: 3,
      lastTermination: { reason: "OOMKilled", exitCode: 137 },
    });
  return [pod("app-canary-1", "canary", [killed()]), pod("app-canary-2", "canary", [killed()])];
}
