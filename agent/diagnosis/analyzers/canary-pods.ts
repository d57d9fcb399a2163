import type {
  ContainerSnapshot,
  ContainerSpec,
  EventSnapshot,
  Incident,
  PodSnapshot,
} from "../../incident/incident.js";
import { readContainerSpec } from "../../incident/read-objects.js";

/**
 * Pods of the failing revision. A rollout without a recorded canary hash leaves pods unlabelled as
 * "other"; those are the best guess then.
 */
export function canaryPods(incident: Incident): PodSnapshot[] {
  const canary = incident.pods.filter((p) => p.role === "canary");
  if (canary.length > 0) return canary;
  return incident.rollout.canaryPodHash ? [] : incident.pods.filter((p) => p.role === "other");
}

export function stablePods(incident: Incident): PodSnapshot[] {
  return incident.pods.filter((p) => p.role === "stable");
}

/** Application containers: mesh and agent sidecars rarely explain a canary failure. */
export function appContainers(pod: PodSnapshot): ContainerSnapshot[] {
  return pod.containers.filter((c) => !c.sidecar);
}

export function containerSpec(incident: Incident, name: string): ContainerSpec | undefined {
  return incident.rollout.containers.find((c) => c.name === name);
}

/** The main container when nothing names one: the first non-sidecar container of the template. */
export function mainContainerName(incident: Incident): string | undefined {
  return incident.rollout.containers[0]?.name;
}

/** Container specs of the stable ReplicaSet's pod template, to compare the canary against what works. */
export function stableContainerSpecs(incident: Incident): ContainerSpec[] {
  const stableNames = new Set(incident.replicaSets.filter((rs) => rs.role === "stable").map((rs) => rs.name));
  const raw = incident.raw.replicaSets.find((rs) => stableNames.has(rs.metadata.name));
  const containers: unknown = raw?.spec?.template?.spec?.containers;
  return Array.isArray(containers) ? containers.map(readContainerSpec) : [];
}

/** The image the stable revision runs for a container, from its pods, its template, or its image list. */
export function stableImage(incident: Incident, container: string): string | undefined {
  for (const pod of stablePods(incident)) {
    const image = pod.containers.find((c) => c.name === container)?.image;
    if (image) return image;
  }
  const fromSpec = stableContainerSpecs(incident).find((c) => c.name === container)?.image;
  if (fromSpec) return fromSpec;
  const index = incident.rollout.containers.findIndex((c) => c.name === container);
  const stable = incident.replicaSets.find((rs) => rs.role === "stable");
  return index >= 0 ? stable?.images[index] : undefined;
}

/** Events about canary pods, their ReplicaSet, or pods no longer listed (deleted after an abort). */
export function canaryEvents(incident: Incident): EventSnapshot[] {
  const stableNames = new Set([
    ...stablePods(incident).map((p) => p.name),
    ...incident.replicaSets.filter((rs) => rs.role === "stable").map((rs) => rs.name),
  ]);
  return incident.events.filter((e) => !stableNames.has(e.object.name));
}

export function podEvents(incident: Incident): EventSnapshot[] {
  return canaryEvents(incident).filter((e) => e.object.kind === "Pod");
}

const NOT_NAMES = new Set([
  "image",
  "images",
  "with",
  "in",
  "is",
  "has",
  "was",
  "failed",
  "the",
  "runtime",
  "status",
]);

/** Finds the container an event message names, as kubelet writes it: `container "app"` or `container app`. */
export function containerInMessage(message: string): string | undefined {
  const pattern = /container[s]?\s+(?:"([^"]+)"|'([^']+)'|\[([^\]\s]+)\]|([a-z0-9][-a-z0-9]*))/gi;
  for (const match of message.matchAll(pattern)) {
    const name = match[1] ?? match[2] ?? match[3] ?? match[4];
    if (name && !NOT_NAMES.has(name.toLowerCase())) return name;
  }
  return undefined;
}

/** A canary pod is serving when its app containers all run and are ready. */
export function isServing(pod: PodSnapshot): boolean {
  const apps = appContainers(pod).filter((c) => !c.init);
  return pod.phase === "Running" && apps.length > 0 && apps.every((c) => c.state === "running" && c.ready);
}

/**
 * The container an event is about: kubelet records it in `involvedObject.fieldPath`
 * (`spec.containers{app}`), which the event snapshot drops; the message is the fallback.
 */
export function eventContainer(incident: Incident, event: EventSnapshot): string | undefined {
  for (const raw of incident.raw.events) {
    const involved = (raw["involvedObject"] ?? raw["regarding"]) as
      { name?: unknown; fieldPath?: unknown } | undefined;
    if (involved?.name !== event.object.name || raw["reason"] !== event.reason) continue;
    if ((raw["message"] ?? raw["note"]) !== event.message) continue;
    const path = typeof involved.fieldPath === "string" ? involved.fieldPath : "";
    const name = /(?:containers|initContainers)\{([^}]+)\}/.exec(path)?.[1];
    if (name) return name;
  }
  return containerInMessage(event.message);
}
