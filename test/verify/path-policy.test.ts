import { describe, expect, it } from "vitest";
import { checkWritePath } from "../../agent/verify/path-policy.js";

describe("checkWritePath", () => {
  it.each([
    "deploy/rollout.yaml",
    "overlays/prod/kustomization.yaml",
    "charts/web/values.yaml",
    "charts/web/templates/rollout.yaml",
    "src/main.go",
  ])("allows %s by default", (rel) => {
    expect(checkWritePath(rel)).toEqual({ ok: true });
  });

  it.each([
    [".git/config", /\.git/],
    ["sub/.git/hooks/pre-commit", /\.git/],
    [".github/workflows/ci.yaml", /CI configuration|\.github/],
    [".gitlab-ci.yml", /CI configuration/],
    ["services/a/.gitlab-ci.yml", /CI configuration/],
    [".circleci/config.yml", /CI configuration/],
    ["Jenkinsfile", /CI configuration/],
    [".buildkite/pipeline.yml", /CI configuration/],
    ["azure-pipelines.yml", /CI configuration/],
    ["CODEOWNERS", /governance/],
    ["certs/tls.pem", /secrets/],
    ["keys/server.key", /secrets/],
    ["home/.ssh/id_rsa", /secrets/],
    ["id_ed25519.pub", /secrets/],
    [".env", /secrets/],
    ["config/.env.production", /secrets/],
    ["credentials.json", /secrets/],
    ["deploy/db-secret.yaml", /secrets/],
    ["deploy/Secrets.yml", /secrets/],
    ["../outside.yaml", /\.\./],
    ["/etc/passwd", /absolute/],
  ])("refuses %s", (rel, reason) => {
    const verdict = checkWritePath(rel);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it("refuses any YAML that holds a Secret, whatever its name", () => {
    const content =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n";
    const verdict = checkWritePath("deploy/app.yaml", {}, content);
    expect(verdict).toEqual({
      ok: false,
      reason: "deploy/app.yaml holds a Kubernetes Secret: never changed by a fix",
    });
  });

  it("refuses analysis templates unless allowed", () => {
    const content =
      "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: success-rate}\n";
    expect(checkWritePath("deploy/analysis.yaml", {}, content).ok).toBe(false);
    expect(checkWritePath("deploy/analysis.yaml", {}, "kind: ClusterAnalysisTemplate\n").ok).toBe(false);
    expect(checkWritePath("deploy/analysis.yaml", { allowAnalysisTemplates: true }, content).ok).toBe(true);
  });

  it("applies allowPaths, the repository's own allowPaths and extra denyPaths", () => {
    const policy = {
      allowPaths: ["deploy/**", "charts/**"],
      alsoAllowPaths: ["deploy/**"],
      denyPaths: ["deploy/frozen/**"],
    };
    expect(checkWritePath("deploy/rollout.yaml", policy).ok).toBe(true);
    const chart = checkWritePath("charts/values.yaml", policy);
    expect(chart).toEqual({
      ok: false,
      reason: "charts/values.yaml is outside the repository's allowPaths (deploy/**)",
    });
    expect(checkWritePath("src/main.go", policy)).toEqual({
      ok: false,
      reason: "src/main.go is outside allowPaths (deploy/**, charts/**)",
    });
    expect(checkWritePath("deploy/frozen/a.yaml", policy).ok).toBe(false);
    // The built-in deny list wins over an allow list that would match.
    expect(checkWritePath(".github/workflows/x.yaml", { allowPaths: ["**"] }).ok).toBe(false);
  });

  it("judges a YAML bomb by its kind without expanding aliases", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(",")}]`,
      );
    const started = Date.now();
    expect(checkWritePath("deploy/bomb.yaml", {}, `kind: ConfigMap\n${levels.join("\n")}\n`).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
