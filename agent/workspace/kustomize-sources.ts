import path from "node:path";
import { parseImageReference, sameImageName } from "./image-reference.js";
import { parseYamlFile } from "./read-yaml-files.js";
import type { YamlFile, YamlFileSet } from "./read-yaml-files.js";
import {
  asRecord,
  asString,
  containerFromRecord,
  containersOf,
  CONTAINERS_PATH,
  deletePrefix,
  flattenInto,
  withPath,
} from "./workload-model.js";
import type { ContainerModel, Loose, WorkloadCandidate, YamlLocation } from "./workload-model.js";

const KUSTOMIZATION_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** A Rollout as one kustomization level sees it. */
interface RolloutResource {
  originalName: string;
  name: string;
  namespace?: string;
  containers: ContainerModel[];
}

interface BuildContext {
  set: YamlFileSet;
  notes: string[];
  /** Guards against kustomizations that include each other. */
  stack: string[];
}

export function isKustomizationFile(file: string): boolean {
  return KUSTOMIZATION_NAMES.includes(path.posix.basename(file));
}

function kustomizationIn(set: YamlFileSet, dir: string): YamlFile | null {
  for (const name of KUSTOMIZATION_NAMES) {
    const file = set.files.get(dir === "" || dir === "." ? name : `${dir}/${name}`);
    if (file) return file;
  }
  return null;
}

/** Joins a reference relative to a kustomization folder; null when it leaves the repository or is remote. */
function resolveRef(dir: string, ref: string): string | null {
  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(ref) ||
    ref.startsWith("git@")
  ) {
    return null;
  }
  const joined = path.posix.normalize(path.posix.join(dir || ".", ref)).replace(/\/$/, "");
  if (joined === ".." || joined.startsWith("../") || path.posix.isAbsolute(joined)) return null;
  return joined === "." ? "" : joined;
}

function firstMapDoc(file: YamlFile): number {
  const index = file.values.findIndex((v) => asRecord(v) !== null);
  return index < 0 ? 0 : index;
}

function cloneContainers(containers: ContainerModel[]): ContainerModel[] {
  return containers.map((c) => ({
    ...c,
    definitions: [...c.definitions],
    fields: new Map(c.fields),
  }));
}

function nameMatches(pattern: string | undefined, name: string, original: string): boolean {
  if (pattern === undefined) return true;
  if (pattern === name || pattern === original) return true;
  // kustomize targets accept regular expressions anchored on the whole name.
  try {
    const re = new RegExp(`^(?:${pattern})$`);
    return re.test(name) || re.test(original);
  } catch {
    return false;
  }
}

function targetMatches(target: Record<string, unknown> | null, rollout: RolloutResource): boolean {
  if (!target) return true;
  const kind = asString(target["kind"]);
  if (kind !== undefined && !nameMatches(kind, "Rollout", "Rollout")) return false;
  const group = asString(target["group"]);
  if (group !== undefined && group !== "argoproj.io") return false;
  return nameMatches(asString(target["name"]), rollout.name, rollout.originalName);
}

function applyStrategicMerge(rollout: RolloutResource, patch: unknown, location: YamlLocation): void {
  const list = (patch as Loose)?.spec?.template?.spec?.containers;
  if (!Array.isArray(list)) return;
  list.forEach((item: unknown, index: number) => {
    const record = asRecord(item);
    const name = asString(record?.["name"]);
    if (!record || !name) return;
    const at = withPath(location, [...CONTAINERS_PATH, index]);
    const existingIndex = rollout.containers.findIndex((c) => c.name === name);
    if (record["$patch"] === "delete") {
      if (existingIndex >= 0) rollout.containers.splice(existingIndex, 1);
      return;
    }
    let container = rollout.containers[existingIndex];
    if (!container || record["$patch"] === "replace") {
      container = { name, definitions: [], fields: new Map(), image: null };
      if (existingIndex >= 0) rollout.containers[existingIndex] = container;
      else rollout.containers.push(container);
    }
    container.definitions.push({ location: at, origin: "kustomize-patch" });
    flattenInto(container.fields, record, [], at, "kustomize-patch");
    const image = container.fields.get("image");
    if (typeof record["image"] === "string" && image) {
      container.image = { type: "field", source: image };
      container.effectiveImage = asString(image.value);
    }
  });
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** JSON 6902 ops under /spec/template/spec/containers/N/…; anything else cannot change a container value. */
function applyJson6902(rollout: RolloutResource, ops: unknown[], location: YamlLocation): void {
  ops.forEach((op: unknown, index: number) => {
    const record = asRecord(op);
    const pointer = asString(record?.["path"]);
    const verb = asString(record?.["op"]);
    if (!record || !pointer || !verb) return;
    const segments = pointer.split("/").slice(1).map(unescapePointer);
    if (segments.slice(0, 4).join("/") !== CONTAINERS_PATH.join("/")) return;
    const slot = segments[4];
    if (slot === undefined) return;
    const rest = segments.slice(5);
    const valueAt = withPath(location, [index, "value"]);
    if (slot === "-" && verb === "add" && rest.length === 0) {
      rollout.containers.push(...containersFromValue(record["value"], valueAt));
      return;
    }
    const container = /^\d+$/.test(slot) ? rollout.containers[Number(slot)] : undefined;
    if (!container) return;
    if (rest.length === 0) return;
    // Array positions inside a container (ports/0/…) are not tracked: lists are leaves.
    if (rest.some((s) => /^\d+$/.test(s) || s === "-")) return;
    if (verb === "remove") {
      deletePrefix(container.fields, rest);
      return;
    }
    if (verb !== "add" && verb !== "replace") return;
    deletePrefix(container.fields, rest);
    flattenInto(container.fields, record["value"], rest, valueAt, "kustomize-json6902");
    if (rest.length === 1 && rest[0] === "image") {
      const image = container.fields.get("image");
      if (image) {
        container.image = { type: "field", source: image };
        container.effectiveImage = asString(image.value);
      }
    }
  });
}

function containersFromValue(value: unknown, location: YamlLocation): ContainerModel[] {
  const container = containerFromRecord(value, location, "kustomize-json6902");
  return container ? [container] : [];
}

interface PatchText {
  values: unknown[];
  /** Location of document `d` of the patch. */
  at: (docIndex: number) => YamlLocation;
}

function readPatch(
  ctx: BuildContext,
  dir: string,
  kustomization: YamlFile,
  entryPath: (string | number)[],
  entry: unknown,
): PatchText | null {
  const record = asRecord(entry);
  const docIndex = firstMapDoc(kustomization);
  const inline = typeof entry === "string" && entry.includes("\n") ? entry : asString(record?.["patch"]);
  if (inline !== undefined) {
    const parsed = parseYamlFile(`${kustomization.file} (inline patch)`, inline);
    if (!("yaml" in parsed)) {
      ctx.notes.push(parsed.reason);
      return null;
    }
    const outerPath = typeof entry === "string" ? entryPath : [...entryPath, "patch"];
    return {
      values: parsed.yaml.values,
      at: (d) => ({ file: kustomization.file, docIndex, path: outerPath, inner: { docIndex: d, path: [] } }),
    };
  }
  const ref = typeof entry === "string" ? entry : asString(record?.["path"]);
  if (ref === undefined) return null;
  const file = resolveRef(dir, ref);
  const yaml = file === null ? null : ctx.set.files.get(file);
  if (!yaml || file === null) {
    ctx.notes.push(`${kustomization.file}: patch ${ref} could not be read`);
    return null;
  }
  return { values: yaml.values, at: (d) => ({ file, docIndex: d, path: [] }) };
}

function applyPatchDocs(
  rollouts: RolloutResource[],
  patch: PatchText,
  target: Record<string, unknown> | null,
  forceJson6902: boolean,
): void {
  patch.values.forEach((value, docIndex) => {
    if (value === null || value === undefined) return;
    const location = patch.at(docIndex);
    if (Array.isArray(value) || forceJson6902) {
      if (!Array.isArray(value)) return;
      for (const rollout of rollouts)
        if (target && targetMatches(target, rollout)) applyJson6902(rollout, value, location);
      return;
    }
    const record = asRecord(value);
    const kind = asString(record?.["kind"]);
    const name = asString(asRecord(record?.["metadata"])?.["name"]);
    for (const rollout of rollouts) {
      if (target) {
        if (!targetMatches(target, rollout)) continue;
      } else if (
        (kind !== undefined && kind !== "Rollout") ||
        (name !== undefined && !nameMatches(name, rollout.name, rollout.originalName))
      ) {
        continue;
      }
      applyStrategicMerge(rollout, value, location);
    }
  });
}

function applyImages(rollouts: RolloutResource[], kustomization: YamlFile, images: unknown): void {
  if (!Array.isArray(images)) return;
  const docIndex = firstMapDoc(kustomization);
  for (const rollout of rollouts) {
    for (const container of rollout.containers) {
      const current = container.effectiveImage;
      if (!current) continue;
      const ref = parseImageReference(current);
      const index = images.findIndex((e) => {
        const name = asString(asRecord(e)?.["name"]);
        return name !== undefined && (name === ref.name || sameImageName(name, ref.name));
      });
      const entry = asRecord(images[index]);
      if (!entry) continue;
      const newName = asString(entry["newName"]);
      const newTag = asString(entry["newTag"]);
      const digest = asString(entry["digest"]);
      const name = newName ?? ref.name;
      const effective = digest
        ? `${name}@${digest}`
        : `${name}${(newTag ?? ref.tag) ? `:${newTag ?? ref.tag}` : ""}`;
      container.image = {
        type: "kustomize-images",
        input: current,
        entry: {
          location: { file: kustomization.file, docIndex, path: ["images", index] },
          name: asString(entry["name"]) ?? ref.name,
          ...(newName !== undefined ? { newName } : {}),
          ...(newTag !== undefined ? { newTag } : {}),
          ...(digest !== undefined ? { digest } : {}),
        },
      };
      container.effectiveImage = effective;
    }
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Builds the Rollouts one kustomization produces, tracking where each container value comes from. */
function build(ctx: BuildContext, dir: string): RolloutResource[] {
  const kustomization = kustomizationIn(ctx.set, dir);
  if (!kustomization) return [];
  if (ctx.stack.includes(dir)) {
    ctx.notes.push(`${kustomization.file}: includes itself through ${ctx.stack.join(" → ")}`);
    return [];
  }
  ctx.stack.push(dir);
  try {
    const k = (kustomization.values[firstMapDoc(kustomization)] ?? {}) as Loose;
    const rollouts: RolloutResource[] = [];
    const includes = [...list(k.resources), ...list(k.bases), ...list(k.components)];
    for (const entry of includes) {
      const ref = asString(entry);
      if (ref === undefined) continue;
      const target = resolveRef(dir, ref);
      if (target === null) {
        ctx.notes.push(`${kustomization.file}: ${ref} is remote or outside the repository: not followed`);
        continue;
      }
      if (kustomizationIn(ctx.set, target)) {
        rollouts.push(
          ...build(ctx, target).map((r) => ({ ...r, containers: cloneContainers(r.containers) })),
        );
        continue;
      }
      const file = ctx.set.files.get(target);
      if (!file) continue;
      file.values.forEach((value, docIndex) => {
        const record = value as Loose;
        if (record?.kind !== "Rollout" || typeof record?.metadata?.name !== "string") return;
        const location: YamlLocation = { file: file.file, docIndex, path: [] };
        rollouts.push({
          originalName: record.metadata.name,
          name: record.metadata.name,
          namespace: asString(record.metadata.namespace),
          containers: containersOf(record, location, "kustomize-resource"),
        });
      });
    }

    const patchEntries: { entry: unknown; path: (string | number)[]; json6902: boolean }[] = [
      ...list(k.patchesStrategicMerge).map((entry, i) => ({
        entry,
        path: ["patchesStrategicMerge", i],
        json6902: false,
      })),
      ...list(k.patches).map((entry, i) => ({ entry, path: ["patches", i], json6902: false })),
      ...list(k.patchesJson6902).map((entry, i) => ({ entry, path: ["patchesJson6902", i], json6902: true })),
    ];
    for (const { entry, path: entryPath, json6902 } of patchEntries) {
      const patch = readPatch(ctx, dir, kustomization, entryPath, entry);
      if (!patch) continue;
      applyPatchDocs(rollouts, patch, asRecord(asRecord(entry)?.["target"]), json6902);
    }

    const namespace = asString(k.namespace);
    const prefix = asString(k.namePrefix) ?? "";
    const suffix = asString(k.nameSuffix) ?? "";
    for (const rollout of rollouts) {
      if (namespace) rollout.namespace = namespace;
      rollout.name = `${prefix}${rollout.name}${suffix}`;
    }
    applyImages(rollouts, kustomization, k.images);
    return rollouts;
  } finally {
    ctx.stack.pop();
  }
}

export interface KustomizeReferences {
  /** Folders whose kustomization another kustomization includes (bases, components). */
  included: Set<string>;
  /** Resource files included by a kustomization. */
  resources: Set<string>;
  /** Patch files (partial objects). */
  patches: Set<string>;
}

function kustomizationDirs(set: YamlFileSet): string[] {
  return [...set.files.keys()]
    .filter(isKustomizationFile)
    .map((f) => path.posix.dirname(f))
    .map((d) => (d === "." ? "" : d));
}

/** What every kustomization in the repository refers to. */
export function kustomizeReferences(set: YamlFileSet): KustomizeReferences {
  const refs: KustomizeReferences = { included: new Set(), resources: new Set(), patches: new Set() };
  for (const dir of kustomizationDirs(set)) {
    const kustomization = kustomizationIn(set, dir);
    if (!kustomization) continue;
    const k = (kustomization.values[firstMapDoc(kustomization)] ?? {}) as Loose;
    for (const entry of [...list(k.resources), ...list(k.bases), ...list(k.components)]) {
      const ref = asString(entry);
      const target = ref === undefined ? null : resolveRef(dir, ref);
      if (target === null) continue;
      if (kustomizationIn(set, target)) refs.included.add(target);
      else refs.resources.add(target);
    }
    for (const entry of [...list(k.patchesStrategicMerge), ...list(k.patches), ...list(k.patchesJson6902)]) {
      const ref = typeof entry === "string" ? entry : asString(asRecord(entry)?.["path"]);
      const target = ref === undefined || ref.includes("\n") ? null : resolveRef(dir, ref);
      if (target !== null) refs.patches.add(target);
    }
  }
  return refs;
}

/** Every kustomization that produces a Rollout becomes a candidate; overlays nobody includes are marked as roots. */
export function kustomizeCandidates(
  set: YamlFileSet,
  notes: string[],
): { candidates: WorkloadCandidate[]; covered: Set<string> } {
  const dirs = kustomizationDirs(set);
  const { included, resources, patches } = kustomizeReferences(set);
  // Patch files hold partial Rollouts and resources are built here: neither is a candidate of its own.
  const covered = new Set([...resources, ...patches]);
  const candidates: WorkloadCandidate[] = [];
  for (const dir of dirs) {
    const ctx: BuildContext = { set, notes, stack: [] };
    for (const rollout of build(ctx, dir)) {
      candidates.push({
        kind: "kustomize",
        root: dir === "" ? "." : dir,
        name: rollout.name,
        ...(rollout.namespace !== undefined ? { namespace: rollout.namespace } : {}),
        isRoot: !included.has(dir),
        containers: rollout.containers,
        description: `kustomization ${dir === "" ? "." : dir}${included.has(dir) ? " (a base)" : ""}`,
      });
    }
  }
  return { candidates, covered };
}
