import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MAX_BRANCH_LENGTH, branchNameFor } from "../../agent/render/branch-name.js";

/** `git check-ref-format` is the authority on what a branch may be called. */
function isValidRef(branch: string): boolean {
  try {
    execFileSync("git", ["check-ref-format", `refs/heads/${branch}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("agent/render/branch-name", () => {
  it("names the canary by namespace, rollout and pod hash", () => {
    expect(branchNameFor({ namespace: "shop", rollout: "checkout", canaryPodHash: "6c9f8d7b5d" })).toBe(
      "rollout-medic/shop/checkout-6c9f8d7b5d",
    );
  });

  it("is stable across calls and independent of the revision when the hash is known", () => {
    const a = branchNameFor({
      namespace: "shop",
      rollout: "checkout",
      canaryPodHash: "6c9f8d7b5d",
      revision: "7",
    });
    const b = branchNameFor({
      namespace: "shop",
      rollout: "checkout",
      canaryPodHash: "6c9f8d7b5d",
      revision: "8",
    });

    expect(a).toBe(b);
    expect(branchNameFor({ namespace: "shop", rollout: "checkout", canaryPodHash: "6c9f8d7b5d" })).toBe(a);
  });

  it("falls back to the revision, then to a fixed word, when the pod hash is unknown", () => {
    expect(branchNameFor({ namespace: "shop", rollout: "checkout", revision: "7" })).toBe(
      "rollout-medic/shop/checkout-rev7",
    );
    expect(branchNameFor({ namespace: "shop", rollout: "checkout" })).toBe(
      "rollout-medic/shop/checkout-unknown",
    );
  });

  it.each([
    { namespace: "Shop Prod", rollout: "check out", canaryPodHash: "ABC123" },
    { namespace: "..", rollout: "a..b", canaryPodHash: "x.lock" },
    { namespace: "team/sub", rollout: "-leading-", canaryPodHash: "h~a^s:h?*[" },
    { namespace: "", rollout: "", canaryPodHash: "" },
    { namespace: "ns", rollout: "@{", canaryPodHash: "@" },
    { namespace: "ns", rollout: "name.lock", canaryPodHash: "1" },
    { namespace: "ünïcödé", rollout: "名前", canaryPodHash: "6c9f" },
    { namespace: "ns\u0000\u001b[31m", rollout: "evil\\name", canaryPodHash: "a b" },
    { namespace: "n".repeat(253), rollout: "r".repeat(253), canaryPodHash: "h".repeat(64) },
    { namespace: "n".repeat(63), rollout: `${"r".repeat(60)}.`, canaryPodHash: "6c9f8d7b5d" },
  ])("is a valid ref of at most 100 characters for odd input %#", (input) => {
    const branch = branchNameFor(input);

    expect(branch.length).toBeLessThanOrEqual(MAX_BRANCH_LENGTH);
    expect(branch.startsWith("rollout-medic/")).toBe(true);
    expect(isValidRef(branch)).toBe(true);
    expect(branchNameFor(input)).toBe(branch);
  });

  it("keeps names apart that sanitising or shortening would merge", () => {
    const long = "r".repeat(120);

    expect(branchNameFor({ namespace: "a b", rollout: "x", canaryPodHash: "1" })).not.toBe(
      branchNameFor({ namespace: "a-b", rollout: "x", canaryPodHash: "1" }),
    );
    expect(branchNameFor({ namespace: "ns", rollout: `${long}a`, canaryPodHash: "1" })).not.toBe(
      branchNameFor({ namespace: "ns", rollout: `${long}b`, canaryPodHash: "1" }),
    );
  });
});
