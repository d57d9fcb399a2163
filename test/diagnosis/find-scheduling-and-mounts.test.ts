import { describe, expect, it } from "vitest";
import { findMountFailure } from "../../agent/diagnosis/analyzers/find-mount-failure.js";
import { findUnschedulable } from "../../agent/diagnosis/analyzers/find-unschedulable.js";
import { CANARY_POD, container, event, incident, pod } from "./incident-builder.js";

describe("findUnschedulable", () => {
  it("reads PodScheduled=False and FailedScheduling", () => {
    const message = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available.";
    const pending = pod(CANARY_POD, "canary", [container({ ready: false, state: "unknown" })], {
      phase: "Pending",
      nodeName: undefined,
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
    });
    const [finding] = findUnschedulable(
      incident({
        pods: [pending],
        events: [event("Pod", CANARY_POD, "FailedScheduling", message, { source: "default-scheduler" })],
      }),
    );
    expect(finding?.category).toBe("unschedulable");
    expect(finding?.facts).toMatchObject({
      obstacle: "insufficient memory",
      pendingPods: 1,
      memoryRequest: "128Mi",
    });
  });

  it("stays silent for scheduled pods", () => {
    expect(findUnschedulable(incident({ pods: [pod(CANARY_POD, "canary")] }))).toEqual([]);
  });
});

describe("findMountFailure", () => {
  it("reads FailedMount events and ContainerCreating pods", () => {
    const creating = pod(
      CANARY_POD,
      "canary",
      [container({ ready: false, state: "waiting", reason: "ContainerCreating" })],
      { phase: "Pending" },
    );
    const [finding] = findMountFailure(
      incident({
        pods: [creating],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "FailedMount",
            'MountVolume.SetUp failed for volume "tls" : secret "checkout-tls" not found',
            { count: 12 },
          ),
        ],
      }),
    );
    expect(finding?.category).toBe("mount-failure");
    expect(finding?.facts).toMatchObject({
      volume: "tls",
      creatingPods: 1,
      mountError: 'secret "checkout-tls" not found',
    });
    expect(finding?.confidence).toBeGreaterThan(0.8);
  });
});
