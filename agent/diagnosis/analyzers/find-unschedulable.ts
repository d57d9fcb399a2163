import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { canaryEvents, canaryPods } from "./canary-pods.js";
import { evidence, eventSource, podSource, uniqueEvidence } from "./evidence.js";

/** Why the scheduler refused, in the playbook's words; the scheduler message lists each reason with a count. */
export function schedulingObstacle(message: string): string {
  if (/Insufficient (?:cpu|memory|ephemeral-storage|nvidia|[\w./-]+)/i.test(message)) {
    const resources = [...message.matchAll(/Insufficient ([\w./-]*\w)/gi)].map((m) => m[1]);
    return `insufficient ${[...new Set(resources)].join(", ")}`;
  }
  if (/didn't match (?:Pod's )?node (?:selector|affinity)|node\(s\) didn't match/i.test(message))
    return "node selector or affinity";
  if (/untolerated taint|had taint|taint\(s\)/i.test(message)) return "taints";
  if (/didn't match pod (?:anti-)?affinity|anti-affinity/i.test(message)) return "pod affinity";
  if (/persistentvolumeclaim|volume node affinity|unbound immediate/i.test(message)) return "volumes";
  if (/too many pods/i.test(message)) return "pod count";
  return "scheduling constraints";
}

/** Canary pods the scheduler cannot place. */
export function findUnschedulable(incident: Incident): Finding[] {
  const items: Evidence[] = [];
  const messages: string[] = [];
  let pending = 0;
  for (const pod of canaryPods(incident)) {
    const scheduled = pod.conditions.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False" && (scheduled.reason === "Unschedulable" || !pod.nodeName)) {
      pending++;
      items.push(
        evidence(
          podSource(pod.name),
          `PodScheduled False ${scheduled.reason ?? ""}: ${scheduled.message ?? ""}`,
        ),
      );
      if (scheduled.message) messages.push(scheduled.message);
    }
  }
  for (const e of canaryEvents(incident)) {
    if (e.reason !== "FailedScheduling" && !/^\d+\/\d+ nodes are available/.test(e.message)) continue;
    items.push(
      evidence(eventSource(e.object.kind, e.object.name), `${e.reason} (x${e.count}): ${e.message}`),
    );
    messages.push(e.message);
  }
  if (items.length === 0) return [];
  const message = messages[0] ?? "";
  const obstacle = schedulingObstacle(messages.join("\n"));
  const facts: Record<string, string | number | boolean> = { obstacle, pendingPods: pending };
  if (message) facts["schedulerMessage"] = message.slice(0, 300);
  const container = incident.rollout.containers[0];
  if (container?.requests["cpu"]) facts["cpuRequest"] = container.requests["cpu"];
  if (container?.requests["memory"]) facts["memoryRequest"] = container.requests["memory"];
  return [
    {
      category: "unschedulable",
      analyzer: "findUnschedulable",
      summary: `Canary pods of ${incident.rollout.name} cannot be scheduled (${obstacle})`,
      evidence: uniqueEvidence(items),
      confidence: pending > 0 ? 0.95 : 0.75,
      rank: RANK.unschedulable,
      facts,
    },
  ];
}
