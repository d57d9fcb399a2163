import type { Incident } from "../incident/incident.js";

const UNIT_SECONDS: Record<string, number> = {
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
  us: 0.000001,
  µs: 0.000001,
  ns: 0.000000001,
};

/** Seconds of a Go duration (`1m32.5s`, `850ms`) or a spelled one (`95.3 seconds`, `2 min`); null otherwise. */
export function parseDurationSeconds(text: string): number | null {
  const trimmed = text.trim();
  if (/^(?:\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s))+$/.test(trimmed)) {
    let total = 0;
    for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)) {
      total += Number(match[1]) * (UNIT_SECONDS[match[2] ?? "s"] ?? 1);
    }
    return total;
  }
  const spelled = /^(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m)$/i.exec(trimmed);
  if (!spelled) return null;
  const value = Number(spelled[1]);
  const unit = (spelled[2] ?? "s").toLowerCase();
  if (unit.startsWith("ms") || unit.startsWith("milli")) return value / 1000;
  if (unit.startsWith("m")) return value * 60;
  return value;
}

const DURATION = String.raw`((?:\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s))+|\d+(?:\.\d+)?\s*(?:milliseconds?|seconds?|secs?|minutes?|mins?)\b)`;

/** `Started App in 94.3 seconds`, `startup took 1m2s`, `ready after 48s`, `warm-up … elapsed=38.2s eta=9.1s`. */
const PHRASES = [
  new RegExp(
    String.raw`\b(?:started|start(?:ed)?[- ]?up|ready|listening|serving|initiali[sz](?:ed|ation)|loaded|warm(?:ed)?(?:[- ]?up)?|boot(?:ed)?)\b[^\n]{0,120}?\b(?:in|took|after)\s+` +
      DURATION,
    "gi",
  ),
];
const ELAPSED = new RegExp(String.raw`\belapsed["']?\s*[=:]\s*["']?` + DURATION, "gi");
const ETA = new RegExp(String.raw`\beta["']?\s*[=:]\s*["']?` + DURATION, "i");

/** Milliseconds of a line's RFC 3339 timestamp (at the start, or as `time=`/`"ts":`), or null. */
function lineTime(line: string): number | null {
  const match =
    /(?:^|\btime=|"(?:time|ts|timestamp)"\s*:\s*")(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))/.exec(
      line,
    );
  if (!match?.[1]) return null;
  const ms = Date.parse(match[1]);
  return Number.isNaN(ms) ? null : ms;
}

export interface StartupEstimate {
  seconds: number;
  /** Where the number comes from, for the rationale. */
  source: string;
}

/**
 * How long the canary's process takes to start, from its logs: explicit "started in" phrases, and
 * progress lines with `elapsed` (plus `eta`, the process's own projection when it was killed midway).
 */
export function estimateStartupSeconds(incident: Incident, container: string): StartupEstimate | null {
  let best: StartupEstimate | null = null;
  const consider = (seconds: number | null, source: string): void => {
    if (seconds === null || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) return;
    if (!best || seconds > best.seconds) best = { seconds, source };
  };
  for (const log of incident.logs) {
    if (log.role !== "canary" || log.container !== container) continue;
    const where = `log of ${log.pod}${log.previous ? " (previous instance)" : ""}`;
    let firstTime: number | null = null;
    for (const line of log.excerpt.text.split("\n")) {
      const time = lineTime(line);
      if (firstTime === null && time !== null) firstTime = time;
      // Seconds since the first line: a progress line's `elapsed` often starts after some set-up.
      const sinceStart = time !== null && firstTime !== null ? (time - firstTime) / 1000 : 0;
      const quote = `${where}: "${line.trim().slice(0, 160)}"`;
      for (const phrase of PHRASES) {
        for (const match of line.matchAll(phrase)) consider(parseDurationSeconds(match[1] ?? ""), quote);
      }
      for (const match of line.matchAll(ELAPSED)) {
        const elapsed = parseDurationSeconds(match[1] ?? "");
        const eta = ETA.exec(line);
        const remaining = (eta ? parseDurationSeconds(eta[1] ?? "") : 0) ?? 0;
        const startupLine = /warm|load|start|init|boot|progress|\beta\b/i.test(line);
        if (elapsed !== null)
          consider((startupLine ? Math.max(elapsed, sinceStart) : elapsed) + remaining, quote);
      }
    }
  }
  return best;
}
