import { describe, expect, it } from "vitest";
import { diagnose } from "../../agent/diagnosis/diagnose.js";
import {
  CANARY_HASH,
  CANARY_POD,
  STABLE_POD,
  analysisRun,
  container,
  event,
  incident,
  log,
  metric,
  pod,
  stablePod,
} from "./incident-builder.js";

const deadline = {
  conditions: [
    {
      type: "Progressing",
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: "timed out progressing",
    },
  ],
};
const oomContainer = container({
  ready: false,
  state: "waiting",
  reason: "CrashLoopBackOff",
  restartCount: 4,
  lastTermination: { reason: "OOMKilled", exitCode: 137 },
});

describe("diagnose", () => {
  it("lets an OOM kill win over the failed analysis and the progress deadline it explains", () => {
    const result = diagnose(
      incident({
        rollout: deadline,
        pods: [pod(CANARY_POD, "canary", [oomContainer]), stablePod(STABLE_POD)],
        analysisRuns: [analysisRun([metric()])],
        logs: [log(CANARY_POD, "canary", ["ERROR upstream reset while serving /checkout"])],
      }),
    );
    expect(result.category).toBe("oom-killed");
    expect(result.summary).toBe('Canary container "app" of checkout was OOMKilled 4 times (limit 256Mi)');
    expect(result.findings.map((f) => f.category)).toEqual(
      expect.arrayContaining(["oom-killed", "analysis-error-rate", "progress-deadline"]),
    );
    expect(result.findings[0]?.category).toBe("oom-killed");
    expect(result.evidence.length).toBeGreaterThan(0);
    expect(result.evidence.every((e) => e.detail.length <= 300)).toBe(true);
  });

  it("lets image-pull win over progress-deadline", () => {
    const waiting = container({ ready: false, state: "waiting", reason: "ErrImagePull" });
    expect(
      diagnose(incident({ rollout: deadline, pods: [pod(CANARY_POD, "canary", [waiting])] })).category,
    ).toBe("image-pull");
  });

  it("reports progress-deadline when nothing more specific is evident", () => {
    const slow = container({ ready: true });
    expect(
      diagnose(incident({ rollout: deadline, pods: [pod(CANARY_POD, "canary", [slow])] })).category,
    ).toBe("progress-deadline");
  });

  it("lets a wrong probe port explain not-ready pods and a failed analysis", () => {
    const notReady = container({ ready: false, state: "running" });
    const result = diagnose(
      incident({
        rollout: {
          containers: [
            {
              name: "app",
              image: "checkout:1.4.0",
              ports: [{ containerPort: 8080 }],
              limits: {},
              requests: {},
              probes: [{ kind: "readiness", type: "httpGet", port: 9090, path: "/ready" }],
              envFrom: [],
              envRefs: [],
            },
          ],
        },
        pods: [pod(CANARY_POD, "canary", [notReady])],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "Unhealthy",
            "Readiness probe failed: dial tcp 10.0.0.3:9090: connect: connection refused",
          ),
        ],
        analysisRuns: [analysisRun([metric()])],
      }),
    );
    expect(result.category).toBe("probe-failure");
  });

  it("lets a dominant dependency error explain readiness failures and the error rate", () => {
    const notReady = container({ ready: false, state: "running" });
    const result = diagnose(
      incident({
        pods: [pod(CANARY_POD, "canary", [notReady]), stablePod(STABLE_POD)],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
          ),
        ],
        analysisRuns: [analysisRun([metric()])],
        logs: [
          log(STABLE_POD, "stable", ["INFO connected to orders-db:5432"]),
          log(CANARY_POD, "canary", [
            'ERROR could not connect to server: Connection refused. Is the server running on host "orders-db-v2" and accepting TCP/IP connections on port 5432?',
            'ERROR could not connect to server: Connection refused. Is the server running on host "orders-db-v2" and accepting TCP/IP connections on port 5432?',
            "WARN readiness: database unavailable",
          ]),
        ],
      }),
    );
    expect(result.category).toBe("dependency-unreachable");
    expect(result.findings[0]?.facts?.["host"]).toBe("orders-db-v2");
  });

  it("keeps the failed analysis primary when pods serve and logs only share stable's noise", () => {
    const noise = [
      "2024-05-01T10:00:00Z WARN feature flag service slow to answer, using defaults",
      "2024-05-01T10:00:02Z ERROR telemetry exporter: dial tcp 10.0.0.50:4317: connect: connection refused",
    ];
    const result = diagnose(
      incident({
        pods: [pod(CANARY_POD, "canary"), stablePod(STABLE_POD)],
        analysisRuns: [
          analysisRun([
            metric({
              name: "latency-p95",
              query: "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))",
              successCondition: "result[0] < 0.3",
              measurements: [{ phase: "Failed", value: "[0.92]" }],
            }),
          ]),
        ],
        logs: [
          log(STABLE_POD, "stable", noise),
          log(
            CANARY_POD,
            "canary",
            noise.map((l) => l.replace("10:00", "10:05")),
          ),
        ],
      }),
    );
    expect(result.category).toBe("analysis-latency");
    expect(result.findings.some((f) => f.category === "dependency-unreachable")).toBe(false);
  });

  it("says unknown when a failed rollout shows only noise stable shares", () => {
    const noise = ["ERROR cache refresh took too long", "WARN deprecated flag --legacy-tax"];
    const result = diagnose(
      incident({
        pods: [pod(CANARY_POD, "canary"), stablePod(STABLE_POD)],
        logs: [log(STABLE_POD, "stable", noise), log(CANARY_POD, "canary", noise)],
      }),
    );
    expect(result.category).toBe("unknown");
    expect(result.confidence).toBeLessThan(0.5);
  });

  it("says unknown for a failed rollout with nothing at all", () => {
    expect(diagnose(incident()).category).toBe("unknown");
  });

  it("says not-failed for a healthy rollout, even with restarts left from the way there", () => {
    const result = diagnose(
      incident({
        rollout: {
          phase: "Healthy",
          aborted: false,
          conditions: [],
          message: undefined,
          stablePodHash: CANARY_HASH,
        },
        pods: [
          pod(CANARY_POD, "stable", [
            container({ restartCount: 1, lastTermination: { reason: "OOMKilled", exitCode: 137 } }),
          ]),
        ],
      }),
    );
    expect(result.category).toBe("not-failed");
  });

  it("says not-failed for a rollout that is progressing without failures", () => {
    const result = diagnose(
      incident({
        rollout: {
          phase: "Paused",
          aborted: false,
          paused: true,
          conditions: [],
          message: "CanaryPauseStep",
        },
        pods: [pod(CANARY_POD, "canary")],
      }),
    );
    expect(result.category).toBe("not-failed");
  });

  it("does not call a crash-looping canary not-failed just because the rollout still progresses", () => {
    const crashing = container({
      ready: false,
      state: "waiting",
      reason: "CrashLoopBackOff",
      restartCount: 3,
      lastTermination: { reason: "Error", exitCode: 2 },
    });
    const result = diagnose(
      incident({
        rollout: { phase: "Progressing", aborted: false, conditions: [] },
        pods: [pod(CANARY_POD, "canary", [crashing])],
        events: [event("Pod", CANARY_POD, "Unhealthy", "Readiness probe failed: connection refused")],
        logs: [log(CANARY_POD, "canary", ["panic: assignment to entry in nil map"], { previous: true })],
      }),
    );
    expect(result.category).toBe("crash-loop");
  });

  it("lets missing configuration explain the crash it causes", () => {
    const crashing = container({
      ready: false,
      state: "waiting",
      reason: "CrashLoopBackOff",
      restartCount: 3,
      lastTermination: { reason: "Error", exitCode: 1 },
    });
    const result = diagnose(
      incident({
        pods: [pod(CANARY_POD, "canary", [crashing])],
        logs: [
          log(CANARY_POD, "canary", ["Error: missing required environment variable TAX_SERVICE_URL"], {
            previous: true,
          }),
        ],
      }),
    );
    expect(result.category).toBe("config-missing");
    expect(result.findings.map((f) => f.category)).toContain("crash-loop");
  });

  it("ignores start-up probe failures and an old restart once the canary serves", () => {
    const serving = container({ restartCount: 1, lastTermination: { reason: "Error", exitCode: 1 } });
    const result = diagnose(
      incident({
        pods: [pod(CANARY_POD, "canary", [serving]), stablePod(STABLE_POD)],
        events: [
          event("Pod", CANARY_POD, "Unhealthy", "Readiness probe failed: connect: connection refused", {
            count: 2,
          }),
        ],
        analysisRuns: [
          analysisRun([
            metric({
              name: "p95-latency",
              query: "histogram_quantile(0.95, sum(rate(http_server_duration_bucket[5m])) by (le))",
              successCondition: "result[0] < 0.25",
              measurements: [{ phase: "Failed", value: "[0.71]" }],
            }),
          ]),
        ],
      }),
    );
    expect(result.category).toBe("analysis-latency");
  });
});
