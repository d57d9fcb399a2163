import { describe, expect, it } from "vitest";
import { findImagePull } from "../../agent/diagnosis/analyzers/find-image-pull.js";
import { CANARY_POD, STABLE_POD, container, event, incident, pod, stablePod } from "./incident-builder.js";

describe("findImagePull", () => {
  it("reports the canary image and the stable image", () => {
    const waiting = container({
      image: "registry.example.com/shop/checkout:1.4.0-typo",
      ready: false,
      state: "waiting",
      reason: "ImagePullBackOff",
      message: 'Back-off pulling image "registry.example.com/shop/checkout:1.4.0-typo"',
    });
    const findings = findImagePull(
      incident({
        pods: [pod(CANARY_POD, "canary", [waiting], { phase: "Pending" }), stablePod(STABLE_POD)],
        events: [
          event(
            "Pod",
            CANARY_POD,
            "Failed",
            'Failed to pull image "registry.example.com/shop/checkout:1.4.0-typo": not found',
          ),
        ],
      }),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.facts).toMatchObject({
      container: "app",
      canaryImage: "registry.example.com/shop/checkout:1.4.0-typo",
      stableImage: "registry.example.com/shop/checkout:1.3.2",
    });
    expect(findings[0]?.confidence).toBeGreaterThan(0.9);
    expect(findings[0]?.evidence.map((e) => e.source)).toContain(`event/pod/${CANARY_POD}`);
  });

  it("falls back to the stable ReplicaSet's images when no stable pod is listed", () => {
    const waiting = container({ ready: false, state: "waiting", reason: "InvalidImageName" });
    const [finding] = findImagePull(incident({ pods: [pod(CANARY_POD, "canary", [waiting])] }));
    expect(finding?.facts?.["stableImage"]).toBe("registry.example.com/shop/checkout:1.3.2");
  });

  it("stays silent for running containers", () => {
    expect(findImagePull(incident({ pods: [pod(CANARY_POD, "canary")] }))).toEqual([]);
  });
});
