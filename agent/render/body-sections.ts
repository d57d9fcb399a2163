import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Incident, LogSnapshot, MetricResult, PodSnapshot } from "../incident/incident.js";
import { describeStepPosition, renderCanaryStepsMermaid } from "./canary-steps.js";
import type { FailedStep } from "./canary-steps.js";
import {
  codeBlock,
  detailsBlock,
  escapeHtml,
  escapeInline,
  inlineCode,
  markdownTable,
  plural,
  tailLines,
  truncate,
} from "./markdown.js";
import { sanitizeUntrusted } from "./untrusted-text.js";

const FAILED_PHASES = new Set(["Failed", "Error", "Inconclusive"]);

/**
 * Collects, per source, how many lines were withheld while rendering, so the body can say what was
 * left out and why without quoting it. Seeded with what gathering already found.
 */
export class WithheldLedger {
  readonly #lines = new Map<string, number>();

  constructor(incident: Incident) {
    for (const note of incident.quarantined) this.#lines.set(note.source, note.lines);
  }

  /** Sanitises `text` and remembers any withheld lines under `source`. */
  clean(source: string, text: string | undefined): string {
    if (text === undefined || text === "") return "";
    const result = sanitizeUntrusted(text);
    if (result.withheld > 0) this.#lines.set(source, Math.max(this.#lines.get(source) ?? 0, result.withheld));
    return result.text;
  }

  /** Sanitised and escaped for a table cell or a sentence. */
  inline(source: string, text: string | undefined, max = 300): string {
    return escapeInline(truncate(this.clean(source, text).replace(/\s+/g, " "), max));
  }

  entries(): { source: string; lines: number }[] {
    return [...this.#lines].map(([source, lines]) => ({ source, lines }));
  }
}

/** How much evidence fits; the finaliser lowers the level until the body fits GitHub's limit. */
export interface EvidenceBudget {
  level: number;
  maxEvents: number;
  maxLogChars: number;
  maxLogs: number;
  fullDiff: boolean;
}

export const EVIDENCE_BUDGETS: readonly EvidenceBudget[] = [
  { level: 0, maxEvents: 30, maxLogChars: 8000, maxLogs: 6, fullDiff: true },
  { level: 1, maxEvents: 20, maxLogChars: 3000, maxLogs: 4, fullDiff: true },
  { level: 2, maxEvents: 10, maxLogChars: 1200, maxLogs: 2, fullDiff: false },
  { level: 3, maxEvents: 5, maxLogChars: 0, maxLogs: 0, fullDiff: false },
  { level: 4, maxEvents: 0, maxLogChars: 0, maxLogs: 0, fullDiff: false },
];

export function rolloutRef(incident: Incident): string {
  return `${incident.rollout.namespace}/${incident.rollout.name}`;
}

export function renderWhatFailed(
  incident: Incident,
  failed: FailedStep | null,
  ledger: WithheldLedger,
): string {
  const { rollout } = incident;
  const rows: [string, string][] = [];
  rows.push(["Rollout", `${inlineCode(rolloutRef(incident))} (${escapeInline(rollout.strategy)} strategy)`]);
  const hashes = [
    rollout.canaryPodHash ? `canary pod hash ${inlineCode(rollout.canaryPodHash)}` : null,
    rollout.stablePodHash ? `stable ${inlineCode(rollout.stablePodHash)}` : null,
  ].filter((s): s is string => s !== null);
  rows.push(["Revision", [escapeInline(rollout.revision ?? "unknown"), ...hashes].join(", ")]);
  const position = describeStepPosition(incident, failed);
  if (position) {
    // An abort resets the step index, so without a step AnalysisRun the step is only Argo's word.
    const how =
      failed?.from === "current-step" && rollout.aborted ? ", as the aborted rollout reports it" : "";
    rows.push(["Failed at", `${escapeInline(position)}${how}`]);
  }
  const status = [rollout.phase, rollout.aborted ? "aborted" : null, rollout.paused ? "paused" : null]
    .filter((s): s is string => Boolean(s))
    .join(", ");
  const message = ledger.inline(`status of Rollout ${rollout.name}`, rollout.message);
  rows.push(["Status", [escapeInline(status || "unknown"), message].filter((s) => s !== "").join(": ")]);
  const images = [
    ...new Set(incident.replicaSets.filter((rs) => rs.role === "canary").flatMap((rs) => rs.images)),
  ];
  if (images.length > 0) rows.push(["Canary images", images.map((i) => inlineCode(i)).join(", ")]);
  const canaryPods = incident.pods.filter((p) => p.role === "canary");
  const list = rows.map(([label, value]) => `- **${label}:** ${value}`);
  if (canaryPods.length > 0)
    list.push(`- **Canary pods:**`, ...describePods(canaryPods, ledger).map((line) => `  - ${line}`));
  return ["### What failed", "", ...list, renderAnalysis(incident, ledger)]
    .filter((s) => s !== "")
    .join("\n");
}

function describePods(pods: PodSnapshot[], ledger: WithheldLedger): string[] {
  const shown = pods.slice(0, 3).map((pod) => {
    const troubled = pod.containers.filter(
      (c) => !c.ready || c.restartCount > 0 || c.state === "waiting" || c.lastTermination,
    );
    const states = troubled.map((c) => {
      const now = [c.state, c.reason].filter(Boolean).join(" ");
      const last = c.lastTermination
        ? `last ${[
            c.lastTermination.reason,
            c.lastTermination.exitCode !== undefined ? `exit ${c.lastTermination.exitCode}` : null,
          ]
            .filter(Boolean)
            .join(", ")}`
        : null;
      const restarts = c.restartCount > 0 ? plural(c.restartCount, "restart") : null;
      return `${inlineCode(c.name)} ${ledger.inline(`pod ${pod.name}`, [now, last, restarts].filter(Boolean).join("; "), 120)}`;
    });
    const summary = states.length > 0 ? states.join(", ") : escapeInline(pod.phase);
    return `${inlineCode(pod.name)}: ${summary}`;
  });
  return pods.length > 3 ? [...shown, `and ${plural(pods.length - 3, "more pod")}`] : shown;
}

function renderAnalysis(incident: Incident, ledger: WithheldLedger): string {
  const runs = incident.analysisRuns.filter((run) => FAILED_PHASES.has(run.phase));
  if (runs.length === 0) return "";
  const parts: string[] = [];
  for (const run of runs.slice(0, 3)) {
    const source = `analysisrun ${run.name}`;
    parts.push("");
    parts.push(
      `**AnalysisRun ${inlineCode(run.name)}** (${escapeInline(run.kind)} analysis): ${escapeInline(run.phase)}`,
    );
    const message = ledger.inline(source, run.message);
    if (message !== "") parts.push(`> ${message}`);
    const metrics = run.metrics.filter(
      (m) => FAILED_PHASES.has(m.phase) || m.failed + m.error + m.inconclusive > 0,
    );
    const shownMetrics = metrics.length > 0 ? metrics : run.metrics;
    if (shownMetrics.length === 0) continue;
    parts.push("");
    parts.push(
      markdownTable(
        ["Metric", "Result", "Measured (oldest → newest)", "Passes when"],
        shownMetrics.slice(0, 5).map((m) => metricRow(m, source, ledger)),
      ),
    );
  }
  return parts.join("\n");
}

function metricRow(metric: MetricResult, source: string, ledger: WithheldLedger): string[] {
  const counts = [
    metric.failed > 0 ? `${metric.failed} failed` : null,
    metric.error > 0 ? `${metric.error} errors` : null,
    metric.inconclusive > 0 ? `${metric.inconclusive} inconclusive` : null,
    `${metric.successful} passed`,
  ].filter(Boolean);
  const recent = metric.measurements.slice(-6);
  const values = recent.map((m) => {
    const value = m.value !== undefined && m.value !== "" ? m.value : m.phase;
    const cell = inlineCode(truncate(ledger.clean(source, value).replace(/\s+/g, " "), 40));
    return FAILED_PHASES.has(m.phase) ? `**${cell}**` : cell;
  });
  const skipped = metric.measurements.length - recent.length;
  const condition = metric.successCondition
    ? inlineCode(truncate(ledger.clean(source, metric.successCondition), 80))
    : metric.failureCondition
      ? `not ${inlineCode(truncate(ledger.clean(source, metric.failureCondition), 80))}`
      : "";
  return [
    inlineCode(metric.name),
    `${escapeInline(metric.phase)} (${counts.join(", ")})`,
    `${skipped > 0 ? "… " : ""}${values.join(", ") || "none"}`,
    condition,
  ];
}

export function renderRootCause(diagnosis: Diagnosis, ledger: WithheldLedger): string {
  const lines = ["### Root cause", ""];
  lines.push(ledger.inline("diagnosis", diagnosis.summary, 1000));
  lines.push("");
  lines.push(
    `Category ${inlineCode(diagnosis.category)}, confidence **${formatConfidence(diagnosis.confidence)}**.`,
  );
  if (diagnosis.evidence.length > 0) {
    lines.push("");
    for (const item of diagnosis.evidence.slice(0, 6)) {
      lines.push(
        `- ${inlineCode(truncate(item.source, 120))}: ${ledger.inline(`evidence ${item.source}`, item.detail, 400)}`,
      );
    }
  }
  const others = diagnosis.findings.slice(1).filter((f) => f.category !== diagnosis.category);
  if (others.length > 0) {
    lines.push("");
    lines.push("Also observed, and explained by this cause:");
    lines.push("");
    for (const finding of others.slice(0, 4)) {
      lines.push(
        `- ${inlineCode(finding.category)} (${formatConfidence(finding.confidence)}): ${ledger.inline("diagnosis", finding.summary, 300)}`,
      );
    }
  }
  return lines.join("\n");
}

export function renderStepsDiagram(incident: Incident, failed: FailedStep | null): string {
  const diagram = renderCanaryStepsMermaid(incident, failed);
  if (!diagram) return "";
  const position = describeStepPosition(incident, failed);
  const caption = position
    ? `The canary failed at ${escapeInline(position)}; green steps had passed.`
    : "The step the canary failed at is not known.";
  return ["### Canary steps", "", caption, "", codeBlock(diagram, "mermaid")].join("\n");
}

/**
 * Events and logs in collapsed sections: they back the diagnosis but are long, and they are the
 * part a reviewer trusts least, so they come after the change and are trimmed first.
 */
export function renderEvidence(incident: Incident, budget: EvidenceBudget, ledger: WithheldLedger): string {
  const parts: string[] = ["### Evidence"];
  const events = renderEvents(incident, budget, ledger);
  if (events) parts.push("", events);
  for (const log of pickLogs(incident.logs, budget.maxLogs))
    parts.push("", renderLog(incident, log, budget, ledger));
  const trimmed = incident.logs.length - Math.min(incident.logs.length, budget.maxLogs);
  if (budget.level > 0) {
    parts.push(
      "",
      `> [!NOTE]\n> Evidence was shortened to fit GitHub's size limit${trimmed > 0 ? ` (${plural(trimmed, "log excerpt")} left out)` : ""}. ` +
        `Read it in the cluster: ${inlineCode(`kubectl get events -n ${incident.rollout.namespace}`)} and ${inlineCode(`kubectl logs -n ${incident.rollout.namespace} <pod> --previous`)}.`,
    );
  }
  const withheld = ledger.entries();
  if (withheld.length > 0) {
    parts.push(
      "",
      "> [!WARNING]\n> Some text from the cluster was withheld because it reads like instructions to an AI assistant " +
        "(a prompt-injection attempt or a very unusual log line). It is not quoted here; read the source in the cluster if you need it.",
      ...withheld.map((w) => `> - ${escapeInline(w.source)}: ${plural(w.lines, "line")}`),
    );
  }
  if (incident.warnings.length > 0) {
    parts.push("", "Not everything could be read:", "");
    for (const warning of incident.warnings.slice(0, 10))
      parts.push(`- ${ledger.inline("warnings", warning, 200)}`);
  }
  return parts.length > 1 ? parts.join("\n") : "";
}

function renderEvents(incident: Incident, budget: EvidenceBudget, ledger: WithheldLedger): string {
  if (incident.events.length === 0 || budget.maxEvents === 0) return "";
  // Warnings explain failures; Normal events mostly narrate them, so they go last when space is short.
  const sorted = [...incident.events].sort(
    (a, b) =>
      Number(b.type === "Warning") - Number(a.type === "Warning") ||
      (b.lastSeen ?? "").localeCompare(a.lastSeen ?? ""),
  );
  const shown = sorted.slice(0, budget.maxEvents);
  const rows = shown.map((event) => {
    const source = `event ${event.object.kind}/${event.object.name} ${event.reason}`;
    return [
      escapeInline(event.lastSeen ?? ""),
      escapeInline(event.type),
      inlineCode(ledger.clean(source, event.reason)),
      inlineCode(truncate(`${event.object.kind.toLowerCase()}/${event.object.name}`, 80)),
      event.count > 1 ? `${event.count}` : "1",
      ledger.inline(source, event.message, 400),
    ];
  });
  const hidden = incident.events.length - shown.length;
  const table = markdownTable(["Last seen", "Type", "Reason", "Object", "Count", "Message"], rows, [
    "left",
    "left",
    "left",
    "left",
    "right",
    "left",
  ]);
  const warnings = incident.events.filter((e) => e.type === "Warning").length;
  const summary = `Events (${plural(incident.events.length, "event")}, ${plural(warnings, "warning")})`;
  return detailsBlock(summary, hidden > 0 ? `${table}\n\n${plural(hidden, "more event")} not shown.` : table);
}

function pickLogs(logs: LogSnapshot[], max: number): LogSnapshot[] {
  // The canary's previous container holds the crash; the stable log is only a baseline.
  const rank = (log: LogSnapshot) => (log.role === "canary" ? 0 : 2) + (log.previous ? 0 : 1);
  return [...logs].sort((a, b) => rank(a) - rank(b)).slice(0, max);
}

function renderLog(
  incident: Incident,
  log: LogSnapshot,
  budget: EvidenceBudget,
  ledger: WithheldLedger,
): string {
  const label = `${log.pod}/${log.container}${log.previous ? " (previous)" : ""}`;
  const source = `log ${label}`;
  const clean = ledger.clean(source, log.excerpt.text);
  const { text, omittedLines } = tailLines(clean, budget.maxLogChars);
  const role = log.role === "stable" ? "stable, for comparison" : log.role;
  const { keptLines, totalLines } = log.excerpt;
  const reduced =
    totalLines > keptLines ? `, ${keptLines} of ${totalLines.toLocaleString("en-US")} lines` : "";
  const container = `<code>${escapeHtml(`${log.pod}/${log.container}`)}</code>${log.previous ? " (previous container)" : ""}`;
  const summary = `Log of ${container}, ${role}${reduced}`;
  const note =
    omittedLines > 0
      ? `Last lines only (${plural(omittedLines, "earlier line")} left out); full log: ${inlineCode(
          `kubectl logs -n ${incident.rollout.namespace} ${log.pod} -c ${log.container}${log.previous ? " --previous" : ""}`,
        )}\n\n`
      : "";
  return detailsBlock(summary, `${note}${codeBlock(text === "" ? "(empty)" : text, "text")}`);
}

export function formatConfidence(confidence: number): string {
  return `${Math.round(Math.max(0, Math.min(1, confidence)) * 100)}%`;
}

export function renderFooter(version: string, parts: string[]): string {
  const details = [`rollout-medic ${escapeInline(version)}`, ...parts].join(" · ");
  return `---\n<sub>${details}</sub>`;
}
