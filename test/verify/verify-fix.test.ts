import { afterEach, describe, expect, it } from "vitest";
import { countDiffLines, findModelClass, validateObject, verifyFix } from "../../agent/verify/verify-fix.js";
import { rolloutYaml, workspaceWith } from "../workspace/repo-builder.js";

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

const ROLLOUT = rolloutYaml({ name: "app", namespace: "shop", image: "x/app:1" });
const options = { policy: {}, maxDiffLines: 50 };

async function repo(files: Record<string, string>) {
  const built = await workspaceWith(files);
  cleanup = built.cleanup;
  return built.workspace;
}

describe("verifyFix", () => {
  it("accepts a valid change and validates the changed Rollout against its schema", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": ROLLOUT,
      "deploy/other.yaml": "kind: Weird\nmetadata: {name: x}\n",
    });
    await workspace.writeFile("deploy/rollout.yaml", ROLLOUT.replace("memory: 256Mi", "memory: 384Mi"));
    const result = await verifyFix(workspace, options);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.files).toEqual(["deploy/rollout.yaml"]);
      expect(result.notes).toContain(
        "deploy/rollout.yaml: Rollout app validates against its published schema",
      );
    }
  });

  it("refuses an empty change", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": ROLLOUT });
    expect(await verifyFix(workspace, options)).toMatchObject({ ok: false, reason: "the change is empty" });
  });

  it("refuses YAML that no longer parses", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": ROLLOUT });
    await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}  bad: [unclosed\n`);
    const result = await verifyFix(workspace, options);
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.reason).toMatch(/deploy\/rollout\.yaml no longer parses/);
  });

  it("refuses a Rollout that breaks its schema", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": ROLLOUT });
    await workspace.writeFile(
      "deploy/rollout.yaml",
      ROLLOUT.replace("containerPort: 8080", "containerPort: eighty"),
    );
    const result = await verifyFix(workspace, options);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.reason).toMatch(
        /Rollout app does not validate against its schema: .*containerPort must be integer/,
      );
  });

  it("validates core objects too, and skips kustomize patches (partial objects)", async () => {
    const patch =
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          resources:\n            limits:\n              memory: 256Mi\n";
    const workspace = await repo({
      "base/kustomization.yaml": "resources:\n  - rollout.yaml\n",
      "base/rollout.yaml": ROLLOUT,
      "prod/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: patch.yaml\n",
      "prod/patch.yaml": patch,
      "base/svc.yaml":
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  ports:\n    - port: 80\n",
    });
    await workspace.writeFile("prod/patch.yaml", patch.replace("256Mi", "384Mi"));
    const ok = await verifyFix(workspace, options);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.notes.join("\n")).toMatch(/prod\/patch\.yaml: kustomize patch/);
    await workspace.writeFile(
      "base/svc.yaml",
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  ports:\n    - port: eighty\n",
    );
    const bad = await verifyFix(workspace, options);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toMatch(/base\/svc\.yaml: Service app does not validate/);
  });

  it("refuses paths outside the policy and diffs over the size cap", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": ROLLOUT,
      ".github/workflows/ci.yaml": "on: push\n",
    });
    await workspace.writeFile(".github/workflows/ci.yaml", "on: [push]\n");
    const denied = await verifyFix(workspace, options);
    expect(denied.ok).toBe(false);
    if (!denied.ok) expect(denied.reason).toMatch(/built-in deny list/);
    await workspace.reset();
    await workspace.writeFile("deploy/rollout.yaml", ROLLOUT.replace(/^/gm, "# "));
    const big = await verifyFix(workspace, { policy: {}, maxDiffLines: 10 });
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.reason).toMatch(/more than the limit of 10/);
  });

  it("does not parse Helm templates", async () => {
    const template = "kind: Rollout\nspec:\n  replicas: {{ .Values.replicas }}\n";
    const workspace = await repo({
      "charts/a/Chart.yaml": "name: a\n",
      "charts/a/templates/rollout.yaml": template,
    });
    await workspace.writeFile(
      "charts/a/templates/rollout.yaml",
      template.replace("replicas }}", "replicaCount }}"),
    );
    expect((await verifyFix(workspace, options)).ok).toBe(true);
  });
});

describe("schema lookup", () => {
  it("finds models by apiVersion and kind, and none for unknown or unsafe names", async () => {
    expect(await findModelClass("argoproj.io/v1alpha1", "Rollout")).not.toBeNull();
    expect(await findModelClass("apps/v1", "Deployment")).not.toBeNull();
    expect(await findModelClass("v1", "ConfigMap")).not.toBeNull();
    expect(await findModelClass("networking.istio.io/v1beta1", "VirtualService")).toBeNull();
    expect(await findModelClass("v1", "../../evil")).toBeNull();
    expect(await validateObject({ kind: "ConfigMap" })).toEqual({ error: null, validated: false });
  });

  it("counts changed lines without the file headers", () => {
    expect(countDiffLines("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n c\n")).toBe(2);
  });
});
