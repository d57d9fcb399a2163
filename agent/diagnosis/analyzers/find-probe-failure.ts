import type { ContainerSpec, Incident, LogSnapshot, ProbeSpec } from "../../incident/incident.js";
import { isKnownSidecar } from "../../incident/read-objects.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import {
  appContainers,
  canaryPods,
  eventContainer,
  containerSpec,
  mainContainerName,
  podEvents,
  stableContainerSpecs,
} from "./canary-pods.js";
import { evidence, eventSource, logSource, podSource, uniqueEvidence } from "./evidence.js";
import { excerptLines, splitOccurrenceNote } from "./log-lines.js";

type ProbeKind = ProbeSpec["kind"];

const PROBE_FAILED = /\b(Readiness|Liveness|Startup) probe (?:failed|errored)/i;
const KILLED_BY_PROBE = /failed (liveness|startup) probe|will be restarted/i;
const PROBE_TARGET_PORT = /(?:https?:\/\/[^/\s:"]+|dial tcp [^\s:"]+|\[?[0-9a-f.:]+\]?):(\d{2,5})\b/i;
const LISTENING =
  /\b(?:listening|listens|serving|started on|server started|started server|bound|running on|accepting connections)\b[^\n]{0,60}?(?:\bport(?:\(s\))?\s*[:=]?\s*|(?:^|[\s"'(=/])(?:(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]*\]|[a-z][\w.-]*)?:)(\d{2,5})\b/i;
const NOT_LISTENING =
  /\b(?:nothing|not|no longer|never|disabled|won't|will not|stopped)\b[^\n]{0,40}\blisten/i;
const STARTUP_DURATION =
  /\b(?:start(?:ed|ing|up)?|ready|boot(?:ed)?|initiali[sz](?:ed|ation)|warm(?:ed|ing|up)?|load(?:ed|ing)|init(?:ialised|ialized)?)\b[^\n]{0,80}?\b(?:in|after|took|taking|for)\s+(?:about\s+|~)?(\d+(?:\.\d+)?)\s*(ms|s|secs?|seconds?|m|mins?|minutes?)\b/i;
const STARTUP_PROGRESS =
  /\b(?:warming|loading|initiali[sz]ing|migrating|starting|preloading|building (?:cache|index))\b/i;
const READY_LINE =
  /\b(?:listening|ready to serve|server started|started server|started \w+ in|startup complete|accepting connections)\b/i;
const TIMESTAMP = /\b(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/;
const DURATION = "(\\d+(?:\\.\\d+)?)\\s*(ms|s|secs?|seconds?|m|mins?|minutes?)?\\b";
const ELAPSED = new RegExp(`\\belapsed["']?\\s*[=:]\\s*["']?${DURATION}`, "i");
const ETA = new RegExp(`\\b(?:eta|remaining)["']?\\s*[=:]\\s*["']?${DURATION}`, "i");
const PROGRESS = /\bprogress["']?\s*[=:]\s*["']?(\d+(?:\.\d+)?)\s*%/i;

/** SIGKILL and SIGTERM: how kubelet ends a container whose liveness probe failed. */
const KILL_EXIT_CODES = new Set([137, 143]);

const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 };

/**
 * Seconds kubelet waits before a liveness (or startup) probe kills a container that has not answered yet:
 * the first probe runs after the initial delay, and the threshold-th failure comes (threshold - 1) periods later.
 */
export function probeBudgetSeconds(probe: ProbeSpec): number {
  const delay = probe.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds;
  const period = probe.periodSeconds ?? PROBE_DEFAULTS.periodSeconds;
  const threshold = Math.max(1, probe.failureThreshold ?? PROBE_DEFAULTS.failureThreshold);
  return delay + period * (threshold - 1);
}

function toSeconds(value: number, unit: string | undefined): number {
  if (unit === "ms") return value / 1000;
  if (unit?.startsWith("m")) return value * 60;
  return value;
}

/** A progress line's own estimate of the whole start-up: elapsed plus eta, or elapsed scaled by percent done. */
export function estimatedStartupSeconds(line: string): number | undefined {
  const elapsed = ELAPSED.exec(line);
  if (!elapsed?.[1]) return undefined;
  const spent = toSeconds(Number(elapsed[1]), elapsed[2]?.toLowerCase());
  const eta = ETA.exec(line);
  if (eta?.[1]) return spent + toSeconds(Number(eta[1]), eta[2]?.toLowerCase());
  const progress = Number(PROGRESS.exec(line)?.[1] ?? 0);
  return progress > 0 && progress <= 100 ? (spent * 100) / progress : undefined;
}

/** Resolves a probe's port (number or named port) against the ports the container declares. */
export function resolveProbePort(
  probe: ProbeSpec,
  spec: ContainerSpec,
): { port?: number | string; resolved?: number; declared?: boolean } {
  if (probe.port === undefined) return {};
  if (typeof probe.port === "string" && !/^\d+$/.test(probe.port)) {
    const named = spec.ports.find((p) => p.name === probe.port);
    return { port: probe.port, resolved: named?.containerPort, declared: named !== undefined };
  }
  const port = Number(probe.port);
  // Declared ports are informational; with none declared there is nothing to compare against.
  const declared = spec.ports.length === 0 ? undefined : spec.ports.some((p) => p.containerPort === port);
  return { port, resolved: port, declared };
}

/** A log line as evidence: without the reducer's repeat note. */
function quoted(line: string): string {
  return splitOccurrenceNote(line).text.trim();
}

interface StartupEvidence {
  seconds?: number;
  stillStarting: boolean;
  evidence: Evidence[];
}

function startupFromLogs(logs: LogSnapshot[]): StartupEvidence {
  let seconds: number | undefined;
  let longest: Evidence | undefined;
  const out: Evidence[] = [];
  let stillStarting = false;
  for (const log of logs) {
    const lines = excerptLines(log);
    for (const line of lines) {
      const match = STARTUP_DURATION.exec(line);
      const value = match?.[1]
        ? toSeconds(Number(match[1]), match[2]?.toLowerCase())
        : estimatedStartupSeconds(line);
      if (value === undefined) continue;
      if (value >= 1 && (seconds === undefined || value > seconds)) {
        seconds = value;
        longest = evidence(logSource(log.pod, log.container), quoted(line));
      }
    }
    // A killed instance whose log shows startup work and never a ready line was still starting.
    if (
      log.previous &&
      lines.some((l) => STARTUP_PROGRESS.test(l)) &&
      !lines.some((l) => READY_LINE.test(l))
    ) {
      stillStarting = true;
      const stamps = lines
        .map((l) => TIMESTAMP.exec(l)?.[1])
        .filter((t): t is string => t !== undefined)
        .map((t) => Date.parse(t.replace(",", ".")))
        .filter((t) => Number.isFinite(t));
      const first = stamps[0];
      const last = stamps.at(-1);
      if (first !== undefined && last !== undefined && last > first) {
        const elapsed = (last - first) / 1000;
        if (seconds === undefined || elapsed > seconds) seconds = elapsed;
      }
      const progress = lines.filter((l) => STARTUP_PROGRESS.test(l)).at(-1);
      if (progress) out.push(evidence(logSource(log.pod, log.container), `previous: ${quoted(progress)}`));
    }
  }
  return { seconds, stillStarting, evidence: longest ? [longest, ...out] : out };
}

/** Ports the app says it listens on: an app may serve traffic, metrics and admin on different ports. */
function listenPorts(logs: LogSnapshot[]): Map<number, Evidence> {
  const ports = new Map<number, Evidence>();
  for (const log of logs) {
    for (const line of excerptLines(log)) {
      const match = LISTENING.exec(line);
      if (NOT_LISTENING.test(line)) continue;
      if (match?.[1] && !ports.has(Number(match[1]))) {
        ports.set(Number(match[1]), evidence(logSource(log.pod, log.container), quoted(line)));
      }
    }
  }
  return ports;
}

/** Readiness, liveness or startup probes that fail while the process runs: wrong port or path, too short a delay. */
export function findProbeFailure(incident: Incident): Finding[] {
  const failedKinds = new Map<string, Set<ProbeKind>>();
  const eventEvidence = new Map<string, Evidence[]>();
  const eventPorts = new Map<string, number>();
  const kills = new Set<string>();
  const add = (container: string, kind: ProbeKind | undefined, item: Evidence) => {
    if (kind) failedKinds.set(container, (failedKinds.get(container) ?? new Set()).add(kind));
    eventEvidence.set(container, [...(eventEvidence.get(container) ?? []), item]);
  };

  for (const e of podEvents(incident)) {
    const probe = PROBE_FAILED.exec(e.message);
    const killed = KILLED_BY_PROBE.exec(e.message);
    if (!probe && !killed) continue;
    const container = eventContainer(incident, e) ?? mainContainerName(incident) ?? "";
    // A mesh proxy's probe follows the app's health; the app container's own probes say why.
    if (isKnownSidecar(container)) continue;
    const kind = (probe?.[1] ?? killed?.[1] ?? "liveness").toLowerCase() as ProbeKind;
    if (killed) kills.add(container);
    const port = PROBE_TARGET_PORT.exec(e.message)?.[1];
    if (port && !eventPorts.has(`${container}/${kind}`)) eventPorts.set(`${container}/${kind}`, Number(port));
    add(
      container,
      kind,
      evidence(eventSource(e.object.kind, e.object.name), `${e.reason} (x${e.count}): ${e.message}`),
    );
  }

  const notReady = new Map<string, Evidence[]>();
  for (const pod of canaryPods(incident)) {
    for (const c of appContainers(pod)) {
      if (c.init || c.state !== "running" || c.ready) continue;
      notReady.set(c.name, [
        ...(notReady.get(c.name) ?? []),
        evidence(
          podSource(pod.name),
          `container "${c.name}" running but not ready, ${c.restartCount} restarts`,
        ),
      ]);
    }
  }

  const containers = new Set([...failedKinds.keys(), ...notReady.keys()]);
  const stableSpecs = stableContainerSpecs(incident);
  const findings: Finding[] = [];
  for (const container of containers) {
    const spec = containerSpec(incident, container);
    const kinds = failedKinds.get(container) ?? new Set<ProbeKind>();
    const hasEvents = (eventEvidence.get(container) ?? []).length > 0;
    // Liveness kills explain restarts; otherwise the readiness probe is what holds the canary back.
    const kind: ProbeKind = kinds.has("liveness")
      ? "liveness"
      : kinds.has("startup")
        ? "startup"
        : kinds.has("readiness") || !hasEvents
          ? "readiness"
          : "liveness";
    const logs = incident.logs.filter((l) => l.role === "canary" && l.container === container);
    const listening = listenPorts(logs);
    const notListened = (port: number | undefined) =>
      port !== undefined && listening.size > 0 && !listening.has(port);
    const failing = (spec?.probes ?? []).filter((p) => kinds.size === 0 || kinds.has(p.kind));
    // A probe aimed at a port the container does not serve is the cause whichever probe kubelet reported first.
    const misdirected = spec
      ? failing.find((p) => {
          const { resolved, declared } = resolveProbePort(p, spec);
          return declared === false || notListened(resolved);
        })
      : undefined;
    const probe = misdirected ?? spec?.probes.find((p) => p.kind === kind) ?? spec?.probes[0];
    const facts: Record<string, string | number | boolean> = { container, probeKind: probe?.kind ?? kind };
    const items: Evidence[] = [...(eventEvidence.get(container) ?? []), ...(notReady.get(container) ?? [])];
    // Probes that failed while the app started but pass now are routine; only probes failing now hold the canary back.
    const pods = canaryPods(incident);
    const failingNow =
      pods.length === 0 ||
      kills.has(container) ||
      pods.some((p) => p.containers.some((c) => c.name === container && !c.ready));
    let confidence = !failingNow ? 0.35 : hasEvents ? 0.75 : 0.45;
    let cause = "";

    if (probe && spec) {
      if (probe.path) facts["probePath"] = probe.path;
      const { port, resolved, declared } = resolveProbePort(probe, spec);
      if (port !== undefined) facts["probePort"] = port;
      if (spec.ports.length > 0) facts["declaredPorts"] = spec.ports.map((p) => p.containerPort).join(",");
      if (declared !== undefined) facts["portUndeclared"] = !declared;
      const stableProbe = stableSpecs
        .find((s) => s.name === container)
        ?.probes.find((p) => p.kind === probe.kind);
      if (stableProbe?.port !== undefined && String(stableProbe.port) !== String(probe.port)) {
        facts["stableProbePort"] = stableProbe.port;
      }
      if (stableProbe?.path && probe.path && stableProbe.path !== probe.path)
        facts["stableProbePath"] = stableProbe.path;
      if (listening.size > 0) facts["listenPorts"] = [...listening.keys()].join(",");
      const portWrong = declared === false || notListened(resolved);
      if (portWrong && failingNow && (hasEvents || notReady.has(container))) {
        confidence = 0.95;
        cause = `probes port ${port}${
          declared === false
            ? `, which the container does not declare (declares ${facts["declaredPorts"] ?? "none"})`
            : ""
        }${notListened(resolved) ? `; the app listens on ${[...listening.keys()].join(", ")}` : ""}`;
        items.push(...listening.values());
      } else if (facts["stableProbePath"] && hasEvents && failingNow) {
        confidence = 0.85;
        cause = `probes path ${probe.path} (stable probes ${String(facts["stableProbePath"])})`;
      }

      const liveness =
        spec.probes.find((p) => p.kind === "startup") ?? spec.probes.find((p) => p.kind === "liveness");
      if (!portWrong && liveness && (kills.has(container) || kinds.has("liveness") || kinds.has("startup"))) {
        const startup = startupFromLogs(logs);
        const budget = probeBudgetSeconds(liveness);
        facts["livenessBudgetSeconds"] = budget;
        if (startup.seconds !== undefined) facts["observedStartupSeconds"] = Math.round(startup.seconds);
        const tooSlow = startup.seconds !== undefined ? startup.seconds > budget : startup.stillStarting;
        if (tooSlow && failingNow) {
          facts["slowStart"] = true;
          confidence = 0.9;
          cause = `the app needs ${
            startup.seconds !== undefined ? `~${Math.round(startup.seconds)}s` : "longer"
          } to start but the ${liveness.kind} probe allows ${budget}s`;
          items.push(...startup.evidence);
        }
      }
    }
    // A process that exits on its own fails every probe on the way down: the crash is the cause, not the probe.
    const exitsOnItsOwn =
      !kills.has(container) &&
      canaryPods(incident).some((pod) =>
        appContainers(pod).some((c) => {
          const last =
            c.lastTermination ??
            (c.state === "terminated" ? { exitCode: c.exitCode, reason: c.reason } : undefined);
          const code = last?.exitCode;
          if (c.name !== container || code === undefined || code === 0) return false;
          return !KILL_EXIT_CODES.has(code) || last?.reason === "OOMKilled";
        }),
      );
    if (exitsOnItsOwn && !facts["portUndeclared"]) {
      facts["processExits"] = true;
      confidence = Math.min(confidence, 0.4);
    }
    const eventPort = eventPorts.get(`${container}/${kind}`);
    if (eventPort !== undefined && facts["probePort"] === undefined) facts["probePort"] = eventPort;

    findings.push({
      category: "probe-failure",
      analyzer: "findProbeFailure",
      summary: `The ${facts["probeKind"]} probe of canary container "${container}" of ${incident.rollout.name} fails${
        cause ? `: ${cause}` : kills.has(container) ? " and kubelet restarts the container" : ""
      }`,
      evidence: uniqueEvidence(items),
      confidence,
      rank: RANK["probe-failure"],
      facts,
    });
  }
  return findings;
}
