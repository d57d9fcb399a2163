import type { Incident, LogSnapshot, PodRole } from "../../incident/incident.js";
import { findInjection } from "../../redaction/quarantine-injection.js";

export interface LogLine {
  log: LogSnapshot;
  text: string;
  /** The line without timestamps, numbers and ids, to compare canary and stable lines. */
  normalized: string;
  /** How many log lines this excerpt line stands for (the reducer collapses repeats into one). */
  count: number;
  /** The reducer found the same error in the stable logs. */
  alsoInStable: boolean;
}

/** The reducer's note after a kept line: `[×12, first 10:00:01, last 10:04:09]`, `[last of ×12]`, `[also in stable logs]`. */
const OCCURRENCE_NOTE = /\s\[((?:last of )?×(\d+)[^\]]*|also in stable logs)\]\s*$/;

export function splitOccurrenceNote(line: string): {
  text: string;
  count: number;
  repeat: boolean;
  alsoInStable: boolean;
} {
  const match = OCCURRENCE_NOTE.exec(line);
  if (!match?.[1]) return { text: line, count: 1, repeat: false, alsoInStable: false };
  return {
    text: line.slice(0, match.index),
    count: Number(match[2] ?? 1),
    repeat: match[1].startsWith("last of"),
    alsoInStable: match[1].includes("also in stable logs"),
  };
}

const LEADING_TIMESTAMP =
  /^\s*(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?|[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+)\s*/;

export function stripTimestamp(line: string): string {
  return line.replace(LEADING_TIMESTAMP, "");
}

export function normalizeLogLine(line: string): string {
  return stripTimestamp(line)
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>")
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/g, "<id>")
    .replace(/\d+/g, "0")
    .replace(/\s+/g, " ")
    .trim();
}

/** Lines the log reducer inserts to mark what it left out: not application output. */
const REDUCER_MARKER =
  /^\s*(?:\.\.\.|…|\[rollout-medic log excerpt|\[[^\]]*(?:omitted|skipped|elided|truncated|repeated|quarantined|withheld)[^\]]*\]|<[^>]*(?:omitted|skipped|elided|truncated|repeated|quarantined|withheld)[^>]*>)/i;

export function logLines(incident: Incident, role: PodRole): LogLine[] {
  const out: LogLine[] = [];
  for (const log of incident.logs) {
    if (log.role !== role) continue;
    const text: string = log.excerpt.text;
    // Lines that read like instructions to an AI are never evidence: quoting them would carry them into a PR.
    const flagged = new Set(findInjection(text).map((m) => m.line));
    const rawLines = text.split(/\r?\n/);
    for (const [index, raw] of rawLines.entries()) {
      if (raw.trim() === "" || flagged.has(index + 1) || REDUCER_MARKER.test(raw)) continue;
      const { text, count, repeat, alsoInStable } = splitOccurrenceNote(raw);
      // The last of a run of repeats is the same template again; its count is already on the first.
      out.push({
        log,
        text: stripTimestamp(text).trim(),
        normalized: normalizeLogLine(text),
        count: repeat ? 0 : count,
        alsoInStable,
      });
    }
  }
  return out;
}

function tokens(normalized: string): Set<string> {
  return new Set(normalized.split(/[^a-z0<>_]+/).filter((t) => t.length > 1));
}

function similar(a: Set<string>, b: Set<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared) >= 0.8;
}

/**
 * Canary log lines the stable revision does not also print. A warning, or even an ERROR, that stable
 * prints too is the service's normal noise and explains nothing about the canary.
 */
export function canaryOnlyLines(incident: Incident): LogLine[] {
  const stable = logLines(incident, "stable");
  const exact = new Set(stable.map((l) => l.normalized));
  const stableTokens = stable.map((l) => tokens(l.normalized));
  const canary =
    logLines(incident, "canary").length > 0 ? logLines(incident, "canary") : logLines(incident, "other");
  return canary.filter((line) => {
    if (line.alsoInStable || exact.has(line.normalized)) return false;
    const own = tokens(line.normalized);
    return !stableTokens.some((t) => similar(own, t));
  });
}

const ERROR_LINE =
  /\b(?:error|err|fatal|panic|panicked|exception|traceback|unhandled|crit(?:ical)?|severe|failed|failure|refused|timed? ?out|unreachable|cannot|can't|could not|unable to)\b|"level"\s*:\s*"(?:error|fatal|crit)|level=(?:error|fatal|crit)|\b[A-Z][A-Za-z]+(?:Error|Exception)\b/i;

export function isErrorLine(text: string): boolean {
  return ERROR_LINE.test(text) && !isStackFrame(text);
}

/** The non-empty lines of one log excerpt, without those that read like instructions to an AI. */
export function excerptLines(log: LogSnapshot): string[] {
  const text: string = log.excerpt.text;
  const flagged = new Set(findInjection(text).map((m) => m.line));
  return text.split(/\r?\n/).filter((l, i) => l.trim() !== "" && !flagged.has(i + 1));
}

/** Stack frames and trace bookkeeping: part of an error, but never the line that names it. */
const STACK_FRAME =
  /^\s*(?:at\s|File "|goroutine \d+|\.\.\. \d+ more|created by |[\w./-]+\.(?:go|java|js|mjs|cjs|ts|py|rb|rs|kt|scala|cs):\d+|[\w.$/*<>-]+\(.*\)\s*(?:\+0x[0-9a-f]+)?$)/i;

export function isStackFrame(text: string): boolean {
  return STACK_FRAME.test(text);
}

const NAMES_CAUSE = /\b\w*(?:Error|Exception)\b:|\bpanic\b|\bunhandled\b|\bfatal\b/i;
const ERROR_LEVEL =
  /^\W*(?:error|err|fatal|crit(?:ical)?|severe|panic|E\d{4})\b|\blevel[=:]\W*(?:error|fatal|crit)|"(?:level|severity)"\s*:\s*"(?:error|fatal|crit)/i;

/**
 * How strongly a line reports a failure: 2 names an exception or panic, 1 is logged at error level,
 * 0 merely mentions a failure (often a warning). Evidence quotes the strongest lines.
 */
export function errorSeverity(text: string): number {
  if (NAMES_CAUSE.test(text)) return 2;
  if (ERROR_LEVEL.test(text)) return 1;
  return 0;
}
