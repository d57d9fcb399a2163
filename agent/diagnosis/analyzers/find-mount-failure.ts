import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { appContainers, canaryPods, podEvents } from "./canary-pods.js";
import { evidence, eventSource, podSource, uniqueEvidence } from "./evidence.js";

const MOUNT_REASONS = /^(?:FailedMount|FailedAttachVolume|FailedMapVolume|FailedUnMount|VolumeResizeFailed)$/;
const MOUNT_MESSAGE =
  /MountVolume\.\w+ failed|Unable to attach or mount volumes|AttachVolume\.Attach failed|timed out waiting for the condition.*volume/i;

/** Volumes the kubelet cannot attach or mount, which keeps canary containers in ContainerCreating. */
export function findMountFailure(incident: Incident): Finding[] {
  const items: Evidence[] = [];
  const volumes = new Set<string>();
  let detail = "";
  for (const e of podEvents(incident)) {
    if (!MOUNT_REASONS.test(e.reason) && !MOUNT_MESSAGE.test(e.message)) continue;
    items.push(
      evidence(eventSource(e.object.kind, e.object.name), `${e.reason} (x${e.count}): ${e.message}`),
    );
    const volume =
      /for volume "([^"]+)"/.exec(e.message)?.[1] ?? /unmounted volumes=\[([^\]]+)\]/.exec(e.message)?.[1];
    if (volume) volume.split(/\s+/).forEach((v) => volumes.add(v));
    const cause = /volume "[^"]+" : (.+)$/.exec(e.message)?.[1];
    if (cause && !detail) detail = cause;
  }
  let creating = 0;
  for (const pod of canaryPods(incident)) {
    const stuck = appContainers(pod).some(
      (c) =>
        (c.state === "waiting" && c.reason === "ContainerCreating") ||
        (c.state === "unknown" && pod.phase === "Pending" && pod.nodeName !== undefined),
    );
    if (stuck) {
      creating++;
      if (items.length > 0)
        items.push(evidence(podSource(pod.name), "containers waiting: ContainerCreating"));
    }
  }
  if (items.length === 0) return [];
  const facts: Record<string, string | number | boolean> = { creatingPods: creating };
  if (volumes.size > 0) facts["volume"] = [...volumes].join(",");
  if (detail) facts["mountError"] = detail.slice(0, 300);
  return [
    {
      category: "mount-failure",
      analyzer: "findMountFailure",
      summary: `Canary pods of ${incident.rollout.name} cannot mount ${
        volumes.size > 0 ? `volume ${[...volumes].map((v) => `"${v}"`).join(", ")}` : "a volume"
      }${detail ? `: ${detail.slice(0, 120)}` : ""}`,
      evidence: uniqueEvidence(items),
      // A mount error that cleared on retry leaves events behind but running containers.
      confidence: creating > 0 || canaryPods(incident).length === 0 ? 0.9 : 0.6,
      rank: RANK["mount-failure"],
      facts,
    },
  ];
}
