import { readYamlValues } from "../workspace/edit-yaml-value.js";
import { kustomizeReferences } from "../workspace/kustomize-sources.js";
import { readYamlFiles } from "../workspace/read-yaml-files.js";
import type { Workspace } from "../workspace/workspace.js";
import { checkWritePath } from "./path-policy.js";
import type { PathPolicy } from "./path-policy.js";

export interface VerifyOptions {
  policy: PathPolicy;
  /** Added plus removed lines, headers excluded (config.policy.maxDiffLines). */
  maxDiffLines: number;
}

export type VerifyResult =
  | { ok: true; diff: string; files: string[]; notes: string[] }
  | { ok: false; reason: string; diff: string; files: string[] };

interface ModelInstance {
  validate(): void;
}
type ModelClass = new (data: unknown) => ModelInstance;

const modelCache = new Map<string, ModelClass | null>();

/**
 * The published schema of an apiVersion/kind, from kubernetes-models (core and built-in groups) or
 * @kubernetes-models/argo-rollouts (argoproj.io). Null for kinds neither package models (CRDs of others).
 */
export async function findModelClass(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key) ?? null;
  let model: ModelClass | null = null;
  // Both halves become part of a module specifier: only plain names may pass.
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  if (
    /^[A-Za-z][A-Za-z0-9]*$/.test(kind) &&
    /^[a-z0-9.-]*$/.test(group ?? "") &&
    /^v[0-9a-z]+$/.test(version ?? "")
  ) {
    const specifier =
      group === "argoproj.io"
        ? `@kubernetes-models/argo-rollouts/argoproj.io/${version}/${kind}`
        : group === ""
          ? `kubernetes-models/${version}/${kind}`
          : `kubernetes-models/${group}/${version}/${kind}`;
    try {
      const module = (await import(specifier)) as Record<string, unknown>;
      const candidate = module[kind];
      model = typeof candidate === "function" ? (candidate as ModelClass) : null;
    } catch {
      model = null;
    }
  }
  modelCache.set(key, model);
  return model;
}

/** Validates one object against its published schema; null when valid or when no schema is known. */
export async function validateObject(
  object: Record<string, unknown>,
): Promise<{ error: string | null; validated: boolean }> {
  const apiVersion = object["apiVersion"];
  const kind = object["kind"];
  if (typeof apiVersion !== "string" || typeof kind !== "string") return { error: null, validated: false };
  const Model = await findModelClass(apiVersion, kind);
  if (!Model) return { error: null, validated: false };
  try {
    new Model(object).validate();
    return { error: null, validated: true };
  } catch (error) {
    return { error: (error as Error).message.replace(/\s+/g, " ").slice(0, 600), validated: true };
  }
}

function isHelmTemplate(file: string, text: string): boolean {
  return /(^|\/)templates\//.test(file) && text.includes("{{");
}

export function countDiffLines(diff: string): number {
  let count = 0;
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ") || line.startsWith("--- ")) continue;
    if (line.startsWith("+") || line.startsWith("-")) count++;
  }
  return count;
}

function objectName(value: Record<string, unknown>): string {
  const metadata = value["metadata"] as { name?: unknown } | undefined;
  return `${String(value["kind"])} ${typeof metadata?.name === "string" ? metadata.name : "(unnamed)"}`;
}

/**
 * Checks a change before anything is proposed: non-empty, only allowed paths, within the size cap,
 * every changed YAML file parses, and every changed full Kubernetes or Argo Rollouts object validates.
 * Kustomize patches are partial objects and Helm templates are not YAML yet: both are skipped.
 */
export async function verifyFix(workspace: Workspace, options: VerifyOptions): Promise<VerifyResult> {
  const diff = await workspace.diff();
  const files = await workspace.changedFiles();
  const refuse = (reason: string): VerifyResult => ({ ok: false, reason, diff, files });
  if (diff.trim() === "" || files.length === 0) return refuse("the change is empty");
  const notes: string[] = [];

  const contents = new Map<string, string | null>();
  for (const file of files) {
    let content: string | null = null;
    if (await workspace.exists(file)) {
      try {
        content = await workspace.readFile(file);
      } catch (error) {
        return refuse(`${file}: ${(error as Error).message}`);
      }
    }
    contents.set(file, content);
    const verdict = checkWritePath(file, options.policy, content ?? undefined);
    if (!verdict.ok) return refuse(verdict.reason);
  }

  const lines = countDiffLines(diff);
  if (lines > options.maxDiffLines) {
    return refuse(
      `the diff changes ${lines} lines, more than the limit of ${options.maxDiffLines} (ROLLOUT_MEDIC_MAX_DIFF_LINES)`,
    );
  }

  const yamlSet = await readYamlFiles(workspace);
  const patches = kustomizeReferences(yamlSet).patches;
  for (const [file, content] of contents) {
    if (content === null || !/\.ya?ml$/i.test(file) || isHelmTemplate(file, content)) continue;
    let values: unknown[];
    try {
      values = readYamlValues(content, file);
    } catch (error) {
      return refuse(`${file} no longer parses: ${(error as Error).message}`);
    }
    if (patches.has(file)) {
      notes.push(`${file}: kustomize patch (partial objects): parsed, not validated against a schema`);
      continue;
    }
    let before: unknown[] = [];
    try {
      const base = await workspace.readBaseFile(file);
      before = base === null ? [] : readYamlValues(base, file);
    } catch {
      before = [];
    }
    for (const [index, value] of values.entries()) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
      // Only objects this change touched: an unrelated document's old problems are not this fix's to judge.
      if (JSON.stringify(before[index]) === JSON.stringify(value)) continue;
      const object = value as Record<string, unknown>;
      const { error, validated } = await validateObject(object);
      if (error)
        return refuse(`${file}: ${objectName(object)} does not validate against its schema: ${error}`);
      if (validated) notes.push(`${file}: ${objectName(object)} validates against its published schema`);
      else if (typeof object["kind"] === "string")
        notes.push(`${file}: ${objectName(object)}: no published schema bundled, parsed only`);
    }
  }
  return { ok: true, diff, files, notes };
}
