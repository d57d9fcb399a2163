import type { KubeObject } from "../cluster/kube-object.js";
import type { LogExcerpt } from "../logs/reduce-logs.js";

export type PodRole = "canary" | "stable" | "other";

export interface TerminationState {
  reason?: string;
  message?: string;
  exitCode?: number;
  signal?: number;
  finishedAt?: string;
}

export interface ContainerSnapshot {
  name: string;
  image: string;
  init: boolean;
  sidecar: boolean;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: "waiting" | "running" | "terminated" | "unknown";
  reason?: string;
  message?: string;
  exitCode?: number;
  lastTermination?: TerminationState;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PodSnapshot {
  name: string;
  role: PodRole;
  podHash?: string;
  phase: string;
  reason?: string;
  message?: string;
  nodeName?: string;
  conditions: PodCondition[];
  containers: ContainerSnapshot[];
}

export interface ReplicaSetSnapshot {
  name: string;
  role: PodRole;
  podHash?: string;
  revision?: string;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  images: string[];
}

export interface Measurement {
  phase: string;
  value?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface MetricResult {
  name: string;
  phase: string;
  message?: string;
  provider?: string;
  query?: string;
  successCondition?: string;
  failureCondition?: string;
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  measurements: Measurement[];
}

export interface AnalysisRunSnapshot {
  name: string;
  phase: string;
  message?: string;
  kind: "step" | "background" | "prePromotion" | "postPromotion" | "unknown";
  podHash?: string;
  revision?: string;
  metrics: MetricResult[];
}

export interface EventSnapshot {
  type: string;
  reason: string;
  message: string;
  count: number;
  object: { kind: string; name: string };
  source?: string;
  firstSeen?: string;
  lastSeen?: string;
}

export interface LogSnapshot {
  pod: string;
  container: string;
  role: PodRole;
  previous: boolean;
  excerpt: LogExcerpt;
}

export interface ProbeSpec {
  kind: "readiness" | "liveness" | "startup";
  type: "httpGet" | "tcpSocket" | "grpc" | "exec" | "unknown";
  port?: number | string;
  path?: string;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  ports: { name?: string; containerPort: number; protocol?: string }[];
  limits: Record<string, string>;
  requests: Record<string, string>;
  probes: ProbeSpec[];
  envFrom: { configMap?: string; secret?: string; optional?: boolean }[];
  envRefs: { name: string; configMap?: string; secret?: string; key?: string; optional?: boolean }[];
}

export interface RolloutCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface CanaryStep {
  index: number;
  kind: string;
  detail: string;
}

export interface RolloutSnapshot {
  namespace: string;
  name: string;
  uid?: string;
  revision?: string;
  generation?: number;
  observedGeneration?: string;
  phase?: string;
  message?: string;
  aborted: boolean;
  paused: boolean;
  strategy: "canary" | "blueGreen" | "unknown";
  canaryPodHash?: string;
  stablePodHash?: string;
  currentStepIndex?: number;
  steps: CanaryStep[];
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions: RolloutCondition[];
  containers: ContainerSpec[];
  annotations: Record<string, string>;
}

/** A note that untrusted text was withheld from outputs because it read like instructions to an AI. */
export interface QuarantineNote {
  source: string;
  lines: number;
}

/**
 * Everything known about one failed canary, gathered once and then only read.
 * All text in it has been redacted; `raw` objects are redacted copies kept for rendering and snapshots.
 */
export interface Incident {
  source: string;
  gatheredAt: string;
  rollout: RolloutSnapshot;
  replicaSets: ReplicaSetSnapshot[];
  pods: PodSnapshot[];
  analysisRuns: AnalysisRunSnapshot[];
  events: EventSnapshot[];
  logs: LogSnapshot[];
  /** Things that could not be read, with the reason; the diagnosis still runs on the rest. */
  warnings: string[];
  quarantined: QuarantineNote[];
  raw: {
    rollout: KubeObject;
    replicaSets: KubeObject[];
    pods: KubeObject[];
    analysisRuns: KubeObject[];
    events: KubeObject[];
  };
}
