import { describe, expect, it } from "vitest";
import { hashBody, parseMetadataComment } from "../../agent/render/pr-metadata.js";
import { renderIssue } from "../../agent/render/render-issue.js";
import {
  INJECTION_LINE,
  PLANTED_SECRETS,
  TEST_VERSION,
  configMissingDiagnosis,
  configMissingIncident,
  configMissingNoFix,
  hostileIncident,
  oomDiagnosis,
} from "./render-inputs.js";

describe("agent/render/render-issue", () => {
  it("renders the config-missing issue", async () => {
    const issue = await renderIssue({
      incident: configMissingIncident(),
      diagnosis: configMissingDiagnosis(),
      noFix: configMissingNoFix(),
      version: TEST_VERSION,
    });

    expect(issue.title).toBe("Canary of payments/ledger failed: config-missing (revision 12)");
    expect(issue.labels).toEqual([
      "rollout-medic",
      "canary-failure",
      "category/config-missing",
      "needs-human",
    ]);
    await expect(issue.body).toMatchFileSnapshot("__snapshots__/config-missing-issue.md");
  });

  it("says why no fix was proposed and what to do next", async () => {
    const issue = await renderIssue({
      incident: configMissingIncident(),
      diagnosis: configMissingDiagnosis(),
      noFix: configMissingNoFix(),
      version: TEST_VERSION,
    });

    expect(issue.body).toContain("### Why no change is proposed");
    expect(issue.body).toContain("would start the ledger without feature flags");
    expect(issue.body).toContain("Create the missing ConfigMap, Secret or key");
    expect(issue.body).toContain("kubectl argo rollouts retry rollout -n payments ledger");
  });

  it("carries the same metadata a pull request would, with no fixer", async () => {
    const issue = await renderIssue({
      incident: configMissingIncident(),
      diagnosis: configMissingDiagnosis(),
      noFix: configMissingNoFix(),
      version: TEST_VERSION,
    });

    expect(parseMetadataComment(issue.body)).toMatchObject({
      key: "rollout-medic/payments/ledger-5f7c9d6b8",
      namespace: "payments",
      name: "ledger",
      revision: "12",
      category: "config-missing",
      fixer: "none",
      fixerVersion: TEST_VERSION,
      bodyHash: hashBody(issue.body),
    });
  });

  it("withholds injections and redacts secrets as the pull request does", async () => {
    const issue = await renderIssue({
      incident: hostileIncident(),
      diagnosis: oomDiagnosis(),
      noFix: { reason: `the agent gave up; cc @octocat; ${INJECTION_LINE}`, rejected: [] },
      version: TEST_VERSION,
    });

    expect(issue.body.toLowerCase()).not.toContain("ignore all previous instructions");
    for (const secret of Object.values(PLANTED_SECRETS)) expect(issue.body).not.toContain(secret);
    expect(issue.body).not.toMatch(/(?<![\w\u200b])@octocat/);
  });
});
