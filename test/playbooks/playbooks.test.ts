import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../agent/config.js";
import type { Fix, NoFix } from "../../agent/fix/fix.js";
import type { Incident } from "../../agent/incident/incident.js";
import { isNoFix } from "../../agent/playbooks/playbook.js";
import { proposeFix } from "../../agent/playbooks/propose-fix.js";
import { runPlaybooks } from "../../agent/playbooks/run-playbooks.js";
import type { Workspace } from "../../agent/workspace/workspace.js";
import { rolloutYaml, workspaceWith } from "../workspace/repo-builder.js";
import { containerStatus, diagnosisOf, event, incidentOf, log, oomPods, pod } from "./incident-factory.js";

const config = loadConfig({});
let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function repo(files: Record<string, string>): Promise<Workspace> {
  const built = await workspaceWith(files);
  cleanup = built.cleanup;
  return built.workspace;
}

function expectFix(result: Fix | NoFix): Fix {
  if (isNoFix(result)) throw new Error(`expected a fix, got: ${result.reason}`);
  return result;
}

/** Only the +/- lines of a diff, without headers. */
function changed(diff: string): string[] {
  return diff.split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l));
}

describe("oom-killed", () => {
  const manifest = (limit: string, request: string) =>
    rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2", memory: limit }).replace(
      "          resources:\n            limits:\n",
      `          resources:\n            requests:\n              memory: ${request}   # keep\n            limits:\n`,
    );
  const incident = (limit: string, request: string): Incident =>
    incidentOf({
      containers: [
        { name: "app", image: "x/app:2", limits: { memory: limit }, requests: { memory: request } },
      ],
      pods: oomPods(),
    });

  it("raises limit and the equal request, and explains what was observed", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": manifest("1Gi", "1Gi") });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident("1Gi", "1Gi"), diagnosisOf("oom-killed"), config)).result,
    );
    expect(changed(fix.diff)).toEqual([
      "-              memory: 1Gi   # keep",
      "+              memory: 1536Mi   # keep",
      "-              memory: 1Gi",
      "+              memory: 1536Mi",
    ]);
    expect(fix.changes.map((c) => [c.from, c.to])).toEqual([
      ["1Gi", "1536Mi"],
      ["1Gi", "1536Mi"],
    ]);
    expect(fix.rationale).toMatch(
      /OOMKilled in 2 canary pods \(exit code 137, 6 restarts\) with a memory limit of `1Gi`/,
    );
    expect(fix.rationale).toMatch(/1\.5× the observed limit/);
  });

  it("leaves a lower request alone", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": manifest("256Mi", "128Mi") });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident("256Mi", "128Mi"), diagnosisOf("oom-killed"), config)).result,
    );
    expect(changed(fix.diff)).toEqual(["-              memory: 256Mi", "+              memory: 384Mi"]);
    expect(fix.rationale).toMatch(/request \(128Mi\) differs from the limit and is left alone/);
  });

  it("refuses past the configured maximum", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": manifest("3Gi", "1Gi") });
    const result = (await runPlaybooks(workspace, incident("3Gi", "1Gi"), diagnosisOf("oom-killed"), config))
      .result;
    expect(isNoFix(result) && result.reason).toMatch(
      /from 3Gi to 4608Mi would exceed the configured maximum of 4Gi/,
    );
    const raised = loadConfig({ ROLLOUT_MEDIC_MAX_MEMORY_LIMIT: "8Gi" });
    expect(
      isNoFix(
        (await runPlaybooks(workspace, incident("3Gi", "1Gi"), diagnosisOf("oom-killed"), raised)).result,
      ),
    ).toBe(false);
  });

  it("edits a limit set by an inline JSON 6902 patch in the overlay", async () => {
    const workspace = await repo({
      "base/kustomization.yaml": "resources:\n  - rollout.yaml\n",
      "base/rollout.yaml": rolloutYaml({ name: "app", image: "x/app:2", memory: "128Mi" }),
      "prod/kustomization.yaml":
        "namespace: shop\nresources:\n  - ../base\npatches:\n  - target: {kind: Rollout, name: app}\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/resources/limits/memory\n        value: 512Mi  # prod sizing\n",
    });
    const incident = incidentOf({
      containers: [{ name: "app", image: "x/app:2", limits: { memory: "512Mi" } }],
      pods: oomPods(),
    });
    const { fix, noFix } = await proposeFix({
      workspace,
      incident,
      diagnosis: diagnosisOf("oom-killed"),
      config,
    });
    expect(noFix).toBeNull();
    expect(fix?.files).toEqual(["prod/kustomization.yaml"]);
    expect(changed(fix?.diff ?? "")).toEqual([
      "-        value: 512Mi  # prod sizing",
      "+        value: 768Mi  # prod sizing",
    ]);
  });

  it("says so when the repository has no matching Rollout", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "other", image: "x/other:1" }),
    });
    const result = (
      await runPlaybooks(workspace, incident("256Mi", "256Mi"), diagnosisOf("oom-killed"), config)
    ).result;
    expect(isNoFix(result) && result.reason).toMatch(/could not locate the workload in the repository/);
  });
});

describe("image-pull", () => {
  const pulling = (image: string, stable: string) =>
    incidentOf({
      containers: [{ name: "app", image }],
      stableContainers: [{ name: "app", image: stable }],
      pods: [
        pod("app-canary-1", "canary", [
          containerStatus({
            name: "app",
            image,
            state: "waiting",
            reason: "ImagePullBackOff",
            message: `Back-off pulling image "${image}"`,
          }),
        ]),
      ],
    });

  it("restores the stable image in a manifest", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2.0.0-bad" }),
    });
    const fix = expectFix(
      (
        await runPlaybooks(
          workspace,
          pulling("x/app:2.0.0-bad", "x/app:1.9.0"),
          diagnosisOf("image-pull"),
          config,
        )
      ).result,
    );
    expect(changed(fix.diff)).toEqual(["-          image: x/app:2.0.0-bad", "+          image: x/app:1.9.0"]);
    expect(fix.rationale).toMatch(/needs to be built and pushed/);
    expect(fix.rolloutNote).toMatch(/rollback to stable/);
  });

  it("sets newTag and newName in the overlay's images: entry, adding keys where missing", async () => {
    const workspace = await repo({
      "base/kustomization.yaml": "resources:\n  - rollout.yaml\n",
      "base/rollout.yaml": rolloutYaml({ name: "app", image: "x/app" }),
      "prod/kustomization.yaml":
        "namespace: shop\nresources:\n  - ../base\nimages:\n  - name: x/app   # the app\n    newTag: 2.0.0-bad\n",
    });
    const fix = expectFix(
      (
        await runPlaybooks(
          workspace,
          pulling("x/app:2.0.0-bad", "mirror/app:1.9.0"),
          diagnosisOf("image-pull"),
          config,
        )
      ).result,
    );
    expect(fix.files).toEqual(["prod/kustomization.yaml"]);
    expect(changed(fix.diff)).toEqual([
      "-    newTag: 2.0.0-bad",
      "+    newName: mirror/app",
      "+    newTag: 1.9.0",
    ]);
  });

  it("refuses when canary and stable run the same image", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:1" }),
    });
    const result = (
      await runPlaybooks(workspace, pulling("x/app:1", "x/app:1"), diagnosisOf("image-pull"), config)
    ).result;
    expect(isNoFix(result) && result.reason).toMatch(/same image .*imagePullSecrets/);
  });
});

describe("probe-failure", () => {
  const probeRollout = (readinessPort: string) =>
    rolloutYaml({ name: "app", namespace: "shop", image: "x/app:1" }).replace(
      "          livenessProbe:\n",
      `          readinessProbe:\n            tcpSocket:\n              port: ${readinessPort}\n          livenessProbe:\n`,
    );

  it("points a probe at the declared port, by number when no probe uses names", async () => {
    const text = probeRollout("9090").replace("port: http\n", "port: 8080\n");
    const workspace = await repo({ "deploy/rollout.yaml": text });
    const incident = incidentOf({
      containers: [
        {
          name: "app",
          image: "x/app:1",
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { tcpSocket: { port: 9090 } },
          livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
        },
      ],
      events: [
        event("Unhealthy", "Readiness probe failed: dial tcp 10.0.0.1:9090: connect: connection refused", 40),
      ],
    });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident, diagnosisOf("probe-failure"), config)).result,
    );
    expect(changed(fix.diff)).toEqual(["-              port: 9090", "+              port: 8080"]);
    expect(fix.rationale).toMatch(/reported 40 failures/);
  });

  it("adds a startupProbe sized from the logged start time", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:1" }),
    });
    const incident = incidentOf({
      containers: [
        {
          name: "app",
          image: "x/app:1",
          ports: [{ name: "http", containerPort: 8080 }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
        },
      ],
      events: [event("Killing", "Container app failed liveness probe, will be restarted", 4)],
      logs: [log("app-canary-1", "app", "INFO Started App in 100.0 seconds\n")],
    });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident, diagnosisOf("probe-failure"), config)).result,
    );
    expect(changed(fix.diff)).toEqual([
      "+          startupProbe:",
      "+            httpGet:",
      "+              path: /healthz",
      "+              port: http",
      "+            periodSeconds: 10",
      "+            failureThreshold: 15",
    ]);
    expect(fix.rationale).toMatch(/about 100s to start/);
  });

  it("gives a Helm chart's liveness probe a longer delay when the template has no startupProbe", async () => {
    const workspace = await repo({
      "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
      "chart/values.yaml":
        "image: x/app:1\nliveness:\n  httpGet:\n    path: /healthz\n    port: http\n  initialDelaySeconds: 5\n",
      "chart/templates/rollout.yaml":
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n          livenessProbe:\n            {{- toYaml .Values.liveness | nindent 12 }}\n",
    });
    const incident = incidentOf({
      containers: [
        {
          name: "app",
          image: "x/app:1",
          ports: [{ name: "http", containerPort: 8080 }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 5 },
        },
      ],
      events: [event("Killing", "Container app failed liveness probe, will be restarted", 4)],
      logs: [log("app-canary-1", "app", "ready after 60s\n")],
    });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident, diagnosisOf("probe-failure"), config)).result,
    );
    expect(changed(fix.diff)).toEqual(["-  initialDelaySeconds: 5", "+  initialDelaySeconds: 60"]);
  });

  it("edits a literal port inside a Helm template", async () => {
    const workspace = await repo({
      "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
      "chart/values.yaml": "image: x/app:1\n",
      "chart/templates/rollout.yaml":
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n          ports:\n            - name: http\n              containerPort: 8080\n          readinessProbe:\n            httpGet:\n              path: /ready\n              port: 8081   # admin\n",
    });
    const incident = incidentOf({
      containers: [
        {
          name: "app",
          image: "x/app:1",
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/ready", port: 8081 } },
        },
      ],
    });
    const fix = expectFix(
      (await runPlaybooks(workspace, incident, diagnosisOf("probe-failure"), config)).result,
    );
    expect(fix.files).toEqual(["chart/templates/rollout.yaml"]);
    expect(changed(fix.diff)).toEqual([
      "-              port: 8081   # admin",
      "+              port: 8080   # admin",
    ]);
  });

  it("gives up without evidence of a wrong port or a slow start", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:1" }),
    });
    const incident = incidentOf({
      containers: [
        {
          name: "app",
          image: "x/app:1",
          ports: [{ name: "http", containerPort: 8080 }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
        },
      ],
    });
    const result = (await runPlaybooks(workspace, incident, diagnosisOf("probe-failure"), config)).result;
    expect(isNoFix(result) && result.reason).toMatch(/no evidence of a slow start/);
  });
});

describe("runPlaybooks and proposeFix", () => {
  it("has no deterministic fix for other categories", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": rolloutYaml({ name: "app", image: "x:1" }) });
    const incident = incidentOf({ containers: [{ name: "app", image: "x:1" }] });
    const { fix, noFix } = await proposeFix({
      workspace,
      incident,
      diagnosis: diagnosisOf("crash-loop"),
      config,
    });
    expect(fix).toBeNull();
    expect(noFix).toEqual({ reason: "no deterministic fix for crash-loop", rejected: [] });
  });

  it("drops a fix outside allowPaths with the reason, and leaves the workspace clean", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
    });
    const incident = incidentOf({
      containers: [{ name: "app", image: "x/app:2", limits: { memory: "256Mi" } }],
      pods: oomPods(),
    });
    const { fix, noFix } = await proposeFix({
      workspace,
      incident,
      diagnosis: diagnosisOf("oom-killed"),
      config,
      allowPaths: ["charts/**"],
    });
    expect(fix).toBeNull();
    expect(noFix?.reason).toMatch(
      /refused by verification: deploy\/rollout\.yaml is outside allowPaths \(charts\/\*\*\)/,
    );
    expect(noFix?.rejected).toHaveLength(1);
    expect(await workspace.diff()).toBe("");
  });

  it("honours the repository's own allowPaths file", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
      ".rollout-medic.yaml": 'allowPaths: ["k8s/**"]\n',
    });
    const incident = incidentOf({
      containers: [{ name: "app", image: "x/app:2", limits: { memory: "256Mi" } }],
      pods: oomPods(),
    });
    const { noFix } = await proposeFix({ workspace, incident, diagnosis: diagnosisOf("oom-killed"), config });
    expect(noFix?.reason).toMatch(/outside the repository's allowPaths \(k8s\/\*\*\)/);
  });

  it("turns a playbook that fails midway into a NoFix and undoes its partial edits", async () => {
    const workspace = await repo({ "deploy/rollout.yaml": rolloutYaml({ name: "app", image: "x:1" }) });
    const incident = incidentOf({ containers: [{ name: "app", image: "x:1" }] });
    const boom = {
      id: "boom",
      applies: () => true,
      fix: async (ws: Workspace) => {
        await ws.writeFile("deploy/partial.yaml", "a: 1\n");
        throw new Error("kaboom");
      },
    };
    const { fix, noFix } = await proposeFix({
      workspace,
      incident,
      diagnosis: diagnosisOf("oom-killed"),
      config,
      playbooks: [boom],
    });
    expect(fix).toBeNull();
    expect(noFix).toEqual({
      reason: "the boom playbook could not edit the repository: kaboom",
      rejected: [{ fixer: "boom", reason: "kaboom" }],
    });
    expect(await workspace.diff()).toBe("");
  });

  it("returns the verified diff", async () => {
    const workspace = await repo({
      "deploy/rollout.yaml": rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
    });
    const incident = incidentOf({
      containers: [{ name: "app", image: "x/app:2", limits: { memory: "256Mi" } }],
      pods: oomPods(),
    });
    const { fix } = await proposeFix({ workspace, incident, diagnosis: diagnosisOf("oom-killed"), config });
    expect(fix?.diff).toBe(await workspace.diff());
    expect(fix?.strategy).toBe("playbook");
    expect(fix?.fixer).toBe("oom-killed");
  });
});
