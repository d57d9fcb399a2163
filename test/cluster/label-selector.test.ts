import { describe, expect, it } from "vitest";
import {
  matchesLabelSelector,
  parseLabelSelector,
  selectorFromLabels,
} from "../../agent/cluster/label-selector.js";

describe("parseLabelSelector", () => {
  it("parses equality-based requirements", () => {
    expect(parseLabelSelector("app=checkout,tier==web,env!=prod")).toEqual([
      { key: "app", op: "=", values: ["checkout"] },
      { key: "tier", op: "=", values: ["web"] },
      { key: "env", op: "!=", values: ["prod"] },
    ]);
  });

  it("parses set-based requirements, trimming blanks inside the set", () => {
    expect(
      parseLabelSelector("rollouts-pod-template-hash in (c1c1c1, s1s1s1),env notin (dev),canary,!legacy"),
    ).toEqual([
      { key: "rollouts-pod-template-hash", op: "in", values: ["c1c1c1", "s1s1s1"] },
      { key: "env", op: "notin", values: ["dev"] },
      { key: "canary", op: "exists", values: [] },
      { key: "legacy", op: "!exists", values: [] },
    ]);
  });

  it("accepts prefixed keys and blanks around operators", () => {
    expect(parseLabelSelector(" app.kubernetes.io/name = checkout ")).toEqual([
      { key: "app.kubernetes.io/name", op: "=", values: ["checkout"] },
    ]);
  });

  it("reads an empty selector as no requirement", () => {
    expect(parseLabelSelector("")).toEqual([]);
  });

  it.each(["a in (b", "=b", "a b", "(a)", "a)", "in (x) y"])(
    "rejects the malformed selector %j",
    (selector) => {
      expect(() => parseLabelSelector(selector)).toThrow(/invalid label selector/);
    },
  );
});

describe("matchesLabelSelector", () => {
  const labels = { app: "checkout", "rollouts-pod-template-hash": "c1c1c1", env: "prod" };

  it.each([
    ["app=checkout", true],
    ["app==checkout", true],
    ["app=web", false],
    ["app!=web", true],
    ["missing!=x", true],
    ["rollouts-pod-template-hash in (s1s1s1,c1c1c1)", true],
    ["rollouts-pod-template-hash in (s1s1s1)", false],
    ["missing in (x)", false],
    ["env notin (dev,test)", true],
    ["env notin (prod)", false],
    ["missing notin (x)", true],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["app=checkout,rollouts-pod-template-hash in (c1c1c1),!legacy", true],
    ["app=checkout,env=dev", false],
    ["", true],
  ])("%j on the canary's labels is %s", (selector, expected) => {
    expect(matchesLabelSelector(labels, selector)).toBe(expected);
  });

  it("treats an object without labels as having none", () => {
    expect(matchesLabelSelector(undefined, "!app")).toBe(true);
    expect(matchesLabelSelector(undefined, "app")).toBe(false);
    expect(matchesLabelSelector(undefined, "app notin (x)")).toBe(true);
  });

  it("throws on a malformed selector rather than matching everything", () => {
    expect(() => matchesLabelSelector(labels, "app in (checkout")).toThrow(/invalid label selector/);
  });
});

describe("selectorFromLabels", () => {
  it("turns matchLabels into a selector that matches exactly those labels", () => {
    const matchLabels = { app: "checkout", "app.kubernetes.io/part-of": "shop" };
    const selector = selectorFromLabels(matchLabels);
    expect(selector).toBe("app=checkout,app.kubernetes.io/part-of=shop");
    expect(matchesLabelSelector({ ...matchLabels, extra: "x" }, selector)).toBe(true);
    expect(matchesLabelSelector({ app: "checkout" }, selector)).toBe(false);
  });

  it("gives the empty selector for no labels", () => {
    expect(selectorFromLabels({})).toBe("");
  });
});
