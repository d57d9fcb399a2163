import { execFileSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((object): object is Manifest => object !== null);
}

export function hasKubectl(): boolean {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function renderKustomize(dir: string): Manifest[] {
  return parseManifests(execFileSync("kubectl", ["kustomize", path.join(ROOT, dir)], { encoding: "utf8" }));
}

/** helm on PATH, $ROLLOUT_MEDIC_HELM, or the one `go install helm.sh/helm/v3/cmd/helm` left in the cache. */
export function findHelm(): string | null {
  const candidates = [
    process.env["ROLLOUT_MEDIC_HELM"],
    ...(process.env["PATH"] ?? "").split(path.delimiter).map((dir) => path.join(dir, "helm")),
    path.join(os.homedir(), ".cache/rollout-medic/helm/bin/helm"),
  ].filter((candidate): candidate is string => Boolean(candidate));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Next one.
    }
  }
  return null;
}

/** `values` are `--set key=value`; `files` are `--set-file key=path`. */
export function renderHelm(helm: string, release: string, values: string[], files: string[] = []): Manifest[] {
  const args = ["template", release, path.join(ROOT, "deploy/helm/rollout-medic"), "--namespace", "rollout-medic"];
  for (const value of values) args.push("--set", value);
  for (const file of files) args.push("--set-file", file);
  return parseManifests(execFileSync(helm, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
}

export function readManifests(file: string): Manifest[] {
  return parseManifests(readFileSync(path.join(ROOT, file), "utf8"));
}

type ModelClass = { getAttributeTypeMap(): { name: string; baseName: string; type: string }[] };

/** The @kubernetes/client-node model of a type name, or null for primitives and maps. */
function modelOf(type: string): ModelClass | null {
  const model = (k8s as unknown as Record<string, unknown>)[type];
  return model && typeof (model as ModelClass).getAttributeTypeMap === "function" ? (model as ModelClass) : null;
}

/**
 * Fields the API server would reject under strict field validation (kubectl's default): every key must be
 * a property of the client library's model of that type, all the way down.
 */
export function unknownFields(object: Manifest): string[] {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["core", object.apiVersion];
  const prefix = `${version![0]!.toUpperCase()}${version!.slice(1)}`;
  const root = modelOf(`${prefix}${object.kind}`);
  if (!root) throw new Error(`no client model for ${group}/${version} ${object.kind}`);
  const problems: string[] = [];
  const walk = (value: unknown, type: string, at: string): void => {
    if (value === null || value === undefined) return;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, array[1]!, `${at}[${i}]`));
      return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
      if (typeof value === "object") for (const [key, item] of Object.entries(value)) walk(item, map[1]!, `${at}.${key}`);
      return;
    }
    const model = modelOf(type);
    if (!model || typeof value !== "object" || Array.isArray(value)) return;
    const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [key, item] of Object.entries(value)) {
      const attribute = attributes.get(key);
      if (attribute === undefined) problems.push(`${at}.${key}`);
      else walk(item, attribute, `${at}.${key}`);
    }
  };
  walk(object, `${prefix}${object.kind}`, object.kind);
  return problems;
}
