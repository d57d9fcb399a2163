import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { appContainers, canaryPods, containerSpec, eventContainer, podEvents } from "./canary-pods.js";
import { evidence, eventSource, logSource, podSource, uniqueEvidence } from "./evidence.js";
import { canaryOnlyLines } from "./log-lines.js";

const OOM_LOG =
  /out of memory|(?<![+\-\w])(?:java\.lang\.)?OutOfMemoryError|heap out of memory|allocation failed.*heap|runtime: out of memory|cannot allocate memory|(?<![\w+-])MemoryError\b|oom[- ]?kill/i;
const OOM_EVENT = /OOMKill|out of memory|oom[- ]?kill/i;
const SIGKILL_EXIT = 137;

/** OOMKilled containers of the canary, or exit 137 (SIGKILL) backed by memory evidence. */
export function findOomKilled(incident: Incident): Finding[] {
  const oomLogs = canaryOnlyLines(incident).filter((l) => OOM_LOG.test(l.text));
  const oomEvents = podEvents(incident).filter((e) => OOM_EVENT.test(e.reason) || OOM_EVENT.test(e.message));
  const perContainer = new Map<
    string,
    { restarts: number; pods: number; explicit: boolean; evidence: Evidence[] }
  >();

  for (const pod of canaryPods(incident)) {
    for (const c of appContainers(pod)) {
      const states = [
        { reason: c.state === "terminated" ? c.reason : undefined, exitCode: c.exitCode, when: "terminated" },
        { reason: c.lastTermination?.reason, exitCode: c.lastTermination?.exitCode, when: "last terminated" },
      ];
      const memoryHint =
        oomLogs.some((l) => l.log.container === c.name) ||
        oomEvents.some(
          (e) => e.object.name === pod.name && (eventContainer(incident, e) ?? c.name) === c.name,
        );
      // A runtime that reports its own out-of-memory error and exits non-zero ran out of the same budget.
      const hit =
        states.find(
          (s) =>
            s.reason === "OOMKilled" ||
            (s.exitCode === SIGKILL_EXIT && s.reason !== "Completed" && memoryHint),
        ) ?? (memoryHint ? states.find((s) => s.exitCode !== undefined && s.exitCode !== 0) : undefined);
      if (!hit) continue;
      const entry = perContainer.get(c.name) ?? { restarts: 0, pods: 0, explicit: false, evidence: [] };
      entry.restarts += Math.max(c.restartCount, 1);
      entry.pods += 1;
      entry.explicit ||= hit.reason === "OOMKilled";
      entry.evidence.push(
        evidence(
          podSource(pod.name),
          `container "${c.name}" ${hit.when} ${hit.reason ?? "with"} exit code ${hit.exitCode ?? "?"}, ${c.restartCount} restarts`,
        ),
      );
      perContainer.set(c.name, entry);
    }
  }

  const findings: Finding[] = [];
  for (const [container, entry] of perContainer) {
    const spec = containerSpec(incident, container);
    const limit = spec?.limits["memory"];
    const request = spec?.requests["memory"];
    const extra = [
      ...oomEvents
        .filter((e) => (eventContainer(incident, e) ?? container) === container)
        .map((e) => evidence(eventSource(e.object.kind, e.object.name), `${e.reason}: ${e.message}`)),
      ...oomLogs
        .filter((l) => l.log.container === container)
        .slice(0, 2)
        .map((l) => evidence(logSource(l.log.pod, l.log.container), l.text)),
    ];
    const facts: Record<string, string | number | boolean> = {
      container,
      restarts: entry.restarts,
      pods: entry.pods,
    };
    if (limit) facts["memoryLimit"] = limit;
    if (request) facts["memoryRequest"] = request;
    findings.push({
      category: "oom-killed",
      analyzer: "findOomKilled",
      summary: `Canary container "${container}" of ${incident.rollout.name} was OOMKilled ${entry.restarts} time${
        entry.restarts === 1 ? "" : "s"
      }${limit ? ` (limit ${limit})` : " (no memory limit set)"}`,
      evidence: uniqueEvidence([...entry.evidence, ...extra]),
      confidence: entry.explicit ? 0.95 : 0.7,
      rank: RANK["oom-killed"],
      facts,
    });
  }
  return findings;
}
