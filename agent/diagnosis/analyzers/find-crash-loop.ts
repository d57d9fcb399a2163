import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { appContainers, canaryPods } from "./canary-pods.js";
import { evidence, logSource, podSource, uniqueEvidence } from "./evidence.js";
import { canaryOnlyLines, isErrorLine } from "./log-lines.js";
import type { LogLine } from "./log-lines.js";

/** Lines that open a crash report in common runtimes: they name the cause better than a generic ERROR. */
const CRASH_START =
  /^(?:panic:|fatal error:|Exception in thread|Traceback \(most recent call last\)|Unhandled(?:PromiseRejection)?|uncaught|thread '.*' panicked)|\b(?:[A-Z]\w*\.)*[A-Z]\w*(?:Error|Exception)\b(?::|$)|\bpanic:|\bUnhandledPromiseRejection|\bunhandled (?:promise )?rejection/i;

/** The closing line of a Python traceback names the exception: `pkg.module.SomeError: message`. */
const TRACEBACK_END = /^[\w.]*(?:Error|Exception|Exit|Interrupt|Failure)\b(?::|$)/;

export function firstErrorLine(lines: LogLine[]): LogLine | undefined {
  // Previous logs hold the instance that crashed; the current one may not have reached its error yet.
  const ordered = [...lines.filter((l) => l.log.previous), ...lines.filter((l) => !l.log.previous)];
  const index = ordered.findIndex((l) => CRASH_START.test(l.text));
  const first = ordered[index];
  if (first && /^Traceback \(most recent call last\)/.test(first.text)) {
    const end = ordered.slice(index + 1).find((l) => l.log === first.log && TRACEBACK_END.test(l.text));
    if (end) return end;
  }
  return first ?? ordered.find((l) => isErrorLine(l.text));
}

/** Canary containers that exit at start: CrashLoopBackOff or non-zero exits other than OOM kills. */
export function findCrashLoop(incident: Incident): Finding[] {
  const lines = canaryOnlyLines(incident);
  const perContainer = new Map<
    string,
    {
      restarts: number;
      exitCode?: number;
      backOff: boolean;
      down: boolean;
      evidence: Evidence[];
      pods: number;
    }
  >();

  for (const pod of canaryPods(incident)) {
    for (const c of appContainers(pod)) {
      const last = c.lastTermination;
      const exits = [
        c.state === "terminated" ? { reason: c.reason, exitCode: c.exitCode } : undefined,
        last ? { reason: last.reason, exitCode: last.exitCode } : undefined,
      ].filter((s): s is { reason: string | undefined; exitCode: number | undefined } => s !== undefined);
      const failedExit = exits.find(
        (s) =>
          s.reason !== "OOMKilled" &&
          s.exitCode !== undefined &&
          s.exitCode !== 0 &&
          s.reason !== "Completed",
      );
      const backOff =
        c.state === "waiting" && (c.reason === "CrashLoopBackOff" || c.reason === "RunContainerError");
      const startError = c.state === "waiting" && c.reason === "StartError";
      if (!failedExit && !backOff && !startError) continue;
      if (!failedExit && exits.some((s) => s.reason === "OOMKilled")) continue;
      const entry = perContainer.get(c.name) ?? {
        restarts: 0,
        backOff: false,
        down: false,
        evidence: [],
        pods: 0,
      };
      entry.restarts += c.restartCount;
      entry.pods += 1;
      entry.backOff ||= backOff;
      entry.down ||= !(c.state === "running" && c.ready);
      entry.exitCode ??= failedExit?.exitCode;
      const exitText = failedExit
        ? `exited with code ${failedExit.exitCode}${failedExit.reason ? ` (${failedExit.reason})` : ""}`
        : `waiting: ${c.reason}`;
      entry.evidence.push(
        evidence(
          podSource(pod.name),
          `container "${c.name}" ${exitText}, ${c.restartCount} restarts${backOff && failedExit ? ", CrashLoopBackOff" : ""}${
            c.message && !failedExit ? `: ${c.message}` : ""
          }`,
        ),
      );
      perContainer.set(c.name, entry);
    }
  }

  const findings: Finding[] = [];
  for (const [container, entry] of perContainer) {
    const first = firstErrorLine(lines.filter((l) => l.log.container === container));
    const facts: Record<string, string | number | boolean> = {
      container,
      restarts: entry.restarts,
      pods: entry.pods,
    };
    if (entry.exitCode !== undefined) facts["exitCode"] = entry.exitCode;
    if (first) facts["firstErrorLine"] = first.text.slice(0, 300);
    const logEvidence = first
      ? [
          evidence(
            logSource(first.log.pod, first.log.container),
            `${first.log.previous ? "previous: " : ""}${first.text}`,
          ),
        ]
      : [];
    findings.push({
      category: "crash-loop",
      analyzer: "findCrashLoop",
      summary: `Canary container "${container}" of ${incident.rollout.name} exits at start${
        entry.exitCode !== undefined ? ` with code ${entry.exitCode}` : ""
      } (${entry.restarts} restart${entry.restarts === 1 ? "" : "s"})${first ? `: ${first.text.slice(0, 120)}` : ""}`,
      evidence: uniqueEvidence([...entry.evidence, ...logEvidence]),
      // A container that restarted but runs and serves again is a past hiccup, not what failed the canary.
      confidence: !entry.down ? 0.4 : entry.restarts > 0 || entry.backOff ? (first ? 0.9 : 0.8) : 0.6,
      rank: RANK["crash-loop"],
      facts,
    });
  }
  return findings;
}
