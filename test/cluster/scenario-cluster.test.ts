import { rmSync } from "node:fs";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import { sampleScenarioSpec, writeScenarioFolder } from "../helpers/kube-api-double.js";

const names = (objects: { metadata: { name: string } }[]): string[] =>
  objects.map((o) => o.metadata.name).sort();

describe("ScenarioCluster", () => {
  let dir: string;
  let cluster: ScenarioCluster;

  beforeAll(() => {
    dir = writeScenarioFolder(sampleScenarioSpec());
    cluster = new ScenarioCluster(loadScenario(dir));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names the scenario folder as its source", () => {
    expect(cluster.source).toMatch(/^scenario .*scenario-/);
  });

  describe("findRollout", () => {
    it("finds the rollout of the namespace asked for, not its twin", async () => {
      expect((await cluster.findRollout({ namespace: "shop", name: "checkout" }))?.metadata.uid).toBe(
        "rollout-uid",
      );
      expect((await cluster.findRollout({ namespace: "other", name: "checkout" }))?.metadata.uid).toBe(
        "rollout-uid-other",
      );
    });

    it("answers null for an absent rollout or namespace", async () => {
      expect(await cluster.findRollout({ namespace: "shop", name: "cart" })).toBeNull();
      expect(await cluster.findRollout({ namespace: "nowhere", name: "checkout" })).toBeNull();
    });
  });

  describe("lists with label selectors", () => {
    it("filters replica sets by equality and set-based selectors", async () => {
      expect(names(await cluster.listReplicaSets("shop", "app=checkout"))).toEqual([
        "checkout-c1c1c1",
        "checkout-s1s1s1",
        "legacy",
      ]);
      expect(
        names(
          await cluster.listReplicaSets("shop", "app=checkout,rollouts-pod-template-hash in (c1c1c1,s1s1s1)"),
        ),
      ).toEqual(["checkout-c1c1c1", "checkout-s1s1s1"]);
      expect(names(await cluster.listReplicaSets("shop", "app notin (checkout)"))).toEqual(["web-w1w1w1"]);
      expect(names(await cluster.listReplicaSets("shop", "!rollouts-pod-template-hash"))).toEqual(["legacy"]);
      expect(await cluster.listReplicaSets("other", "app=checkout")).toEqual([]);
    });

    it("places objects without a namespace in the rollout's namespace", async () => {
      expect(names(await cluster.listPods("shop", "app=checkout"))).toEqual([
        "checkout-c1c1c1-aaaaa",
        "checkout-s1s1s1-bbbbb",
      ]);
    });

    it("filters analysis runs by pod hash", async () => {
      expect(names(await cluster.listAnalysisRuns("shop", "rollouts-pod-template-hash=c1c1c1"))).toEqual([
        "checkout-c1c1c1-7",
      ]);
    });

    it("rejects a malformed selector", async () => {
      await expect(cluster.listPods("shop", "app in (checkout")).rejects.toThrow(/invalid label selector/);
    });
  });

  describe("listEvents", () => {
    it("filters by the involved object's kind and name", async () => {
      expect(names(await cluster.listEvents("shop", { kind: "Pod", name: "checkout-c1c1c1-aaaaa" }))).toEqual(
        ["checkout-c1c1c1-aaaaa.1", "checkout-c1c1c1-aaaaa.2", "checkout-c1c1c1-aaaaa.3"],
      );
      expect(await cluster.listEvents("shop", { kind: "ReplicaSet", name: "checkout-c1c1c1-aaaaa" })).toEqual(
        [],
      );
    });

    it("keeps only events naming the uid when the uid is known, as the API's field selector does", async () => {
      const events = await cluster.listEvents("shop", {
        kind: "Pod",
        name: "checkout-c1c1c1-aaaaa",
        uid: "pod-uid-a",
      });
      expect(names(events)).toEqual(["checkout-c1c1c1-aaaaa.1"]);
    });

    it("keeps to the namespace asked for", async () => {
      expect(names(await cluster.listEvents("other", { kind: "Rollout", name: "checkout" }))).toEqual([
        "checkout.2",
      ]);
      expect(
        names(await cluster.listEvents("shop", { kind: "Rollout", name: "checkout", uid: "rollout-uid" })),
      ).toEqual(["checkout.1"]);
    });
  });

  describe("findAnalysisTemplate", () => {
    it("finds a template by name and answers null for an absent one", async () => {
      expect((await cluster.findAnalysisTemplate("shop", "success-rate"))?.kind).toBe("AnalysisTemplate");
      expect(await cluster.findAnalysisTemplate("shop", "latency")).toBeNull();
      expect(await cluster.findAnalysisTemplate("other", "success-rate")).toBeNull();
    });
  });

  describe("openLog", () => {
    const pod = "checkout-c1c1c1-aaaaa";

    it("streams the current and the previous log", async () => {
      const current = await cluster.openLog({ namespace: "shop", pod, container: "checkout" });
      expect(await text(current!)).toBe("boot\nserving on :8080\ncache size 400000\n");
      const previous = await cluster.openLog({
        namespace: "shop",
        pod,
        container: "checkout",
        previous: true,
      });
      expect(await text(previous!)).toContain("fatal error: runtime: out of memory");
    });

    it("keeps only the last lines when asked", async () => {
      const tail = await cluster.openLog({ namespace: "shop", pod, container: "checkout", tailLines: 2 });
      expect(await text(tail!)).toBe("serving on :8080\ncache size 400000\n");
    });

    it("answers null when there is no previous instance or no such container", async () => {
      expect(
        await cluster.openLog({
          namespace: "shop",
          pod: "checkout-s1s1s1-bbbbb",
          container: "checkout",
          previous: true,
        }),
      ).toBeNull();
      expect(await cluster.openLog({ namespace: "shop", pod, container: "sidecar" })).toBeNull();
    });

    it.each([
      ["../../etc", "passwd"],
      ["..", "checkout"],
      [".", "checkout"],
      [`${pod}/../checkout-s1s1s1-bbbbb`, "checkout"],
      [pod, "../checkout"],
      [pod, "../../../../etc/passwd"],
      ["/etc", "passwd"],
      ["Checkout-C1", "checkout"],
    ])("refuses the pod %j container %j rather than leave logs/", async (podName, container) => {
      expect(await cluster.openLog({ namespace: "shop", pod: podName, container })).toBeNull();
    });
  });
});
