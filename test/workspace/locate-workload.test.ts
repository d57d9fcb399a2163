import { afterEach, describe, expect, it } from "vitest";
import { findContainer, findField, locateWorkload } from "../../agent/workspace/locate-workload.js";
import type { LocatedWorkload } from "../../agent/workspace/locate-workload.js";
import { observedRollout, rolloutYaml, workspaceWith } from "./repo-builder.js";

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function locate(
  files: Record<string, string>,
  observed: ReturnType<typeof observedRollout>,
): Promise<LocatedWorkload> {
  const repo = await workspaceWith(files);
  cleanup = repo.cleanup;
  const result = await locateWorkload(repo.workspace, observed);
  if (!result.workload) throw new Error(result.reason);
  return result.workload;
}

function field(workload: LocatedWorkload, container: string, name: string) {
  const model = findContainer(workload, container);
  return model ? findField(model, name) : null;
}

describe("locateWorkload: plain manifests", () => {
  it("finds the Rollout by name and namespace in a multi-document file", async () => {
    const workload = await locate(
      {
        "deploy/all.yaml": `# header\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app\n---\n${rolloutYaml({ name: "other", image: "x/other:1" })}---\n${rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2", memory: "300Mi" })}`,
        "staging/app.yaml": rolloutYaml({ name: "app", namespace: "staging", image: "x/app:1" }),
      },
      observedRollout("shop", "app", [{ name: "app", image: "x/app:2", limits: { memory: "300Mi" } }]),
    );
    expect(workload.kind).toBe("manifest");
    expect(workload.root).toBe("deploy/all.yaml");
    const limit = field(workload, "app", "resources.limits.memory");
    expect(limit?.value).toBe("300Mi");
    expect(limit?.location).toEqual({
      file: "deploy/all.yaml",
      docIndex: 2,
      path: ["spec", "template", "spec", "containers", 0, "resources", "limits", "memory"],
    });
  });

  it("says why when nothing matches", async () => {
    const repo = await workspaceWith({ "README.md": "# nothing here\n" });
    cleanup = repo.cleanup;
    const result = await locateWorkload(
      repo.workspace,
      observedRollout("shop", "app", [{ name: "app", image: "x" }]),
    );
    expect(result.workload).toBeNull();
    expect(result.reason).toMatch(/no Rollout manifest, kustomization or Helm chart/);
  });
});

const BASE = {
  "base/kustomization.yaml": "resources:\n  - rollout.yaml\n",
  "base/rollout.yaml": rolloutYaml({ name: "api", image: "registry.io/team/api", memory: "128Mi" }),
};

describe("locateWorkload: kustomize", () => {
  it("prefers the overlay whose namespace and patched limit match the cluster over the base and other overlays", async () => {
    const workload = await locate(
      {
        ...BASE,
        "overlays/prod/kustomization.yaml":
          'namespace: prod\nresources:\n  - ../../base\npatches:\n  - path: memory.yaml\nimages:\n  - name: registry.io/team/api\n    newTag: "2.0.0"\n',
        "overlays/prod/memory.yaml":
          "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          resources:\n            limits:\n              memory: 512Mi\n",
        "overlays/staging/kustomization.yaml":
          'namespace: staging\nresources:\n  - ../../base\nimages:\n  - name: registry.io/team/api\n    newTag: "2.1.0-rc1"\n',
      },
      observedRollout("prod", "api", [
        { name: "api", image: "registry.io/team/api:2.0.0", limits: { memory: "512Mi" } },
      ]),
    );
    expect(workload.root).toBe("overlays/prod");
    expect(field(workload, "api", "resources.limits.memory")?.location.file).toBe(
      "overlays/prod/memory.yaml",
    );
    expect(field(workload, "api", "livenessProbe.httpGet.port")?.location.file).toBe("base/rollout.yaml");
    const image = findContainer(workload, "api")?.image;
    expect(image?.type).toBe("kustomize-images");
    if (image?.type === "kustomize-images") {
      expect(image.entry).toMatchObject({ name: "registry.io/team/api", newTag: "2.0.0" });
      expect(image.entry.location).toEqual({
        file: "overlays/prod/kustomization.yaml",
        docIndex: 0,
        path: ["images", 0],
      });
    }
  });

  it("chooses between overlays in the same namespace by the value the cluster runs", async () => {
    const overlay = (memory: string) =>
      `resources:\n  - ../../base\npatches:\n  - target:\n      kind: Rollout\n      name: api\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/resources/limits/memory\n        value: ${memory}\n`;
    const workload = await locate(
      {
        ...BASE,
        "overlays/a/kustomization.yaml": overlay("384Mi"),
        "overlays/b/kustomization.yaml": overlay("768Mi"),
      },
      observedRollout("default", "api", [
        { name: "api", image: "registry.io/team/api", limits: { memory: "768Mi" } },
      ]),
    );
    expect(workload.root).toBe("overlays/b");
    const limit = field(workload, "api", "resources.limits.memory");
    expect(limit?.origin).toBe("kustomize-json6902");
    expect(limit?.location).toEqual({
      file: "overlays/b/kustomization.yaml",
      docIndex: 0,
      path: ["patches", 0, "patch"],
      inner: { docIndex: 0, path: [0, "value"] },
    });
  });

  it("follows inline strategic-merge patches, patchesStrategicMerge, namePrefix and images newName/digest", async () => {
    const workload = await locate(
      {
        ...BASE,
        "prod/kustomization.yaml": `namespace: prod
namePrefix: prod-
resources:
  - ../base
patchesStrategicMerge:
  - |-
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    metadata:
      name: api
    spec:
      template:
        spec:
          containers:
            - name: api
              resources:
                limits:
                  memory: 1Gi
images:
  - name: registry.io/team/api
    newName: mirror.io/team/api
    digest: sha256:abc
`,
      },
      observedRollout("prod", "prod-api", [
        { name: "api", image: "mirror.io/team/api@sha256:abc", limits: { memory: "1Gi" } },
      ]),
    );
    expect(workload.name).toBe("prod-api");
    const limit = field(workload, "api", "resources.limits.memory");
    expect(limit?.location.inner).toEqual({
      docIndex: 0,
      path: ["spec", "template", "spec", "containers", 0, "resources", "limits", "memory"],
    });
    expect(findContainer(workload, "api")?.effectiveImage).toBe("mirror.io/team/api@sha256:abc");
  });

  it("does not follow resources outside the repository and notes it", async () => {
    const repo = await workspaceWith({
      ...BASE,
      "kustomization.yaml": "resources:\n  - ../../elsewhere\n  - https://github.com/x/y//z\n  - base\n",
    });
    cleanup = repo.cleanup;
    const result = await locateWorkload(
      repo.workspace,
      observedRollout("default", "api", [{ name: "api", image: "registry.io/team/api" }]),
    );
    expect(result.workload).not.toBeNull();
    expect(result.notes.join("\n")).toMatch(/remote or outside the repository/);
  });
});

describe("locateWorkload: Helm", () => {
  const chart = {
    "charts/web/Chart.yaml": 'apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: "1.0.0"\n',
    "charts/web/values.yaml":
      'image:\n  repository: ghcr.io/acme/web\n  tag: "1.4.0"\nresources:\n  limits:\n    memory: 256Mi\nprobes:\n  liveness:\n    httpGet:\n      path: /healthz\n      port: http\n',
    "charts/web/values-prod.yaml": "resources:\n  limits:\n    memory: 1Gi\n",
    "charts/web/templates/rollout.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {{ include "web.fullname" . }}
spec:
  template:
    spec:
      containers:
      - name: {{ .Chart.Name }}
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
        ports:
          - name: http
            containerPort: 8080
        {{- with .Values.probes.liveness }}
        livenessProbe:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        resources: {{- toYaml .Values.resources | nindent 10 }}
        readinessProbe:
          httpGet:
            path: /ready
            port: http
          periodSeconds: 5
`,
  };

  it("maps template positions to values keys and picks the values file matching the cluster", async () => {
    const workload = await locate(
      chart,
      observedRollout("web", "web", [
        { name: "web", image: "ghcr.io/acme/web:1.4.0", limits: { memory: "1Gi" } },
      ]),
    );
    expect(workload.kind).toBe("helm");
    expect(workload.valuesFiles).toEqual(["charts/web/values.yaml", "charts/web/values-prod.yaml"]);
    expect(field(workload, "web", "resources.limits.memory")?.location).toEqual({
      file: "charts/web/values-prod.yaml",
      docIndex: 0,
      path: ["resources", "limits", "memory"],
    });
    expect(field(workload, "web", "livenessProbe.httpGet.port")?.location.path).toEqual([
      "probes",
      "liveness",
      "httpGet",
      "port",
    ]);
    const readiness = field(workload, "web", "readinessProbe.periodSeconds");
    expect(readiness?.origin).toBe("helm-template");
    expect(readiness?.value).toBe("5");
    const image = findContainer(workload, "web")?.image;
    expect(image?.type).toBe("helm");
    if (image?.type === "helm") {
      expect(image.parts.map((p) => p.valuesPath.join("."))).toEqual(["image.repository", "image.tag"]);
      expect(image.parts[1]?.source?.location.file).toBe("charts/web/values.yaml");
    }
  });
});
