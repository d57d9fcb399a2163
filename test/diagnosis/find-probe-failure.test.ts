import { describe, expect, it } from "vitest";
import {
  estimatedStartupSeconds,
  findProbeFailure,
  probeBudgetSeconds,
} from "../../agent/diagnosis/analyzers/find-probe-failure.js";
import { CANARY_POD, container, containerSpec, event, incident, log, pod } from "./incident-builder.js";

const notReady = container({ ready: false, state: "running" });

describe("findProbeFailure", () => {
  it("flags a probe aimed at a port the container does not declare", () => {
    const spec = containerSpec({
      probes: [{ kind: "readiness", type: "httpGet", port: 8081, path: "/ready" }],
    });
    const [finding] = findProbeFailure(
      incident({
        rollout: { containers: [spec] },
        pods: [pod(CANARY_POD, "canary", [notReady])],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "Unhealthy",
            'Readiness probe failed: Get "http://10.1.2.3:8081/ready": dial tcp 10.1.2.3:8081: connect: connection refused',
            { count: 40 },
          ),
        ],
      }),
    );
    expect(finding?.category).toBe("probe-failure");
    expect(finding?.facts).toMatchObject({
      probeKind: "readiness",
      probePort: 8081,
      declaredPorts: "8080",
      portUndeclared: true,
    });
    expect(finding?.confidence).toBeGreaterThan(0.9);
  });

  it("flags a named port that does not exist", () => {
    const spec = containerSpec({
      probes: [{ kind: "readiness", type: "httpGet", port: "metrics", path: "/ready" }],
    });
    const [finding] = findProbeFailure(
      incident({ rollout: { containers: [spec] }, pods: [pod(CANARY_POD, "canary", [notReady])] }),
    );
    expect(finding?.facts).toMatchObject({ probePort: "metrics", portUndeclared: true });
  });

  it("recognises a slow start killed by the liveness probe", () => {
    const spec = containerSpec({
      probes: [
        {
          kind: "liveness",
          type: "httpGet",
          port: "http",
          path: "/healthz",
          initialDelaySeconds: 5,
          periodSeconds: 5,
          failureThreshold: 3,
        },
      ],
    });
    const restarting = container({
      ready: false,
      state: "running",
      restartCount: 4,
      lastTermination: { reason: "Error", exitCode: 137 },
    });
    const [finding] = findProbeFailure(
      incident({
        rollout: { containers: [spec] },
        pods: [pod(CANARY_POD, "canary", [restarting])],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "Unhealthy",
            'Liveness probe failed: Get "http://10.1.2.3:8080/healthz": context deadline exceeded',
          ),
          event("Pod", CANARY_POD, "Killing", "Container app failed liveness probe, will be restarted"),
        ],
        logs: [
          log(CANARY_POD, "canary", ["loading product catalogue", "warming cache (this takes a while)"], {
            previous: true,
          }),
          log(CANARY_POD, "canary", ["Started CheckoutApplication in 48.2 seconds"]),
        ],
      }),
    );
    expect(finding?.facts).toMatchObject({
      probeKind: "liveness",
      slowStart: true,
      observedStartupSeconds: 48,
      livenessBudgetSeconds: 15,
    });
    expect(finding?.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it("defers to a crash when the process exits on its own", () => {
    const crashing = container({
      ready: false,
      state: "waiting",
      reason: "CrashLoopBackOff",
      restartCount: 3,
      lastTermination: { reason: "Error", exitCode: 1 },
    });
    const [finding] = findProbeFailure(
      incident({
        pods: [pod(CANARY_POD, "canary", [crashing])],
        events: [event("Pod", CANARY_POD, "Unhealthy", "Readiness probe failed: connection refused")],
      }),
    );
    expect(finding?.confidence).toBeLessThan(0.5);
  });

  it("stays silent when every container is ready and no probe failed", () => {
    expect(findProbeFailure(incident({ pods: [pod(CANARY_POD, "canary")] }))).toEqual([]);
  });

  it("estimates start-up time from progress lines", () => {
    expect(estimatedStartupSeconds('msg="cache warm-up" progress=50% elapsed=23.2s eta=23.2s')).toBeCloseTo(
      46.4,
    );
    expect(estimatedStartupSeconds("loading index progress=25% elapsed=10s")).toBeCloseTo(40);
    expect(estimatedStartupSeconds("GET /orders 200 12ms")).toBeUndefined();
  });

  it("computes when kubelet kills a container that never answers", () => {
    expect(
      probeBudgetSeconds({
        kind: "liveness",
        type: "httpGet",
        initialDelaySeconds: 5,
        periodSeconds: 10,
        failureThreshold: 3,
      }),
    ).toBe(25);
    expect(probeBudgetSeconds({ kind: "liveness", type: "httpGet" })).toBe(20);
  });
});
