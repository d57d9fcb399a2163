import { describe, expect, it } from "vitest";
import { findCrashLoop } from "../../agent/diagnosis/analyzers/find-crash-loop.js";
import { CANARY_POD, STABLE_POD, container, incident, log, pod } from "./incident-builder.js";

const crashing = container({
  ready: false,
  state: "waiting",
  reason: "CrashLoopBackOff",
  restartCount: 5,
  lastTermination: { reason: "Error", exitCode: 2 },
});

describe("findCrashLoop", () => {
  it("reports exit code and the first error line of the previous log", () => {
    const [finding] = findCrashLoop(
      incident({
        pods: [pod(CANARY_POD, "canary", [crashing])],
        logs: [
          log(
            CANARY_POD,
            "canary",
            [
              "2024-05-01T09:59:00Z starting checkout v1.4.0",
              "2024-05-01T09:59:01Z panic: runtime error: invalid memory address or nil pointer dereference",
              "goroutine 1 [running]:",
            ],
            { previous: true },
          ),
        ],
      }),
    );
    expect(finding?.category).toBe("crash-loop");
    expect(finding?.facts).toMatchObject({
      container: "app",
      exitCode: 2,
      firstErrorLine: "panic: runtime error: invalid memory address or nil pointer dereference",
    });
    expect(finding?.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it("does not pick an error line stable prints too", () => {
    const shared = "WARN deprecated config key cache.size, error budget unaffected";
    const [finding] = findCrashLoop(
      incident({
        pods: [pod(CANARY_POD, "canary", [crashing])],
        logs: [
          log(STABLE_POD, "stable", [shared]),
          log(
            CANARY_POD,
            "canary",
            [shared, 'Exception in thread "main" java.lang.NullPointerException: cart'],
            { previous: true },
          ),
        ],
      }),
    );
    expect(finding?.facts?.["firstErrorLine"]).toMatch(/NullPointerException/);
  });

  it("leaves OOM kills to the OOM analyzer", () => {
    const oom = container({
      restartCount: 2,
      state: "waiting",
      reason: "CrashLoopBackOff",
      lastTermination: { reason: "OOMKilled", exitCode: 137 },
    });
    expect(findCrashLoop(incident({ pods: [pod(CANARY_POD, "canary", [oom])] }))).toEqual([]);
  });
});
