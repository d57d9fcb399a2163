import { describe, expect, it } from "vitest";
import { findConfigMissing, missingFromAppLog } from "../../agent/diagnosis/analyzers/find-config-missing.js";
import { CANARY_POD, container, event, incident, log, pod } from "./incident-builder.js";

describe("findConfigMissing", () => {
  it("reads CreateContainerConfigError messages", () => {
    const waiting = container({
      ready: false,
      state: "waiting",
      reason: "CreateContainerConfigError",
      message: "couldn't find key PAYMENTS_URL in ConfigMap shop/checkout-config",
    });
    const [finding] = findConfigMissing(
      incident({ pods: [pod(CANARY_POD, "canary", [waiting], { phase: "Pending" })] }),
    );
    expect(finding?.category).toBe("config-missing");
    expect(finding?.facts).toMatchObject({
      missingKind: "key",
      missing: "shop/checkout-config:PAYMENTS_URL",
    });
    expect(finding?.confidence).toBeGreaterThan(0.9);
  });

  it("reads missing ConfigMaps from kubelet events but leaves FailedMount to the mount analyzer", () => {
    const events = [event("Pod", CANARY_POD, "Failed", 'Error: configmap "checkout-flags" not found')];
    expect(findConfigMissing(incident({ events }))[0]?.facts).toMatchObject({
      missingKind: "configmap",
      missing: "checkout-flags",
    });
    const mount = [
      event(
        "Pod",
        CANARY_POD,
        "FailedMount",
        'MountVolume.SetUp failed for volume "flags" : configmap "checkout-flags" not found',
      ),
    ];
    expect(findConfigMissing(incident({ events: mount }))).toEqual([]);
  });

  it("reads application reports of missing environment variables", () => {
    const crashing = container({
      ready: false,
      state: "waiting",
      reason: "CrashLoopBackOff",
      restartCount: 3,
      lastTermination: { exitCode: 1, reason: "Error" },
    });
    const [finding] = findConfigMissing(
      incident({
        pods: [pod(CANARY_POD, "canary", [crashing])],
        logs: [
          log(CANARY_POD, "canary", ["FATAL: missing required environment variable PAYMENTS_API_URL"], {
            previous: true,
          }),
        ],
      }),
    );
    expect(finding?.facts).toMatchObject({
      container: "app",
      missingKind: "env",
      missing: "PAYMENTS_API_URL",
    });
    expect(finding?.confidence).toBeGreaterThanOrEqual(0.8);
  });

  it.each([
    ["Error: environment variable DATABASE_URL is not set", "DATABASE_URL"],
    ["KeyError: 'REDIS_HOST'", "REDIS_HOST"],
    ["config error: STRIPE_KEY must be set", "STRIPE_KEY"],
  ])("recognises %s", (line, name) => {
    expect(missingFromAppLog(line)).toMatchObject({ kind: "env", name });
  });

  it("ignores ordinary errors", () => {
    expect(missingFromAppLog("ERROR request failed: upstream returned 503")).toBeUndefined();
  });
});
