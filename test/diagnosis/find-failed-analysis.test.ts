import { describe, expect, it } from "vitest";
import { classifyMetric } from "../../agent/diagnosis/analyzers/classify-metric.js";
import { findAnalysisErrorRate } from "../../agent/diagnosis/analyzers/find-analysis-error-rate.js";
import { findAnalysisLatency } from "../../agent/diagnosis/analyzers/find-analysis-latency.js";
import { CANARY_POD, STABLE_POD, analysisRun, incident, log, metric, pod } from "./incident-builder.js";

const latency = metric({
  name: "p99",
  query:
    'histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{app="checkout"}[5m])) by (le))',
  successCondition: "result[0] <= 0.5",
  measurements: [{ phase: "Failed", value: "[1.8]" }],
});

describe("classifyMetric", () => {
  it.each([
    [metric(), "error-rate"],
    [metric({ name: "http-5xx", query: undefined }), "error-rate"],
    [latency, "latency"],
    [metric({ name: "check", query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))' }), "error-rate"],
    [
      metric({ name: "check", query: "histogram_quantile(0.95, sum(rate(duration_bucket[1m])) by (le))" }),
      "latency",
    ],
    [metric({ name: "throughput", query: "sum(rate(http_requests_total[1m]))" }), "latency"],
    [
      metric({ name: "web", query: "https://example.com/check", successCondition: 'result == "true"' }),
      "other",
    ],
  ])("classifies %#", (m, kind) => {
    expect(classifyMetric(m)).toBe(kind);
  });
});

describe("findAnalysisErrorRate", () => {
  it("reports the failed metric with its measured values, strengthened by canary-only errors", () => {
    const base = { pods: [pod(CANARY_POD, "canary")], analysisRuns: [analysisRun([metric()])] };
    const [plain] = findAnalysisErrorRate(incident(base));
    expect(plain?.category).toBe("analysis-error-rate");
    expect(plain?.facts).toMatchObject({
      metric: "success-rate",
      measured: "[0.64]",
      successCondition: "result[0] >= 0.95",
    });
    const [withLogs] = findAnalysisErrorRate(
      incident({
        ...base,
        logs: [
          log(STABLE_POD, "stable", ["INFO ok"]),
          log(CANARY_POD, "canary", ["ERROR POST /checkout 500: tax service returned NaN"]),
        ],
      }),
    );
    expect(withLogs?.confidence).toBeGreaterThan(plain?.confidence ?? 1);
  });

  it("ignores latency metrics", () => {
    expect(findAnalysisErrorRate(incident({ analysisRuns: [analysisRun([latency])] }))).toEqual([]);
  });
});

describe("findAnalysisLatency", () => {
  it("reports failed latency metrics", () => {
    const [finding] = findAnalysisLatency(
      incident({ pods: [pod(CANARY_POD, "canary")], analysisRuns: [analysisRun([latency])] }),
    );
    expect(finding?.category).toBe("analysis-latency");
    expect(finding?.summary).toContain("[1.8]");
    expect(finding?.confidence).toBeGreaterThanOrEqual(0.8);
  });

  it("ignores successful metrics", () => {
    const ok = {
      ...latency,
      phase: "Successful",
      failed: 0,
      measurements: [{ phase: "Successful", value: "[0.2]" }],
    };
    expect(findAnalysisLatency(incident({ analysisRuns: [analysisRun([ok])] }))).toEqual([]);
  });
});
