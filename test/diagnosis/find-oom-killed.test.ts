import { describe, expect, it } from "vitest";
import { findOomKilled } from "../../agent/diagnosis/analyzers/find-oom-killed.js";
import { CANARY_POD, CANARY_POD_2, container, incident, log, pod } from "./incident-builder.js";

describe("findOomKilled", () => {
  it("reports OOMKilled last terminations with the container's memory limit and request", () => {
    const oom = container({
      ready: false,
      state: "waiting",
      reason: "CrashLoopBackOff",
      restartCount: 3,
      lastTermination: { reason: "OOMKilled", exitCode: 137 },
    });
    const findings = findOomKilled(
      incident({
        pods: [pod(CANARY_POD, "canary", [oom]), pod(CANARY_POD_2, "canary", [{ ...oom, restartCount: 1 }])],
      }),
    );
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding?.category).toBe("oom-killed");
    expect(finding?.confidence).toBeGreaterThan(0.9);
    expect(finding?.facts).toMatchObject({
      container: "app",
      memoryLimit: "256Mi",
      memoryRequest: "128Mi",
      restarts: 4,
    });
    expect(finding?.summary).toBe('Canary container "app" of checkout was OOMKilled 4 times (limit 256Mi)');
    expect(finding?.evidence[0]?.source).toBe(`pod/${CANARY_POD}`);
  });

  it("accepts exit 137 only with memory evidence", () => {
    const killed = container({ restartCount: 2, lastTermination: { reason: "Error", exitCode: 137 } });
    expect(findOomKilled(incident({ pods: [pod(CANARY_POD, "canary", [killed])] }))).toEqual([]);
    const withLog = incident({
      pods: [pod(CANARY_POD, "canary", [killed])],
      logs: [log(CANARY_POD, "canary", ["fatal error: runtime: out of memory"], { previous: true })],
    });
    expect(findOomKilled(withLog)[0]?.confidence).toBeGreaterThan(0.5);
  });

  it("ignores stable pods and sidecars", () => {
    const oom = container({ restartCount: 1, lastTermination: { reason: "OOMKilled", exitCode: 137 } });
    const sidecar = container({
      name: "istio-proxy",
      sidecar: true,
      restartCount: 1,
      lastTermination: { reason: "OOMKilled", exitCode: 137 },
    });
    expect(
      findOomKilled(
        incident({
          pods: [
            pod("checkout-stable-1", "stable", [oom]),
            pod(CANARY_POD, "canary", [container(), sidecar]),
          ],
        }),
      ),
    ).toEqual([]);
  });
});
