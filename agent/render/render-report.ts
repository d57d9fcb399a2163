import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident, LogSnapshot } from "../incident/incident.js";
import { describeStepPosition, findFailedStep } from "./canary-steps.js";
import type { FailedStep } from "./canary-steps.js";
import { plural } from "./markdown.js";
import { stripMetadataComment } from "./pr-metadata.js";
import { cleanForTerminal } from "./untrusted-text.js";

export interface RenderReportInput {
  incident: Incident;
  diagnosis: Diagnosis;
  fix: Fix | null;
  pullRequest: { title: string; branch: string; labels: string[]; body: string } | null;
  issue: { title: string; body: string; labels: string[] } | null;
  noFix: NoFix | null;
  color: boolean;
}

const WIDTH = 100;
const PREVIEW_LINES = 60;
const LOG_LINES = 15;
const EVENT_ROWS = 10;
const LABEL_WIDTH = 10;
const DIFF_LINES = 80;

interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

function paint(color: boolean): Paint {
  const wrap = (open: number, close: number) => (s: string) =>
    color && s !== "" ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/**
 * The terminal report of a dry run or a diagnosis: what a person reads before trusting the JSON.
 * Every line fits in 100 columns; colour codes are only ours, since cluster text is stripped of its own.
 */
export function renderReport(input: RenderReportInput): string {
  const p = paint(input.color);
  const out: string[] = [];
  const { incident, diagnosis } = input;
  const failed = findFailedStep(incident);

  out.push(
    p.bold(`rollout-medic · ${clip(`${incident.rollout.namespace}/${incident.rollout.name}`, WIDTH - 16)}`),
  );
  out.push(
    p.dim(clip(`source ${cleanForTerminal(incident.source)} · gathered ${incident.gatheredAt}`, WIDTH)),
  );

  out.push("", heading(p, "Rollout"), ...renderRolloutSection(input, failed, p));
  out.push("", heading(p, "Diagnosis"), ...renderDiagnosisSection(diagnosis, p));
  out.push("", heading(p, "Evidence"), ...renderEvidenceSection(incident, p));
  if (input.fix) out.push("", heading(p, "Fix"), ...renderFixSection(input.fix, p));
  else if (input.noFix) out.push("", heading(p, "No fix"), ...renderNoFixSection(input.noFix, p));
  if (input.pullRequest) {
    const pr = input.pullRequest;
    out.push("", heading(p, "Pull request (preview)"));
    out.push(
      ...field(p, "title", cleanForTerminal(pr.title)),
      ...field(p, "branch", cleanForTerminal(pr.branch)),
    );
    out.push(...field(p, "labels", cleanForTerminal(pr.labels.join(", "))));
    out.push(...previewBody(pr.body, p));
  } else if (input.issue) {
    const issue = input.issue;
    out.push("", heading(p, "Issue (preview)"));
    out.push(
      ...field(p, "title", cleanForTerminal(issue.title)),
      ...field(p, "labels", cleanForTerminal(issue.labels.join(", "))),
    );
    out.push(...previewBody(issue.body, p));
  } else if (diagnosis.category === "not-failed") {
    out.push("", p.green("Nothing to remediate: the rollout is healthy or still progressing."));
  }
  return out.join("\n");
}

function heading(p: Paint, title: string): string {
  const rule = "─".repeat(Math.max(0, WIDTH - title.length - 4));
  return p.bold(p.cyan(`── ${title} ${rule}`));
}

function field(p: Paint, label: string, value: string): string[] {
  const padded = `${label}:`.padEnd(LABEL_WIDTH);
  return wrap(value, WIDTH - 2 - LABEL_WIDTH).map(
    (line, i) => `  ${i === 0 ? p.dim(padded) : " ".repeat(LABEL_WIDTH)}${line}`,
  );
}

function renderRolloutSection(input: RenderReportInput, failed: FailedStep | null, p: Paint): string[] {
  const { rollout } = input.incident;
  const lines: string[] = [];
  lines.push(
    ...field(
      p,
      "revision",
      [
        rollout.revision ?? "unknown",
        rollout.canaryPodHash ? `canary ${rollout.canaryPodHash}` : "",
        rollout.stablePodHash ? `stable ${rollout.stablePodHash}` : "",
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
  const status = [rollout.phase, rollout.aborted ? "aborted" : "", rollout.paused ? "paused" : ""]
    .filter(Boolean)
    .join(", ");
  const message = rollout.message ? ` — ${cleanForTerminal(rollout.message)}` : "";
  lines.push(
    ...colorFirst(field(p, "status", `${status || "unknown"}${message}`), rollout.aborted ? p.red : (s) => s),
  );
  const position = describeStepPosition(input.incident, failed);
  if (position) lines.push(...field(p, "failed", position));
  if (rollout.steps.length > 0) {
    const marks = rollout.steps.map((step) => {
      const label = `${step.index + 1} ${cleanForTerminal(step.detail)}`;
      if (!failed) return p.dim(`· ${label}`);
      if (step.index < failed.index) return p.green(`✓ ${label}`);
      if (step.index === failed.index) return p.red(p.bold(`✗ ${label}`));
      return p.dim(`· ${label}`);
    });
    lines.push(
      ...joinWrapped(marks, " → ", WIDTH - 2 - LABEL_WIDTH).map(
        (line, i) => `  ${i === 0 ? p.dim("steps:".padEnd(LABEL_WIDTH)) : " ".repeat(LABEL_WIDTH)}${line}`,
      ),
    );
  }
  const canary = input.incident.pods.filter((pod) => pod.role === "canary");
  for (const pod of canary.slice(0, 4)) {
    const states = pod.containers
      .filter((c) => !c.init)
      .map((c) => {
        const last = c.lastTermination?.reason
          ? `, last ${c.lastTermination.reason}${c.lastTermination.exitCode !== undefined ? ` (exit ${c.lastTermination.exitCode})` : ""}`
          : "";
        const text = cleanForTerminal(
          `${c.name} ${c.state}${c.reason ? ` ${c.reason}` : ""}${c.restartCount > 0 ? `, ${c.restartCount} restarts` : ""}${last}`,
        );
        return c.ready ? text : p.yellow(text);
      });
    lines.push(...field(p, "pod", `${pod.name}: ${states.join("; ")}`));
  }
  if (canary.length > 4)
    lines.push(`  ${" ".repeat(LABEL_WIDTH)}${p.dim(`and ${canary.length - 4} more canary pods`)}`);
  return lines;
}

function renderDiagnosisSection(diagnosis: Diagnosis, p: Paint): string[] {
  const color =
    diagnosis.category === "not-failed" ? p.green : diagnosis.category === "unknown" ? p.yellow : p.red;
  const lines = [
    `  ${color(p.bold(diagnosis.category))} ${p.dim(`confidence ${Math.round(diagnosis.confidence * 100)}%`)}`,
  ];
  lines.push(...wrap(cleanForTerminal(diagnosis.summary), WIDTH - 2).map((l) => `  ${l}`));
  for (const item of diagnosis.evidence.slice(0, 6)) {
    lines.push(...bullet(`${p.dim(cleanForTerminal(item.source))}: ${cleanForTerminal(item.detail)}`));
  }
  for (const finding of diagnosis.findings.slice(1, 4)) {
    lines.push(
      p.dim(
        clip(
          `  also: ${finding.category} (${Math.round(finding.confidence * 100)}%) ${cleanForTerminal(finding.summary)}`,
          WIDTH,
        ),
      ),
    );
  }
  return lines;
}

function renderEvidenceSection(incident: Incident, p: Paint): string[] {
  const lines: string[] = [];
  for (const run of incident.analysisRuns.filter((r) => r.phase !== "Successful" && r.phase !== "Running")) {
    lines.push(`  ${p.bold(`analysis ${run.name}`)} ${run.kind} ${p.red(run.phase)}`);
    for (const metric of run.metrics) {
      const values = metric.measurements.slice(-6).map((m) => {
        const value = cleanForTerminal(m.value ?? m.phase).replace(/\s+/g, " ");
        return m.phase === "Failed" || m.phase === "Error" ? p.red(value) : value;
      });
      lines.push(
        ...field(p, "metric", `${metric.name} ${metric.phase}: ${values.join(", ") || "no measurements"}`),
      );
    }
  }
  const events = [...incident.events]
    .sort(
      (a, b) =>
        Number(b.type === "Warning") - Number(a.type === "Warning") ||
        (b.lastSeen ?? "").localeCompare(a.lastSeen ?? ""),
    )
    .slice(0, EVENT_ROWS);
  if (events.length > 0) {
    lines.push(
      `  ${p.bold("events")} ${p.dim(`(${events.length} of ${incident.events.length}, warnings first)`)}`,
    );
    for (const event of events) {
      const type = event.type === "Warning" ? p.yellow("W") : p.dim("N");
      const count = event.count > 1 ? ` ×${event.count}` : "";
      const text = `${event.reason}${count} ${event.object.kind.toLowerCase()}/${event.object.name}: ${cleanForTerminal(event.message).replace(/\s+/g, " ")}`;
      lines.push(`  ${type} ${clip(text, WIDTH - 4)}`);
    }
  }
  const log = mostTellingLog(incident.logs);
  if (log) {
    const all = cleanForTerminal(log.excerpt.text)
      .split("\n")
      .filter((l) => l.trim() !== "");
    const shown = all.slice(-LOG_LINES);
    lines.push(
      `  ${p.bold("log")} ${log.pod}/${log.container}${log.previous ? " (previous)" : ""} ${p.dim(`last ${shown.length} of ${all.length} lines`)}`,
    );
    for (const line of shown) lines.push(p.dim("  │ ") + clip(line, WIDTH - 4));
    if (incident.logs.length > 1)
      lines.push(
        p.dim(
          `  ${plural(incident.logs.length - 1, "more log excerpt")} in the PR or issue body and in --out`,
        ),
      );
  }
  for (const note of incident.quarantined) {
    lines.push(
      p.yellow(
        clip(
          `  withheld: ${note.lines} line(s) from ${cleanForTerminal(note.source)} read like instructions to an AI`,
          WIDTH,
        ),
      ),
    );
  }
  for (const warning of incident.warnings)
    lines.push(p.yellow(clip(`  warning: ${cleanForTerminal(warning)}`, WIDTH)));
  return lines.length > 0 ? lines : [p.dim("  nothing beyond the rollout status")];
}

function mostTellingLog(logs: LogSnapshot[]): LogSnapshot | undefined {
  const rank = (log: LogSnapshot) => (log.role === "canary" ? 0 : 2) + (log.previous ? 0 : 1);
  return [...logs].sort((a, b) => rank(a) - rank(b))[0];
}

function renderFixSection(fix: Fix, p: Paint): string[] {
  const lines = [
    `  ${p.green(p.bold(`${fix.strategy} ${fix.fixer}`))} ${p.dim(`confidence ${Math.round(fix.confidence * 100)}%`)}`,
  ];
  for (const change of fix.changes) {
    lines.push(
      ...bullet(
        `${cleanForTerminal(change.file)} · ${cleanForTerminal(change.location)}: ${p.red(cleanForTerminal(change.from))} → ${p.green(cleanForTerminal(change.to))}`,
      ),
    );
  }
  lines.push(...wrap(cleanForTerminal(fix.rationale), WIDTH - 2).map((l) => `  ${l}`));
  lines.push("");
  const diffLines = cleanForTerminal(fix.diff).trimEnd().split("\n");
  for (const raw of diffLines.slice(0, DIFF_LINES)) {
    const line = clip(raw, WIDTH - 2);
    if (raw.startsWith("+++") || raw.startsWith("---") || raw.startsWith("diff "))
      lines.push(`  ${p.bold(line)}`);
    else if (raw.startsWith("+")) lines.push(`  ${p.green(line)}`);
    else if (raw.startsWith("-")) lines.push(`  ${p.red(line)}`);
    else if (raw.startsWith("@@")) lines.push(`  ${p.cyan(line)}`);
    else lines.push(`  ${line}`);
  }
  if (diffLines.length > DIFF_LINES) {
    lines.push(
      p.dim(`  … ${plural(diffLines.length - DIFF_LINES, "more diff line")}; --out DIR writes fix.patch`),
    );
  }
  while (lines.at(-1)?.trim() === "") lines.pop();
  return lines;
}

function renderNoFixSection(noFix: NoFix, p: Paint): string[] {
  const lines = wrap(cleanForTerminal(noFix.reason), WIDTH - 2).map((l) => `  ${p.yellow(l)}`);
  for (const rejected of noFix.rejected)
    lines.push(
      ...bullet(`${cleanForTerminal(rejected.fixer)} refused: ${cleanForTerminal(rejected.reason)}`),
    );
  return lines;
}

function previewBody(body: string, p: Paint): string[] {
  const all = stripMetadataComment(body).trimEnd().split("\n");
  const shown = all
    .slice(0, PREVIEW_LINES)
    .map((line) => p.dim("  │ ") + clip(cleanForTerminal(line), WIDTH - 4));
  const more = all.length - PREVIEW_LINES;
  if (more > 0) shown.push(p.dim(`  … ${more} more lines; --out DIR writes the whole body`));
  return [`  ${p.dim("body:")}`, ...shown];
}

function colorFirst(lines: string[], color: (s: string) => string): string[] {
  return lines.map((line, i) => (i === 0 ? color(line) : line));
}

/** A bullet whose continuation lines hang under its text. */
function bullet(text: string): string[] {
  return wrap(text, WIDTH - 4).map((line, i) => (i === 0 ? `  - ${line}` : `    ${line}`));
}

/** Joins items with a separator, breaking lines between items at `width` visible columns. */
function joinWrapped(items: string[], separator: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const item of items) {
    const candidate = current === "" ? item : `${current}${separator}${item}`;
    if (current !== "" && visibleLength(candidate) > width) {
      lines.push(`${current}${separator.trimEnd()}`);
      current = item;
    } else current = candidate;
  }
  if (current !== "") lines.push(current);
  return lines;
}

/** Greedy word wrap on visible width; words longer than a line (URLs, JSON) are cut. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter((w) => w !== "")) {
      const chunks = visibleLength(word) > width ? chunk(word, width) : [word];
      for (const piece of chunks) {
        if (line === "") line = piece;
        else if (visibleLength(line) + 1 + visibleLength(piece) <= width) line = `${line} ${piece}`;
        else {
          out.push(line);
          line = piece;
        }
      }
    }
    out.push(line);
  }
  while (out.length > 1 && out.at(-1) === "") out.pop();
  return out;
}

function chunk(word: string, width: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < word.length; i += width) pieces.push(word.slice(i, i + width));
  return pieces;
}

function clip(text: string, width: number): string {
  return [...text].length <= width ? text : `${[...text].slice(0, width - 1).join("")}…`;
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- our own SGR codes take no columns
  return [...text.replace(/\u001b\[[0-9;]*m/g, "")].length;
}
