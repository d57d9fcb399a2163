import type { KubeObject } from "../cluster/kube-object.js";
import type {
  AnalysisRunSnapshot,
  CanaryStep,
  ContainerSnapshot,
  ContainerSpec,
  EventSnapshot,
  MetricResult,
  PodRole,
  PodSnapshot,
  ProbeSpec,
  ReplicaSetSnapshot,
  RolloutSnapshot,
  TerminationState,
} from "./incident.js";

export const POD_HASH_LABEL = "rollouts-pod-template-hash";
export const REVISION_ANNOTATION = "rollout.argoproj.io/revision";

/** Containers injected by meshes and agents: their logs and restarts rarely explain a canary failure. */
const KNOWN_SIDECARS = new Set([
  "istio-proxy",
  "istio-init",
  "linkerd-proxy",
  "linkerd-init",
  "envoy",
  "envoy-sidecar",
  "vault-agent",
  "vault-agent-init",
  "cloudsql-proxy",
  "datadog-agent",
]);

export function isKnownSidecar(name: string): boolean {
  return KNOWN_SIDECARS.has(name);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function str(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function arr(value: unknown): Loose[] {
  return Array.isArray(value) ? value : [];
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== "object" || value === null) return out;
  for (const [key, v] of Object.entries(value)) {
    const s = str(v);
    if (s !== undefined) out[key] = s;
  }
  return out;
}

export function podHashOf(object: KubeObject): string | undefined {
  return object.metadata.labels?.[POD_HASH_LABEL];
}

export function roleOf(hash: string | undefined, rollout: RolloutSnapshot): PodRole {
  if (!hash) return "other";
  // A promoted canary shares its hash with stable: treat it as stable so that "healthy" reads as such.
  if (hash === rollout.stablePodHash) return "stable";
  if (hash === rollout.canaryPodHash) return "canary";
  return "other";
}

function readProbe(kind: ProbeSpec["kind"], probe: Loose): ProbeSpec | null {
  if (!probe || typeof probe !== "object") return null;
  const type: ProbeSpec["type"] = probe.httpGet
    ? "httpGet"
    : probe.tcpSocket
      ? "tcpSocket"
      : probe.grpc
        ? "grpc"
        : probe.exec
          ? "exec"
          : "unknown";
  const target = probe.httpGet ?? probe.tcpSocket ?? probe.grpc ?? {};
  return {
    kind,
    type,
    port: typeof target.port === "number" || typeof target.port === "string" ? target.port : undefined,
    path: str(target.path),
    initialDelaySeconds: num(probe.initialDelaySeconds),
    periodSeconds: num(probe.periodSeconds),
    timeoutSeconds: num(probe.timeoutSeconds),
    failureThreshold: num(probe.failureThreshold),
  };
}

export function readContainerSpec(container: Loose): ContainerSpec {
  const probes = [
    readProbe("readiness", container.readinessProbe),
    readProbe("liveness", container.livenessProbe),
    readProbe("startup", container.startupProbe),
  ].filter((p): p is ProbeSpec => p !== null);
  return {
    name: str(container.name) ?? "",
    image: str(container.image) ?? "",
    ports: arr(container.ports).map((p) => ({
      name: str(p.name),
      containerPort: num(p.containerPort) ?? 0,
      protocol: str(p.protocol),
    })),
    limits: stringMap(container.resources?.limits),
    requests: stringMap(container.resources?.requests),
    probes,
    envFrom: arr(container.envFrom).map((e) => ({
      configMap: str(e.configMapRef?.name),
      secret: str(e.secretRef?.name),
      optional: Boolean(e.configMapRef?.optional ?? e.secretRef?.optional),
    })),
    envRefs: arr(container.env)
      .filter((e) => e.valueFrom)
      .map((e) => ({
        name: str(e.name) ?? "",
        configMap: str(e.valueFrom?.configMapKeyRef?.name),
        secret: str(e.valueFrom?.secretKeyRef?.name),
        key: str(e.valueFrom?.configMapKeyRef?.key ?? e.valueFrom?.secretKeyRef?.key),
        optional: Boolean(e.valueFrom?.configMapKeyRef?.optional ?? e.valueFrom?.secretKeyRef?.optional),
      })),
  };
}

function describeStep(step: Loose): { kind: string; detail: string } {
  const kind = Object.keys(step ?? {})[0] ?? "unknown";
  const value = step?.[kind];
  if (kind === "setWeight") return { kind, detail: `set weight ${value}%` };
  if (kind === "pause")
    return { kind, detail: value?.duration ? `pause ${value.duration}` : "pause (manual)" };
  if (kind === "analysis") {
    const names = arr(value?.templates).map((t) => t.templateName ?? t.clusterTemplateName);
    return { kind, detail: `analysis ${names.join(", ")}` };
  }
  if (kind === "experiment") return { kind, detail: "experiment" };
  if (kind === "setCanaryScale") return { kind, detail: "set canary scale" };
  return { kind, detail: kind };
}

export function readRollout(object: KubeObject): RolloutSnapshot {
  const spec: Loose = object.spec ?? {};
  const status: Loose = object.status ?? {};
  const strategy = spec.strategy?.canary ? "canary" : spec.strategy?.blueGreen ? "blueGreen" : "unknown";
  const steps: CanaryStep[] = arr(spec.strategy?.canary?.steps).map((step, index) => ({
    index,
    ...describeStep(step),
  }));
  const containers = arr(spec.template?.spec?.containers).map(readContainerSpec);
  return {
    namespace: object.metadata.namespace ?? "default",
    name: object.metadata.name,
    uid: object.metadata.uid,
    revision: object.metadata.annotations?.[REVISION_ANNOTATION],
    generation: num(object.metadata.generation),
    observedGeneration: str(status.observedGeneration),
    phase: str(status.phase),
    message: str(status.message),
    aborted: status.abort === true,
    paused: spec.paused === true || arr(status.pauseConditions).length > 0,
    strategy,
    canaryPodHash: str(status.currentPodHash),
    stablePodHash: str(status.stableRS),
    currentStepIndex: num(status.currentStepIndex),
    steps,
    replicas: num(spec.replicas),
    readyReplicas: num(status.readyReplicas),
    updatedReplicas: num(status.updatedReplicas),
    availableReplicas: num(status.availableReplicas),
    conditions: arr(status.conditions).map((c) => ({
      type: str(c.type) ?? "",
      status: str(c.status) ?? "",
      reason: str(c.reason),
      message: str(c.message),
      lastTransitionTime: str(c.lastTransitionTime),
    })),
    containers,
    annotations: stringMap(object.metadata.annotations),
  };
}

export function readReplicaSet(object: KubeObject, rollout: RolloutSnapshot): ReplicaSetSnapshot {
  const hash = podHashOf(object);
  return {
    name: object.metadata.name,
    role: roleOf(hash, rollout),
    podHash: hash,
    revision: object.metadata.annotations?.[REVISION_ANNOTATION],
    replicas: num(object.status?.replicas) ?? 0,
    readyReplicas: num(object.status?.readyReplicas) ?? 0,
    availableReplicas: num(object.status?.availableReplicas) ?? 0,
    images: arr(object.spec?.template?.spec?.containers).map((c) => str(c.image) ?? ""),
  };
}

function readTermination(terminated: Loose): TerminationState | undefined {
  if (!terminated || typeof terminated !== "object") return undefined;
  return {
    reason: str(terminated.reason),
    message: str(terminated.message),
    exitCode: num(terminated.exitCode),
    signal: num(terminated.signal),
    finishedAt: str(terminated.finishedAt),
  };
}

function readContainerStatus(status: Loose, init: boolean, images: Map<string, string>): ContainerSnapshot {
  const name = str(status.name) ?? "";
  const state: Loose = status.state ?? {};
  const which = state.waiting
    ? "waiting"
    : state.running
      ? "running"
      : state.terminated
        ? "terminated"
        : "unknown";
  const current = state.waiting ?? state.terminated ?? {};
  return {
    name,
    image: str(status.image) ?? images.get(name) ?? "",
    init,
    sidecar: isKnownSidecar(name),
    ready: status.ready === true,
    started: typeof status.started === "boolean" ? status.started : undefined,
    restartCount: num(status.restartCount) ?? 0,
    state: which,
    reason: str(current.reason),
    message: str(current.message),
    exitCode: num(current.exitCode),
    lastTermination: readTermination(status.lastState?.terminated),
  };
}

export function readPod(object: KubeObject, rollout: RolloutSnapshot): PodSnapshot {
  const hash = podHashOf(object);
  const status: Loose = object.status ?? {};
  const images = new Map<string, string>();
  for (const c of [...arr(object.spec?.initContainers), ...arr(object.spec?.containers)]) {
    images.set(str(c.name) ?? "", str(c.image) ?? "");
  }
  const declared = arr(object.spec?.containers).map((c) => str(c.name) ?? "");
  const statuses = arr(status.containerStatuses).map((s) => readContainerStatus(s, false, images));
  // A pod that never started has no container statuses: list its containers so analyzers see them.
  for (const name of declared) {
    if (!statuses.some((s) => s.name === name)) {
      statuses.push({
        name,
        image: images.get(name) ?? "",
        init: false,
        sidecar: isKnownSidecar(name),
        ready: false,
        restartCount: 0,
        state: "unknown",
      });
    }
  }
  return {
    name: object.metadata.name,
    role: roleOf(hash, rollout),
    podHash: hash,
    phase: str(status.phase) ?? "Unknown",
    reason: str(status.reason),
    message: str(status.message),
    nodeName: str(object.spec?.nodeName),
    conditions: arr(status.conditions).map((c) => ({
      type: str(c.type) ?? "",
      status: str(c.status) ?? "",
      reason: str(c.reason),
      message: str(c.message),
    })),
    containers: [
      ...arr(status.initContainerStatuses).map((s) => readContainerStatus(s, true, images)),
      ...statuses,
    ],
  };
}

function metricProvider(metric: Loose): { provider?: string; query?: string } {
  const provider: Loose = metric?.provider ?? {};
  const name = Object.keys(provider)[0];
  if (!name) return {};
  const p = provider[name] ?? {};
  return { provider: name, query: str(p.query) ?? str(p.url) ?? str(p.address) };
}

export function readAnalysisRun(object: KubeObject): AnalysisRunSnapshot {
  const specMetrics = new Map<string, Loose>();
  for (const m of arr(object.spec?.metrics)) specMetrics.set(str(m.name) ?? "", m);
  const type = object.metadata.labels?.["rollout-type"];
  const kind: AnalysisRunSnapshot["kind"] =
    type === "Step"
      ? "step"
      : type === "Background"
        ? "background"
        : type === "PrePromotion"
          ? "prePromotion"
          : type === "PostPromotion"
            ? "postPromotion"
            : "unknown";
  const metrics: MetricResult[] = arr(object.status?.metricResults).map((r) => {
    const spec = specMetrics.get(str(r.name) ?? "");
    return {
      name: str(r.name) ?? "",
      phase: str(r.phase) ?? "",
      message: str(r.message),
      ...metricProvider(spec),
      successCondition: str(spec?.successCondition),
      failureCondition: str(spec?.failureCondition),
      count: num(r.count) ?? 0,
      successful: num(r.successful) ?? 0,
      failed: num(r.failed) ?? 0,
      inconclusive: num(r.inconclusive) ?? 0,
      error: num(r.error) ?? 0,
      measurements: arr(r.measurements).map((m) => ({
        phase: str(m.phase) ?? "",
        value: str(m.value),
        message: str(m.message),
        startedAt: str(m.startedAt),
        finishedAt: str(m.finishedAt),
      })),
    };
  });
  return {
    name: object.metadata.name,
    phase: str(object.status?.phase) ?? "Unknown",
    message: str(object.status?.message),
    kind,
    podHash: podHashOf(object),
    revision: object.metadata.annotations?.[REVISION_ANNOTATION],
    metrics,
  };
}

export function readEvent(object: KubeObject): EventSnapshot {
  const involved: Loose = object.involvedObject ?? object.regarding ?? {};
  const source: Loose = object.source ?? {};
  return {
    type: str(object.type) ?? "Normal",
    reason: str(object.reason) ?? "",
    message: str(object.message) ?? str(object.note) ?? "",
    count: num(object.count) ?? num((object.series as Loose)?.count) ?? 1,
    object: { kind: str(involved.kind) ?? "", name: str(involved.name) ?? "" },
    source: str(source.component) ?? str(object.reportingComponent) ?? str(object.reportingController),
    firstSeen: str(object.firstTimestamp) ?? str(object.eventTime),
    lastSeen: str(object.lastTimestamp) ?? str(object.eventTime),
  };
}
