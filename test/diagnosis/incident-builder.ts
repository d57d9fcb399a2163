import type {
  AnalysisRunSnapshot,
  ContainerSnapshot,
  ContainerSpec,
  EventSnapshot,
  Incident,
  LogSnapshot,
  MetricResult,
  PodRole,
  PodSnapshot,
  ReplicaSetSnapshot,
  RolloutSnapshot,
} from "../../agent/incident/incident.js";
import type { LogExcerpt } from "../../agent/logs/reduce-logs.js";

export const CANARY_HASH = "6c9f7d8b5";
export const STABLE_HASH = "5b8e6c7a4";

export function containerSpec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: "app",
    image: "registry.example.com/shop/checkout:1.4.0",
    ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
    limits: { memory: "256Mi", cpu: "500m" },
    requests: { memory: "128Mi", cpu: "100m" },
    probes: [
      { kind: "readiness", type: "httpGet", port: "http", path: "/ready", periodSeconds: 5 },
      {
        kind: "liveness",
        type: "httpGet",
        port: "http",
        path: "/healthz",
        initialDelaySeconds: 10,
        periodSeconds: 10,
        failureThreshold: 3,
      },
    ],
    envFrom: [],
    envRefs: [],
    ...overrides,
  };
}

export function rollout(overrides: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  return {
    namespace: "shop",
    name: "checkout",
    revision: "7",
    phase: "Degraded",
    message: "RolloutAborted: Rollout aborted update to revision 7",
    aborted: true,
    paused: false,
    strategy: "canary",
    canaryPodHash: CANARY_HASH,
    stablePodHash: STABLE_HASH,
    currentStepIndex: 0,
    steps: [{ index: 0, kind: "setWeight", detail: "set weight 20%" }],
    replicas: 5,
    conditions: [
      { type: "Progressing", status: "False", reason: "RolloutAborted", message: "Rollout aborted" },
    ],
    containers: [containerSpec()],
    annotations: {},
    ...overrides,
  };
}

export function container(overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return {
    name: "app",
    image: "registry.example.com/shop/checkout:1.4.0",
    init: false,
    sidecar: false,
    ready: true,
    started: true,
    restartCount: 0,
    state: "running",
    ...overrides,
  };
}

export function pod(
  name: string,
  role: PodRole,
  containers: ContainerSnapshot[] = [container()],
  overrides: Partial<PodSnapshot> = {},
): PodSnapshot {
  const ready = containers.every((c) => c.ready);
  return {
    name,
    role,
    podHash: role === "canary" ? CANARY_HASH : role === "stable" ? STABLE_HASH : undefined,
    phase: "Running",
    nodeName: "node-1",
    conditions: [
      { type: "PodScheduled", status: "True" },
      { type: "Ready", status: ready ? "True" : "False", ...(ready ? {} : { reason: "ContainersNotReady" }) },
    ],
    containers,
    ...overrides,
  };
}

export function stablePod(name = `checkout-${STABLE_HASH}-aaaaa`): PodSnapshot {
  return pod(name, "stable", [container({ image: "registry.example.com/shop/checkout:1.3.2" })]);
}

export function replicaSet(role: PodRole, overrides: Partial<ReplicaSetSnapshot> = {}): ReplicaSetSnapshot {
  const hash = role === "canary" ? CANARY_HASH : STABLE_HASH;
  return {
    name: `checkout-${hash}`,
    role,
    podHash: hash,
    revision: role === "canary" ? "7" : "6",
    replicas: 1,
    readyReplicas: role === "canary" ? 0 : 4,
    availableReplicas: role === "canary" ? 0 : 4,
    images: [
      role === "canary"
        ? "registry.example.com/shop/checkout:1.4.0"
        : "registry.example.com/shop/checkout:1.3.2",
    ],
    ...overrides,
  };
}

export function event(
  kind: string,
  name: string,
  reason: string,
  message: string,
  overrides: Partial<EventSnapshot> = {},
): EventSnapshot {
  return {
    type: "Warning",
    reason,
    message,
    count: 1,
    object: { kind, name },
    source: "kubelet",
    ...overrides,
  };
}

export function log(
  podName: string,
  role: PodRole,
  lines: string[],
  overrides: Partial<Omit<LogSnapshot, "excerpt">> = {},
): LogSnapshot {
  const text = lines.join("\n");
  // Only the text matters to the diagnosis; the reducer's bookkeeping is irrelevant here.
  const excerpt = { text } as unknown as LogExcerpt;
  return { pod: podName, container: "app", role, previous: false, excerpt, ...overrides };
}

export function metric(overrides: Partial<MetricResult> = {}): MetricResult {
  return {
    name: "success-rate",
    phase: "Failed",
    provider: "prometheus",
    query: 'sum(rate(http_requests_total{status!~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    successCondition: "result[0] >= 0.95",
    count: 3,
    successful: 0,
    failed: 3,
    inconclusive: 0,
    error: 0,
    measurements: [
      { phase: "Failed", value: "[0.71]" },
      { phase: "Failed", value: "[0.64]" },
    ],
    ...overrides,
  };
}

export function analysisRun(
  metrics: MetricResult[],
  overrides: Partial<AnalysisRunSnapshot> = {},
): AnalysisRunSnapshot {
  return {
    name: `checkout-${CANARY_HASH}-7-1`,
    phase: metrics.some((m) => m.phase === "Failed") ? "Failed" : "Successful",
    message: metrics.some((m) => m.phase === "Failed")
      ? `metric "${metrics[0]?.name}" assessed Failed`
      : undefined,
    kind: "background",
    podHash: CANARY_HASH,
    revision: "7",
    metrics,
    ...overrides,
  };
}

export interface IncidentParts {
  rollout?: Partial<RolloutSnapshot>;
  replicaSets?: ReplicaSetSnapshot[];
  pods?: PodSnapshot[];
  analysisRuns?: AnalysisRunSnapshot[];
  events?: EventSnapshot[];
  logs?: LogSnapshot[];
  rawStableContainers?: unknown[];
}

/** A small, consistent Incident: an aborted canary of shop/checkout with one stable pod. */
export function incident(parts: IncidentParts = {}): Incident {
  const r = rollout(parts.rollout);
  const replicaSets = parts.replicaSets ?? [replicaSet("canary"), replicaSet("stable")];
  return {
    source: "test",
    gatheredAt: "2024-05-01T10:00:00.000Z",
    rollout: r,
    replicaSets,
    pods: parts.pods ?? [],
    analysisRuns: parts.analysisRuns ?? [],
    events: parts.events ?? [],
    logs: parts.logs ?? [],
    warnings: [],
    quarantined: [],
    raw: {
      rollout: {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: { name: r.name, namespace: r.namespace },
      },
      replicaSets: replicaSets.map((rs) => ({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: rs.name,
          namespace: r.namespace,
          labels: { "rollouts-pod-template-hash": rs.podHash ?? "" },
        },
        spec: {
          template: {
            spec: {
              containers:
                rs.role === "stable" && parts.rawStableContainers
                  ? parts.rawStableContainers
                  : rs.images.map((image, i) => ({ name: r.containers[i]?.name ?? `c${i}`, image })),
            },
          },
        },
      })),
      pods: [],
      analysisRuns: [],
      events: [],
    },
  };
}

export const CANARY_POD = `checkout-${CANARY_HASH}-x7k2p`;
export const CANARY_POD_2 = `checkout-${CANARY_HASH}-q9m4z`;
export const STABLE_POD = `checkout-${STABLE_HASH}-aaaaa`;
