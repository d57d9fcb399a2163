import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RolloutSnapshot } from "../../agent/incident/incident.js";
import { readRollout } from "../../agent/incident/read-objects.js";
import { createWorkspaceFromDirectory } from "../../agent/workspace/create-workspace-from-directory.js";
import type { Workspace } from "../../agent/workspace/workspace.js";

/** Writes `files` into a temp folder and opens a workspace on it; `cleanup` removes both. */
export async function workspaceWith(
  files: Record<string, string>,
): Promise<{ workspace: Workspace; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "rm-repo-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  const workspace = await createWorkspaceFromDirectory(dir);
  return {
    workspace,
    dir,
    cleanup: async () => {
      await workspace.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ObservedContainer {
  name: string;
  image: string;
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
}

/** The Rollout as the cluster shows it, read through the same code the incident uses. */
export function observedRollout(
  namespace: string,
  name: string,
  containers: ObservedContainer[],
): RolloutSnapshot {
  return readRollout({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace },
    spec: {
      template: {
        spec: {
          containers: containers.map((c) => ({
            name: c.name,
            image: c.image,
            ports: c.ports ?? [],
            resources: { limits: c.limits ?? {}, requests: c.requests ?? {} },
            ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
            ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
            ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
          })),
        },
      },
      strategy: { canary: {} },
    },
    status: {},
  });
}

export function rolloutYaml(options: {
  name: string;
  namespace?: string;
  image: string;
  memory?: string;
  container?: string;
}): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ${options.name}
${options.namespace ? `  namespace: ${options.namespace}\n` : ""}spec:
  replicas: 2
  selector:
    matchLabels:
      app: ${options.name}
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 1m}
  template:
    metadata:
      labels:
        app: ${options.name}
    spec:
      containers:
        - name: ${options.container ?? options.name}
          image: ${options.image}
          ports:
            - name: http
              containerPort: 8080
          resources:
            limits:
              memory: ${options.memory ?? "256Mi"}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
`;
}
