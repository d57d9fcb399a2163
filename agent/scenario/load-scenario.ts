import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { isKubeObject } from "../cluster/kube-object.js";
import type { KubeObject } from "../cluster/kube-object.js";
import { ScenarioError } from "../errors.js";
import { YamlLoadError, loadYamlValues } from "../yaml/load-yaml-values.js";

export const ScenarioManifest = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  rollout: z.object({ namespace: z.string().min(1), name: z.string().min(1) }),
  repo: z
    .object({
      url: z.string().optional(),
      baseBranch: z.string().default("main"),
      allowPaths: z.array(z.string()).optional(),
    })
    .optional(),
});
export type ScenarioManifest = z.infer<typeof ScenarioManifest>;

const ContentCheck = z.object({ path: z.string(), pattern: z.string() });
export const ScenarioExpectation = z.object({
  category: z.string(),
  fix: z
    .object({
      strategy: z.enum(["playbook", "agent", "none"]),
      files: z.array(z.string()).default([]),
      contains: z.array(ContentCheck).default([]),
      absent: z.array(ContentCheck).default([]),
    })
    .optional(),
});
export type ScenarioExpectation = z.infer<typeof ScenarioExpectation>;

export interface Scenario {
  dir: string;
  manifest: ScenarioManifest;
  objects: KubeObject[];
  logsDir: string;
  repoDir: string | null;
  notification: unknown;
  expectation: ScenarioExpectation | null;
}

export function parseYamlFile(file: string, text: string): unknown[] {
  try {
    return loadYamlValues(text).filter((value) => value !== null && value !== undefined);
  } catch (cause) {
    if (cause instanceof YamlLoadError) {
      throw new ScenarioError(`${file}${cause.line ? `:${cause.line}` : ""}: ${cause.message}`);
    }
    throw new ScenarioError(`${file}: ${(cause as Error).message}`, { cause });
  }
}

function readYamlObjects(file: string, rel: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const value of parseYamlFile(rel, readFileSync(file, "utf8"))) {
    const items =
      typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "List"
        ? ((value as { items?: unknown[] }).items ?? [])
        : [value];
    for (const item of items) {
      if (!isKubeObject(item))
        throw new ScenarioError(`${rel}: every document must be a Kubernetes object with metadata.name`);
      // Secret data is never read, even from a recorded scenario.
      if (item.kind === "Secret") {
        delete item["data"];
        delete item["stringData"];
      }
      out.push(item);
    }
  }
  return out;
}

function readManifest<T>(file: string, rel: string, schema: z.ZodType<T>): T {
  const [value] = parseYamlFile(rel, readFileSync(file, "utf8"));
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScenarioError(
      `${rel}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  return parsed.data;
}

/** Reads a scenario folder in the layout of the scenario format spec. */
export function loadScenario(dir: string): Scenario {
  const abs = path.resolve(dir);
  if (!existsSync(abs)) throw new ScenarioError(`scenario folder ${dir} does not exist`);
  if (!statSync(abs).isDirectory()) throw new ScenarioError(`${dir} is not a folder: pass a scenario folder`);
  const manifestFile = path.join(abs, "scenario.yaml");
  if (!existsSync(manifestFile))
    throw new ScenarioError(`${dir} has no scenario.yaml: is this a scenario folder?`);
  const manifest = readManifest(manifestFile, path.join(dir, "scenario.yaml"), ScenarioManifest);

  const clusterDir = path.join(abs, "cluster");
  if (!existsSync(clusterDir))
    throw new ScenarioError(`${dir} has no cluster/ folder with the recorded objects`);
  const objects: KubeObject[] = [];
  for (const name of readdirSync(clusterDir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    objects.push(...readYamlObjects(path.join(clusterDir, name), path.join(dir, "cluster", name)));
  }

  const notificationFile = path.join(abs, "notification.json");
  let notification: unknown = null;
  if (existsSync(notificationFile)) {
    try {
      notification = JSON.parse(readFileSync(notificationFile, "utf8"));
    } catch (cause) {
      throw new ScenarioError(
        `${path.join(dir, "notification.json")}: invalid JSON: ${(cause as Error).message}`,
      );
    }
  }
  const expectFile = path.join(abs, "expect.yaml");
  const expectation = existsSync(expectFile)
    ? readManifest(expectFile, path.join(dir, "expect.yaml"), ScenarioExpectation)
    : null;
  const repoDir = path.join(abs, "repo");
  return {
    dir: abs,
    manifest,
    objects,
    logsDir: path.join(abs, "logs"),
    repoDir: existsSync(repoDir) && statSync(repoDir).isDirectory() ? repoDir : null,
    notification,
    expectation,
  };
}
