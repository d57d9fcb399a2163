import type { Cluster, InvolvedObjectRef, RolloutRef } from "../cluster/cluster.js";
import type { KubeObject } from "../cluster/kube-object.js";
import { selectorFromLabels } from "../cluster/label-selector.js";
import { ClusterError } from "../errors.js";
import type { Logger } from "../logger.js";
import { buildLogBaseline, readLogLines, reduceLogs } from "../logs/reduce-logs.js";
import type { LogBaseline } from "../logs/reduce-logs.js";
import { findInjection } from "../redaction/quarantine-injection.js";
import { redactObject } from "../redaction/redact-secrets.js";
import type { Incident, LogSnapshot, PodSnapshot, QuarantineNote } from "./incident.js";
import {
  POD_HASH_LABEL,
  REVISION_ANNOTATION,
  isKnownSidecar,
  readAnalysisRun,
  readEvent,
  readPod,
  readReplicaSet,
  readRollout,
} from "./read-objects.js";

export interface GatherOptions {
  /** Token budget of each log excerpt. */
  logTokenBudget: number;
  /** How many canary pods to read logs from (the rest add little but cost time). */
  maxCanaryPodsForLogs: number;
  /** How many pods to read events for. */
  maxPodsForEvents: number;
  logger?: Logger;
  now?: () => Date;
}

export const DEFAULT_GATHER_OPTIONS: GatherOptions = {
  logTokenBudget: 1500,
  maxCanaryPodsForLogs: 2,
  maxPodsForEvents: 6,
};

function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  const refs = object.metadata.ownerReferences ?? [];
  if (refs.length === 0) return true;
  return refs.some((r) =>
    owner.metadata.uid && r.uid ? r.uid === owner.metadata.uid : r.name === owner.metadata.name,
  );
}

/**
 * rollout-medic's own Events on the Rollout (RemediationJobCreated, RemediationPullRequestOpened, …; see
 * agent/jobs/record-rollout-event.ts) say what it did, not why the canary failed: a second run must see
 * the same incident as the first.
 */
function isOwnEvent(event: KubeObject): boolean {
  const { reportingComponent, source } = event as {
    reportingComponent?: unknown;
    source?: { component?: unknown };
  };
  return reportingComponent === "rollout-medic" || source?.component === "rollout-medic";
}

function rolloutSelector(rollout: KubeObject): string {
  const labels = rollout.spec?.selector?.matchLabels;
  return labels && typeof labels === "object" ? selectorFromLabels(labels as Record<string, string>) : "";
}

function withSelector(base: string, extra: string): string {
  return [base, extra].filter((s) => s !== "").join(",");
}

function podsWorthReading(pods: PodSnapshot[]): PodSnapshot[] {
  // Pods with restarts or waiting containers tell the story first.
  const score = (p: PodSnapshot): number =>
    p.containers.reduce(
      (n, c) => n + c.restartCount * 10 + (c.state === "waiting" ? 5 : 0) + (c.ready ? 0 : 1),
      0,
    );
  return [...pods].sort((a, b) => score(b) - score(a) || a.name.localeCompare(b.name));
}

/**
 * Gathers one Incident for a Rollout by re-reading every object: a notification body is sent before
 * Argo's own status patch and may be stale, so it is never trusted for status.
 */
export async function gatherIncident(
  cluster: Cluster,
  ref: RolloutRef,
  options: Partial<GatherOptions> = {},
): Promise<Incident> {
  const opts = { ...DEFAULT_GATHER_OPTIONS, ...options };
  const warnings: string[] = [];
  const rolloutObject = await cluster.findRollout(ref);
  if (!rolloutObject) {
    throw new ClusterError(
      `Rollout ${ref.namespace}/${ref.name} was not found in ${cluster.source}: check the namespace and name (kubectl get rollouts -n ${ref.namespace})`,
      { status: 404, verb: "get", resource: "rollouts.argoproj.io" },
    );
  }
  const rollout = readRollout(rolloutObject);
  const hashes = [rollout.canaryPodHash, rollout.stablePodHash].filter((h): h is string => Boolean(h));
  const uniqueHashes = [...new Set(hashes)];
  const selector = rolloutSelector(rolloutObject);

  const replicaSetObjects =
    uniqueHashes.length === 0
      ? []
      : (
          await cluster.listReplicaSets(
            ref.namespace,
            withSelector(selector, `${POD_HASH_LABEL} in (${uniqueHashes.join(",")})`),
          )
        ).filter((rs) => ownedBy(rs, rolloutObject));
  const podObjects =
    uniqueHashes.length === 0
      ? []
      : await cluster.listPods(
          ref.namespace,
          withSelector(selector, `${POD_HASH_LABEL} in (${uniqueHashes.join(",")})`),
        );
  const rsNames = new Set(replicaSetObjects.map((rs) => rs.metadata.name));
  const ownedPods = podObjects.filter((p) => {
    const owners = p.metadata.ownerReferences ?? [];
    return owners.length === 0 || owners.some((o) => rsNames.has(o.name));
  });

  const analysisRunObjects = rollout.canaryPodHash
    ? (await cluster.listAnalysisRuns(ref.namespace, `${POD_HASH_LABEL}=${rollout.canaryPodHash}`)).filter(
        (run) =>
          ownedBy(run, rolloutObject) &&
          (!rollout.revision ||
            !run.metadata.annotations?.[REVISION_ANNOTATION] ||
            run.metadata.annotations[REVISION_ANNOTATION] === rollout.revision),
      )
    : [];

  // Lists come back in whatever order the source keeps: sort by name so every run reads the same incident.
  const byName = (a: KubeObject, b: KubeObject) => a.metadata.name.localeCompare(b.metadata.name);
  replicaSetObjects.sort(byName);
  ownedPods.sort(byName);
  analysisRunObjects.sort(byName);
  const replicaSets = replicaSetObjects.map((rs) => readReplicaSet(rs, rollout));
  const pods = ownedPods.map((p) => readPod(p, rollout));
  const analysisRuns = analysisRunObjects.map(readAnalysisRun);

  const involved: InvolvedObjectRef[] = [
    { kind: "Rollout", name: rollout.name, uid: rollout.uid },
    ...replicaSetObjects.map((rs) => ({ kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid })),
    ...podsWorthReading(pods.filter((p) => p.role === "canary"))
      .slice(0, opts.maxPodsForEvents)
      .map((p) => ({ kind: "Pod", name: p.name })),
    ...analysisRunObjects.map((run) => ({
      kind: "AnalysisRun",
      name: run.metadata.name,
      uid: run.metadata.uid,
    })),
  ];
  const eventObjects: KubeObject[] = [];
  const seenEvents = new Set<string>();
  for (const target of involved) {
    for (const event of await cluster.listEvents(ref.namespace, target)) {
      const key = event.metadata.uid ?? `${event.metadata.name}`;
      if (seenEvents.has(key) || isOwnEvent(event)) continue;
      seenEvents.add(key);
      eventObjects.push(event);
    }
  }

  const logs = await gatherLogs(cluster, ref.namespace, pods, opts, warnings);
  // A total order: the API and a scenario list the same events in different orders.
  const sortedEvents = eventObjects
    .map((object) => {
      const redacted = redactObject(object);
      return { redacted, event: readEvent(redacted) };
    })
    .sort(
      (a, b) =>
        (a.event.lastSeen ?? "").localeCompare(b.event.lastSeen ?? "") ||
        a.event.reason.localeCompare(b.event.reason) ||
        `${a.event.object.kind}/${a.event.object.name}`.localeCompare(
          `${b.event.object.kind}/${b.event.object.name}`,
        ) ||
        a.event.message.localeCompare(b.event.message) ||
        a.redacted.metadata.name.localeCompare(b.redacted.metadata.name),
    );
  const redactedEvents = sortedEvents.map((e) => e.redacted);
  const events = sortedEvents.map((e) => e.event);

  const quarantined: QuarantineNote[] = [];
  for (const log of logs) {
    const lines = findInjection(log.excerpt.text).length;
    if (lines > 0)
      quarantined.push({
        source: `log ${log.pod}/${log.container}${log.previous ? " (previous)" : ""}`,
        lines,
      });
  }
  for (const event of events) {
    const lines = findInjection(event.message).length;
    if (lines > 0)
      quarantined.push({ source: `event ${event.object.kind}/${event.object.name} ${event.reason}`, lines });
  }
  const annotationText = Object.entries(rollout.annotations)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  const annotationHits = findInjection(annotationText).length;
  if (annotationHits > 0)
    quarantined.push({ source: `annotations of Rollout ${rollout.name}`, lines: annotationHits });
  for (const pod of podObjects) {
    const text = Object.entries(pod.metadata.annotations ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n");
    const hits = findInjection(text).length;
    if (hits > 0) quarantined.push({ source: `annotations of Pod ${pod.metadata.name}`, lines: hits });
  }

  return {
    source: cluster.source,
    gatheredAt: (opts.now ?? (() => new Date()))().toISOString(),
    rollout: redactObject(rollout),
    replicaSets,
    pods: redactObject(pods),
    analysisRuns: redactObject(analysisRuns),
    events,
    logs,
    warnings,
    quarantined,
    raw: {
      rollout: redactObject(stripManagedFields(rolloutObject)),
      replicaSets: replicaSetObjects.map((o) => redactObject(stripManagedFields(o))),
      pods: ownedPods.map((o) => redactObject(stripManagedFields(o))),
      analysisRuns: analysisRunObjects.map((o) => redactObject(stripManagedFields(o))),
      events: redactedEvents.map(stripManagedFields),
    },
  };
}

export function stripManagedFields(object: KubeObject): KubeObject {
  if (!object.metadata.managedFields) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

async function gatherLogs(
  cluster: Cluster,
  namespace: string,
  pods: PodSnapshot[],
  opts: GatherOptions,
  warnings: string[],
): Promise<LogSnapshot[]> {
  const canaryPods = podsWorthReading(pods.filter((p) => p.role === "canary")).slice(
    0,
    opts.maxCanaryPodsForLogs,
  );
  const stablePod = podsWorthReading(pods.filter((p) => p.role === "stable")).at(-1);
  const appContainers = (pod: PodSnapshot) =>
    pod.containers.filter((c) => !c.init && !isKnownSidecar(c.name));

  const baselines = new Map<string, LogBaseline>();
  const out: LogSnapshot[] = [];
  if (stablePod) {
    for (const container of appContainers(stablePod)) {
      const stream = await cluster.openLog({ namespace, pod: stablePod.name, container: container.name });
      if (!stream) continue;
      // The stable log is read twice: once as the baseline, once for its own bounded excerpt.
      const baseline = await buildLogBaseline(readLogLines(stream));
      baselines.set(container.name, baseline);
      const again = await cluster.openLog({ namespace, pod: stablePod.name, container: container.name });
      if (!again) continue;
      const excerpt = await reduceLogs(readLogLines(again), {
        tokenBudget: Math.floor(opts.logTokenBudget / 2),
      });
      out.push({ pod: stablePod.name, container: container.name, role: "stable", previous: false, excerpt });
    }
  }
  for (const pod of canaryPods) {
    for (const container of appContainers(pod)) {
      for (const previous of [false, true]) {
        if (previous && container.restartCount === 0 && !container.lastTermination) continue;
        const stream = await cluster.openLog({
          namespace,
          pod: pod.name,
          container: container.name,
          previous,
        });
        if (!stream) {
          if (!previous && container.state === "running")
            warnings.push(`no log for ${pod.name}/${container.name}`);
          continue;
        }
        const excerpt = await reduceLogs(readLogLines(stream), {
          tokenBudget: opts.logTokenBudget,
          baseline: baselines.get(container.name),
        });
        out.push({ pod: pod.name, container: container.name, role: "canary", previous, excerpt });
      }
    }
  }
  return out;
}
