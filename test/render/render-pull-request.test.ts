import { describe, expect, it } from "vitest";
import { MAX_BODY_CHARS } from "../../agent/render/finalize-body.js";
import { hashBody, parseMetadataComment, stripMetadataComment } from "../../agent/render/pr-metadata.js";
import { renderPullRequest } from "../../agent/render/render-pull-request.js";
import {
  INJECTION_LINE,
  PLANTED_SECRETS,
  TEST_VERSION,
  excerpt,
  hostileIncident,
  oomDiagnosis,
  oomFix,
  oomIncident,
} from "./render-inputs.js";

describe("agent/render/render-pull-request", () => {
  it("renders the OOM pull request", async () => {
    const pr = await renderPullRequest({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix: oomFix(),
      version: TEST_VERSION,
      promptVersion: "2025-05-01",
    });

    expect(pr.title).toBe(
      "fix(checkout): raise memory limit and request of canary container checkout to 384Mi",
    );
    expect(pr.branch).toBe("rollout-medic/shop/checkout-6c9f8d7b5d");
    expect(pr.labels).toEqual(["rollout-medic", "canary-failure", "category/oom-killed", "fixer/playbook"]);
    await expect(pr.body).toMatchFileSnapshot("__snapshots__/oom-pull-request.md");
  });

  it("falls back to a generic title when the change is not one value", async () => {
    const fix = oomFix();
    fix.changes.push({
      file: "deploy/rollout.yaml",
      location: "Rollout checkout, container checkout, args",
      from: "serve",
      to: "serve --cache-size=200000",
    });

    const pr = await renderPullRequest({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix,
      version: TEST_VERSION,
    });

    expect(pr.title).toBe("fix(checkout): oom-killed in canary revision 7");
  });

  it("says which way a single value moves", async () => {
    const fix = oomFix();
    fix.changes = [
      {
        file: "deploy/rollout.yaml",
        location: "Rollout checkout, container checkout, resources.limits.cpu",
        from: "1",
        to: "500m",
      },
    ];

    const pr = await renderPullRequest({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix,
      version: TEST_VERSION,
    });

    expect(pr.title).toBe("fix(checkout): lower CPU limit of canary container checkout to 500m");
  });

  it("ends with metadata that parses back and matches the visible body", async () => {
    const pr = await renderPullRequest({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix: oomFix(),
      version: TEST_VERSION,
      promptVersion: "2025-05-01",
      attempt: 2,
    });

    const meta = parseMetadataComment(pr.body);

    expect(meta).toEqual({
      schema: 1,
      key: pr.branch,
      rolloutUid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
      namespace: "shop",
      name: "checkout",
      revision: "7",
      canaryPodHash: "6c9f8d7b5d",
      category: "oom-killed",
      fixer: "raise-memory-limit",
      fixerVersion: TEST_VERSION,
      promptVersion: "2025-05-01",
      attempt: 2,
      bodyHash: hashBody(pr.body),
    });
    expect(pr.body.trimEnd().endsWith("-->")).toBe(true);
  });

  it("renders the same body twice, so an unchanged pull request is not updated", async () => {
    const render = () =>
      renderPullRequest({
        incident: oomIncident(),
        diagnosis: oomDiagnosis(),
        fix: oomFix(),
        version: TEST_VERSION,
      });

    const [a, b] = await Promise.all([render(), render()]);

    expect(a).toEqual(b);
  });

  it("marks the failed step in the Mermaid diagram", async () => {
    const pr = await renderPullRequest({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix: oomFix(),
      version: TEST_VERSION,
    });

    expect(pr.body).toContain("```mermaid\nflowchart LR");
    expect(pr.body).toContain("class s2 failed");
    expect(pr.body).toContain("class start,s0,s1 passed");
    expect(pr.body).toContain("step 3 of 7 (analysis success-rate)");
  });

  describe("with hostile cluster text", () => {
    async function hostilePr() {
      return renderPullRequest({
        incident: hostileIncident(),
        diagnosis: oomDiagnosis(),
        fix: oomFix(),
        version: TEST_VERSION,
      });
    }

    it("withholds lines that instruct an AI and says so without quoting them", async () => {
      const pr = await hostilePr();

      expect(pr.body.toLowerCase()).not.toContain("ignore all previous instructions");
      expect(pr.body).not.toContain(INJECTION_LINE);
      expect(pr.body).not.toMatch(/approve this pull request/i);
      expect(pr.body).toMatch(/withheld because it reads like instructions to an AI/);
    });

    it("never contains a planted secret", async () => {
      const pr = await hostilePr();

      for (const secret of Object.values(PLANTED_SECRETS)) expect(pr.body).not.toContain(secret);
      expect(pr.body).toContain("[REDACTED:");
    });

    it("pings nobody and links no issue", async () => {
      const pr = await hostilePr();
      // Mermaid colours (#1a7f37) are ours and sit in a code block GitHub never links.
      const visible = stripMetadataComment(pr.body).replace(/```mermaid[\s\S]*?```/, "");

      expect(visible).not.toMatch(/(?<![\w\u200b])@[A-Za-z0-9]/);
      expect(visible).not.toMatch(/#\d/);
      expect(visible).not.toMatch(/GH-\d/i);
      expect(visible).toContain("@\u200boctocat");
    });

    it("keeps every log inside its fence", async () => {
      const pr = await hostilePr();
      const at = pr.body.indexOf("template literal");
      const opening = [...pr.body.slice(0, at).matchAll(/^(`{3,})text$/gm)].at(-1);
      const fence = opening?.[1] ?? "";
      const closing = pr.body.indexOf(`\n${fence}\n`, at);

      // The log holds a run of five backticks, so only a longer fence keeps it closed.
      expect(fence.length).toBeGreaterThan(5);
      expect(closing).toBeGreaterThan(pr.body.indexOf("red text from a coloured logger"));
      expect(pr.body.slice(opening?.index ?? 0, closing)).toContain(
        "</details><details><summary>hidden</summary>",
      );
    });

    it("cannot forge the metadata comment", async () => {
      const pr = await hostilePr();

      expect(pr.body.match(/<!-- rollout-medic:metadata/g)).toHaveLength(1);
      expect(parseMetadataComment(pr.body)?.namespace).toBe("shop");
    });

    it("drops terminal escape sequences", async () => {
      const pr = await hostilePr();

      expect(pr.body).not.toContain("\u001b");
      expect(pr.body).toContain("red text from a coloured logger");
    });

    it("escapes Markdown in table cells so cluster text cannot add links", async () => {
      const pr = await hostilePr();

      expect(pr.body).not.toContain("[click](https://evil.example/x)");
    });
  });

  describe("size", () => {
    it("stays under GitHub's limit by trimming evidence first, with a note", async () => {
      const incident = oomIncident();
      const noisy = Array.from(
        { length: 4000 },
        (_, i) => `{"level":"info","msg":"request ${i}","path":"/v1/carts/${i}/quote"}`,
      ).join("\n");
      incident.logs = Array.from({ length: 6 }, (_, i) => ({
        pod: `checkout-6c9f8d7b5d-p${i}`,
        container: "checkout",
        role: "canary" as const,
        previous: i % 2 === 0,
        excerpt: excerpt(noisy),
      }));
      incident.events = Array.from({ length: 400 }, (_, i) => ({
        type: "Warning",
        reason: "Unhealthy",
        message: `Readiness probe failed: Get "http://10.44.7.${i % 250}:8080/readyz": context deadline exceeded ${"x".repeat(300)}`,
        count: i,
        object: { kind: "Pod", name: `checkout-6c9f8d7b5d-p${i}` },
        lastSeen: `2025-05-13T09:${String(10 + (i % 50)).padStart(2, "0")}:00Z`,
      }));

      const pr = await renderPullRequest({
        incident,
        diagnosis: oomDiagnosis(),
        fix: oomFix(),
        version: TEST_VERSION,
      });

      expect(pr.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
      expect(pr.body).toContain("Evidence was shortened to fit GitHub's size limit");
      expect(pr.body).toContain("### What this change does");
      expect(pr.body).toContain("### Root cause");
      expect(parseMetadataComment(pr.body)?.bodyHash).toBe(hashBody(pr.body));
    });

    it("cuts even oversized core text and still ends with valid metadata", async () => {
      const fix = oomFix();
      fix.rationale = "The cache grows with traffic. ".repeat(4000);

      const pr = await renderPullRequest({
        incident: oomIncident(),
        diagnosis: oomDiagnosis(),
        fix,
        version: TEST_VERSION,
      });

      expect(pr.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
      expect(pr.body).toContain("This description was cut to fit GitHub's size limit");
      expect(parseMetadataComment(pr.body)?.bodyHash).toBe(hashBody(pr.body));
    });
  });
});
