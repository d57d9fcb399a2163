import type { AnalysisRunSnapshot, Incident, MetricResult } from "../../incident/incident.js";

export type MetricKind = "error-rate" | "latency" | "other";

const LATENCY =
  /latenc|duration|p50|p75|p9\d|percentile|quantile|response.?time|slow|throughput|\brps\b|\bqps\b|requests?.?per.?(?:second|sec|minute)|_seconds_bucket|\btps\b|apdex/i;
const ERRORS =
  /error|5xx|\b5\d\d\b|5\.\.|\[5\]|status(?:_code)?\s*(?:=~|!~|=|==)\s*["']?5|code\s*(?:=~|=)\s*["']?5|success|fail|exception|availability|non.?2xx|panic|crash/i;

function kindOf(text: string): MetricKind {
  const latency = LATENCY.test(text);
  const errors = ERRORS.test(text);
  if (latency && !errors) return "latency";
  if (errors && !latency) return "error-rate";
  if (latency && errors) {
    // A quantile or duration is measured even when 5xx are filtered out; a ratio of errors never is.
    return /histogram_quantile|quantile|duration|latenc|p9\d|response.?time/i.test(text)
      ? "latency"
      : "error-rate";
  }
  return "other";
}

/** What a metric measures, judged by its name first, then by its query and conditions. */
export function classifyMetric(metric: MetricResult): MetricKind {
  const byName = kindOf(metric.name.replace(/[-_]/g, " "));
  if (byName !== "other") return byName;
  return kindOf(
    [metric.query, metric.successCondition, metric.failureCondition, metric.message]
      .filter(Boolean)
      .join(" "),
  );
}

export interface FailedMetric {
  run: AnalysisRunSnapshot;
  metric: MetricResult;
  kind: MetricKind;
}

/** Metrics the analysis judged as failing the canary (not provider errors, which say nothing about the app). */
export function failedMetrics(incident: Incident): FailedMetric[] {
  const out: FailedMetric[] = [];
  for (const run of incident.analysisRuns) {
    for (const metric of run.metrics) {
      if (metric.phase !== "Failed" && !(metric.failed > 0 && run.phase === "Failed")) continue;
      out.push({ run, metric, kind: classifyMetric(metric) });
    }
  }
  return out;
}

/** The failing measured values, newest last, for the summary. */
export function failedValues(metric: MetricResult): string[] {
  return metric.measurements
    .filter((m) => m.phase === "Failed" && m.value !== undefined)
    .map((m) => m.value as string)
    .slice(-3);
}
