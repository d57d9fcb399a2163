import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { appContainers, canaryPods, containerSpec, podEvents, stableImage } from "./canary-pods.js";
import { evidence, eventSource, podSource, uniqueEvidence } from "./evidence.js";

const PULL_REASONS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
  "ImageInspectError",
]);
const PULL_EVENT =
  /Failed to pull image|ErrImagePull|ImagePullBackOff|Back-off pulling image|InvalidImageName|Failed to apply default image tag|couldn't parse image/i;
const IMAGE_IN_MESSAGE = /image "([^"]+)"/i;

/** Canary images that cannot be pulled: waiting reasons and kubelet pull failures. */
export function findImagePull(incident: Incident): Finding[] {
  const perContainer = new Map<string, { image?: string; reasons: Set<string>; evidence: Evidence[] }>();
  const entryFor = (name: string) => {
    const entry = perContainer.get(name) ?? { reasons: new Set<string>(), evidence: [] };
    perContainer.set(name, entry);
    return entry;
  };

  for (const pod of canaryPods(incident)) {
    for (const c of appContainers(pod)) {
      if (c.state !== "waiting" || !c.reason || !PULL_REASONS.has(c.reason)) continue;
      const entry = entryFor(c.name);
      entry.image ??= c.image || undefined;
      entry.reasons.add(c.reason);
      entry.evidence.push(
        evidence(
          podSource(pod.name),
          `container "${c.name}" waiting: ${c.reason}${c.message ? `: ${c.message}` : ""}`,
        ),
      );
    }
  }

  // "Error: ErrImagePull" repeats the waiting reason; the event with the registry's answer says why.
  const allPullEvents = podEvents(incident).filter((e) => e.type !== "Normal" && PULL_EVENT.test(e.message));
  const informative = allPullEvents.filter((e) => !/^Error: \w+$/.test(e.message.trim()));
  const pullEvents = informative.length > 0 ? informative : allPullEvents;
  for (const e of pullEvents) {
    const image = IMAGE_IN_MESSAGE.exec(e.message)?.[1];
    const owner =
      incident.rollout.containers.find((c) => image !== undefined && c.image === image)?.name ??
      [...perContainer.keys()][0] ??
      incident.rollout.containers[0]?.name ??
      "";
    const entry = entryFor(owner);
    entry.image ??= image;
    entry.reasons.add(e.reason);
    entry.evidence.push(evidence(eventSource(e.object.kind, e.object.name), `${e.reason}: ${e.message}`));
  }

  const findings: Finding[] = [];
  for (const [container, entry] of perContainer) {
    const canaryImage = entry.image ?? containerSpec(incident, container)?.image ?? "";
    const stable = container ? stableImage(incident, container) : undefined;
    const facts: Record<string, string | number | boolean> = { container, canaryImage };
    if (stable) facts["stableImage"] = stable;
    const waiting = [...entry.reasons].find((r) => PULL_REASONS.has(r));
    findings.push({
      category: "image-pull",
      analyzer: "findImagePull",
      summary: `Canary image "${canaryImage}" of ${incident.rollout.name} cannot be pulled${
        waiting ? ` (${waiting})` : ""
      }${stable && stable !== canaryImage ? `; stable runs "${stable}"` : ""}`,
      evidence: uniqueEvidence(entry.evidence),
      // A waiting reason is the kubelet's verdict; an event alone may be a retry that later succeeded.
      confidence: waiting ? 0.95 : 0.7,
      rank: RANK["image-pull"],
      facts,
    });
  }
  return findings;
}
