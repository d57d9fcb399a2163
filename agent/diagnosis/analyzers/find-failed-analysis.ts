import type { Incident } from "../../incident/incident.js";
import type { Category, Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { canaryPods, isServing } from "./canary-pods.js";
import { failedMetrics, failedValues } from "./classify-metric.js";
import type { FailedMetric, MetricKind } from "./classify-metric.js";
import { evidence, logSource, uniqueEvidence } from "./evidence.js";
import { canaryOnlyLines, errorSeverity, isErrorLine } from "./log-lines.js";

/** Shared by the error-rate and latency analyzers: one finding per kind of failed metric. */
export function findFailedAnalysis(incident: Incident, kind: Exclude<MetricKind, "other">): Finding[] {
  const failed = failedMetrics(incident);
  // Canary-only error lines back an error-rate verdict; they say little about latency.
  const errorLines =
    kind === "error-rate" ? canaryOnlyLines(incident).filter((l) => isErrorLine(l.text)) : [];
  let metrics = failed.filter((m) => m.kind === kind);
  // A metric whose meaning cannot be read (a Job or web check) still failed on something the canary logs as errors.
  const guessed = metrics.length === 0 && errorLines.length > 0;
  if (guessed) metrics = failed.filter((m) => m.kind === "other");
  const first = metrics[0];
  if (!first) return [];
  const category: Category = kind === "error-rate" ? "analysis-error-rate" : "analysis-latency";
  const analyzer = kind === "error-rate" ? "findAnalysisErrorRate" : "findAnalysisLatency";

  const items: Evidence[] = metrics.map(({ run, metric }) => {
    const values = failedValues(metric);
    const condition = metric.failureCondition
      ? `failure when ${metric.failureCondition}`
      : metric.successCondition
        ? `success when ${metric.successCondition}`
        : "";
    return evidence(
      `analysisrun/${run.name}`,
      `metric "${metric.name}" ${metric.phase} (${metric.failed} failed of ${metric.count})${
        values.length > 0 ? `, measured ${values.join(", ")}` : ""
      }${condition ? `; ${condition}` : ""}`,
    );
  });

  // One line per kind of error, strongest first; a mere warning is quoted only when nothing stronger exists.
  const distinct = [...new Map(errorLines.map((l) => [l.normalized, l])).values()].sort(
    (a, b) => errorSeverity(b.text) - errorSeverity(a.text),
  );
  const strongest = errorSeverity(distinct[0]?.text ?? "");
  const quoted = distinct.filter((l) => strongest === 0 || errorSeverity(l.text) > 0);
  items.push(
    ...quoted
      .slice(0, 3)
      .map((l) =>
        evidence(logSource(l.log.pod, l.log.container), `${l.log.previous ? "previous: " : ""}${l.text}`),
      ),
  );

  const pods = canaryPods(incident);
  // The analysis is the primary cause only when the canary runs: otherwise it measured a symptom.
  const serving = pods.length === 0 || pods.some(isServing);
  const base = serving ? 0.8 : 0.55;
  const confidence = guessed ? base - 0.2 : Math.min(0.95, base + (errorLines.length > 0 ? 0.1 : 0));
  return [
    {
      category,
      analyzer,
      summary: summaryOf(incident, first, metrics.length, kind),
      evidence: uniqueEvidence(items),
      confidence,
      rank: RANK[category],
      facts: factsOf(first, errorLines.length),
    },
  ];
}

function summaryOf(incident: Incident, first: FailedMetric, count: number, kind: MetricKind): string {
  const values = failedValues(first.metric);
  const what = kind === "error-rate" ? "errors" : "latency";
  return `Canary analysis of ${incident.rollout.name} failed on ${what}: metric "${first.metric.name}"${
    values.length > 0 ? ` measured ${values.at(-1)}` : ""
  }${first.metric.successCondition ? ` (needs ${first.metric.successCondition})` : ""}${
    count > 1 ? ` and ${count - 1} more metric${count > 2 ? "s" : ""}` : ""
  }`;
}

function factsOf(first: FailedMetric, errorLines: number): Record<string, string | number | boolean> {
  const facts: Record<string, string | number | boolean> = {
    analysisRun: first.run.name,
    metric: first.metric.name,
    failedMeasurements: first.metric.failed,
  };
  const value = failedValues(first.metric).at(-1);
  if (value !== undefined) facts["measured"] = value;
  if (first.metric.successCondition) facts["successCondition"] = first.metric.successCondition;
  if (first.metric.failureCondition) facts["failureCondition"] = first.metric.failureCondition;
  if (first.metric.provider) facts["provider"] = first.metric.provider;
  if (errorLines > 0) facts["canaryErrorLines"] = errorLines;
  return facts;
}
