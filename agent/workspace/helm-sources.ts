import path from "node:path";
import type { YamlFileSet } from "./read-yaml-files.js";
import { asRecord, asString, flattenInto } from "./workload-model.js";
import type {
  ContainerModel,
  FieldSource,
  HelmImagePart,
  Loose,
  WorkloadCandidate,
} from "./workload-model.js";

/** A template position whose value comes from `.Values`: a scalar, or a whole subtree through toYaml. */
export interface TemplateMapping {
  path: string[];
  valuesPath: string[];
  subtree: boolean;
}

/** A template value that is plain text: editable in place. */
export interface TemplateLiteral {
  path: string[];
  value: string;
  range: [number, number];
}

/** A template value mixing text and several actions, such as `{{ .Values.image.repository }}:{{ .Values.image.tag }}`. */
export interface TemplateComposite {
  path: string[];
  template: string;
}

export interface ScannedTemplate {
  mappings: TemplateMapping[];
  literals: TemplateLiteral[];
  composites: TemplateComposite[];
}

interface Frame {
  indent: number;
  segment: string;
  item: boolean;
  items: number;
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

/** `.Values.a.b`, `$.Values.a.b`, or a `with` context's `.` / `.c` inside the action. */
function valuesRefs(action: string, withPath: string[] | null): string[][] {
  const refs: string[][] = [];
  for (const match of action.matchAll(/\$?\.Values((?:\.[A-Za-z0-9_-]+)*)/g)) {
    refs.push((match[1] ?? "").split(".").filter((s) => s !== ""));
  }
  if (refs.length === 0 && withPath) {
    const dot = /(?:^|[\s(|])\.((?:[A-Za-z_][A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_-]+)*)?(?=[\s)|]|$)/.exec(action);
    if (dot && !/^\s*(include|template)\b/.test(action)) {
      refs.push([...withPath, ...(dot[1] ?? "").split(".").filter((s) => s !== "")]);
    }
  }
  return refs;
}

function unquote(value: string): { text: string; offset: number } {
  const trimmed = value.replace(/\s+#.*$/, "").trimEnd();
  const quoted = /^(["'])(.*)\1$/.exec(trimmed);
  if (quoted) return { text: quoted[2] ?? "", offset: 1 };
  return { text: trimmed, offset: 0 };
}

/**
 * Reads a chart template line by line, tracking the YAML path of each key by indentation. Control
 * actions (if/with/range) are followed only to resolve `with` contexts; everything else is best effort.
 */
export function scanTemplate(text: string): ScannedTemplate {
  const out: ScannedTemplate = { mappings: [], literals: [], composites: [] };
  const stack: Frame[] = [];
  const blocks: { kind: string; withPath: string[] | null }[] = [];
  const currentWith = (): string[] | null => {
    for (let i = blocks.length - 1; i >= 0; i--) {
      const block = blocks[i];
      if (block?.kind === "with") return block.withPath;
    }
    return null;
  };
  let offset = 0;
  for (const rawLine of text.split("\n")) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    if (trimmed.startsWith("{{")) {
      for (const match of trimmed.matchAll(ACTION)) {
        const action = match[1] ?? "";
        const keyword = /^(if|with|range|define|block|else|end)\b/.exec(action)?.[1];
        if (keyword === "end") {
          blocks.pop();
        } else if (keyword === "with") {
          const ref = valuesRefs(action.slice(4), currentWith())[0] ?? null;
          blocks.push({ kind: "with", withPath: ref });
        } else if (keyword === "if" || keyword === "range" || keyword === "define" || keyword === "block") {
          blocks.push({ kind: keyword, withPath: null });
        } else if (keyword === undefined && /\b(toYaml|toJson)\b/.test(action)) {
          const ref = valuesRefs(action, currentWith())[0];
          const parent = [...stack].reverse().find((f) => f.indent < indent) ?? null;
          if (ref && parent) {
            const parentPath = stack.slice(0, stack.indexOf(parent) + 1).map((f) => f.segment);
            out.mappings.push({ path: parentPath, valuesPath: ref, subtree: true });
          }
        }
      }
      continue;
    }
    const dash = /^(-\s+)/.exec(trimmed);
    let keyColumn = indent;
    let rest = trimmed;
    if (dash) {
      while (
        stack.length > 0 &&
        ((stack.at(-1)?.indent ?? -1) > indent || (stack.at(-1)?.item && stack.at(-1)?.indent === indent))
      )
        stack.pop();
      const parent = stack.at(-1);
      const index = parent ? parent.items++ : 0;
      stack.push({ indent, segment: String(index), item: true, items: 0 });
      keyColumn = indent + (dash[1]?.length ?? 2);
      rest = trimmed.slice(dash[1]?.length ?? 2);
    }
    const keyMatch = /^("[^"]*"|'[^']*'|[^\s:{"'][^:]*?)\s*:(?:\s+(.*))?$/.exec(rest);
    if (!keyMatch) continue;
    const key = (keyMatch[1] ?? "").replace(/^["']|["']$/g, "");
    while (stack.length > 0 && (stack.at(-1)?.indent ?? -1) >= keyColumn) stack.pop();
    stack.push({ indent: keyColumn, segment: key, item: false, items: 0 });
    const value = keyMatch[2];
    if (value === undefined || value === "") continue;
    const keyPath = stack.map((f) => f.segment);
    const valueStart = lineStart + line.trimEnd().length - value.length;
    const actions = [...value.matchAll(ACTION)];
    if (actions.length === 0) {
      const { text: literal, offset: quoteOffset } = unquote(value);
      if (/^[|>]/.test(literal)) continue;
      out.literals.push({
        path: keyPath,
        value: literal,
        range: [valueStart + quoteOffset, valueStart + quoteOffset + literal.length],
      });
      continue;
    }
    const stripped = unquote(value).text;
    const only = actions.length === 1 && stripped.trim() === (actions[0]?.[0] ?? "").trim();
    if (only) {
      const action = actions[0]?.[1] ?? "";
      const ref = valuesRefs(action, currentWith())[0];
      if (ref)
        out.mappings.push({ path: keyPath, valuesPath: ref, subtree: /\b(toYaml|toJson)\b/.test(action) });
      continue;
    }
    out.composites.push({ path: keyPath, template: stripped });
  }
  return out;
}

function getIn(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    const record = asRecord(current);
    if (!record || !(segment in record)) return undefined;
    current = record[segment];
  }
  return current;
}

/** The most specific values file that sets `valuesPath`. */
function valuesSource(set: YamlFileSet, valuesFiles: string[], valuesPath: string[]): FieldSource | null {
  for (const file of [...valuesFiles].reverse()) {
    const value = getIn(set.files.get(file)?.values[0], valuesPath);
    if (value !== undefined && value !== null) {
      return { location: { file, docIndex: 0, path: valuesPath }, value, origin: "helm-values" };
    }
  }
  return null;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

/** Splits an image template into literal text and `.Values` references, in order. */
function templateParts(
  template: string,
  withPath: string[] | null,
): { literal: string; ref: string[] | null }[] {
  const parts: { literal: string; ref: string[] | null }[] = [];
  let last = 0;
  for (const match of template.matchAll(ACTION)) {
    const index = match.index ?? 0;
    parts.push({ literal: template.slice(last, index), ref: null });
    parts.push({ literal: "", ref: valuesRefs(match[1] ?? "", withPath)[0] ?? [] });
    last = index + match[0].length;
  }
  parts.push({ literal: template.slice(last), ref: null });
  return parts;
}

/** Renders an image template with the values (the first value of each reference; `default` ignored). */
export function renderImageTemplate(
  template: string,
  resolve: (ref: string[]) => string | undefined,
): string | null {
  let out = "";
  for (const part of templateParts(template, null)) {
    if (part.ref === null) out += part.literal;
    else {
      const value = resolve(part.ref);
      if (value === undefined) return null;
      out += value;
    }
  }
  return out;
}

/** Matches a concrete image against a template: the value each reference must have had. */
export function matchImageTemplate(template: string, image: string): Map<string, string> | null {
  const parts = templateParts(template, null);
  const refs: string[][] = [];
  let pattern = "^";
  for (const part of parts) {
    if (part.ref === null) pattern += part.literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else {
      refs.push(part.ref);
      pattern += "(.*)";
    }
  }
  const match = new RegExp(`${pattern}$`).exec(image);
  if (!match) return null;
  const out = new Map<string, string>();
  refs.forEach((ref, i) => out.set(ref.join("."), match[i + 1] ?? ""));
  return out;
}

const CONTAINERS = ["spec", "template", "spec", "containers"];

function containerModels(
  set: YamlFileSet,
  templateFile: string,
  scanned: ScannedTemplate,
  valuesFiles: string[],
): ContainerModel[] {
  const indexes = new Set<string>();
  const all = [...scanned.mappings, ...scanned.literals, ...scanned.composites];
  for (const entry of all) {
    if (startsWith(entry.path, CONTAINERS) && entry.path[4] !== undefined) indexes.add(entry.path[4]);
  }
  const models: ContainerModel[] = [];
  for (const index of [...indexes].sort()) {
    const base = [...CONTAINERS, index];
    const fields = new Map<string, FieldSource>();
    // Subtrees first (toYaml .Values.resources), then explicit scalars, then literals override nothing they share.
    for (const mapping of scanned.mappings.filter((m) => m.subtree && startsWith(m.path, base))) {
      const prefix = mapping.path.slice(base.length);
      for (const file of valuesFiles) {
        const value = getIn(set.files.get(file)?.values[0], mapping.valuesPath);
        if (value === undefined) continue;
        flattenInto(fields, value, prefix, { file, docIndex: 0, path: mapping.valuesPath }, "helm-values");
      }
    }
    for (const mapping of scanned.mappings.filter((m) => !m.subtree && startsWith(m.path, base))) {
      const source = valuesSource(set, valuesFiles, mapping.valuesPath);
      if (source) fields.set(mapping.path.slice(base.length).join("."), source);
    }
    for (const literal of scanned.literals.filter((l) => startsWith(l.path, base))) {
      fields.set(literal.path.slice(base.length).join("."), {
        location: { file: templateFile, docIndex: 0, path: literal.path, textRange: literal.range },
        value: literal.value,
        origin: "helm-template",
      });
    }
    const nameField = fields.get("name");
    const composite = scanned.composites.find((c) => c.path.join(".") === [...base, "image"].join("."));
    let image: ContainerModel["image"] = null;
    let effectiveImage: string | undefined;
    const imageField = fields.get("image");
    if (composite) {
      const parts: HelmImagePart[] = templateParts(composite.template, null)
        .filter((p) => p.ref !== null && p.ref.length > 0)
        .map((p) => ({ valuesPath: p.ref ?? [], source: valuesSource(set, valuesFiles, p.ref ?? []) }));
      image = { type: "helm", templateFile, template: composite.template, parts };
      effectiveImage =
        renderImageTemplate(composite.template, (ref) =>
          asString(valuesSource(set, valuesFiles, ref)?.value),
        ) ?? undefined;
    } else if (imageField) {
      image = { type: "field", source: imageField };
      effectiveImage = asString(imageField.value);
    }
    models.push({
      // A templated name ({{ .Chart.Name }}) is resolved by the caller against the cluster's containers.
      name: asString(nameField?.value) ?? `#${index}`,
      definitions: [],
      fields,
      image,
      ...(effectiveImage !== undefined ? { effectiveImage } : {}),
    });
  }
  return models;
}

/** Every chart with a template rendering a Rollout, once per values file combination (values.yaml plus one override). */
export function helmCandidates(set: YamlFileSet, notes: string[]): WorkloadCandidate[] {
  const charts = [...set.files.keys()]
    .filter((f) => path.posix.basename(f) === "Chart.yaml")
    .map((f) => path.posix.dirname(f));
  const candidates: WorkloadCandidate[] = [];
  for (const chart of charts) {
    const prefix = chart === "." ? "" : `${chart}/`;
    const templates = [...set.texts.entries()].filter(
      ([file, text]) => file.startsWith(`${prefix}templates/`) && /^kind:\s*Rollout\s*$/m.test(text),
    );
    if (templates.length === 0) continue;
    const defaults = `${prefix}values.yaml`;
    const overrides = [...set.files.keys()].filter(
      (f) =>
        f !== defaults &&
        path.posix.dirname(f) === (chart === "." ? "." : chart) &&
        /values.*\.ya?ml$|\.values\.ya?ml$/i.test(path.posix.basename(f)),
    );
    const combos: { valuesFiles: string[]; namespace?: string; via?: string }[] = [
      ...argoApplications(set, chart),
      { valuesFiles: [defaults] },
      ...overrides.map((o) => ({ valuesFiles: [defaults, o] })),
    ].map((c) => ({ ...c, valuesFiles: c.valuesFiles.filter((f) => set.files.has(f)) }));
    for (const [templateFile, text] of templates) {
      const scanned = scanTemplate(text);
      if (scanned.mappings.length + scanned.literals.length + scanned.composites.length === 0) {
        notes.push(`${templateFile}: no value of the Rollout could be traced to values`);
        continue;
      }
      for (const { valuesFiles, namespace, via } of combos) {
        candidates.push({
          kind: "helm",
          root: chart,
          name: "",
          ...(namespace !== undefined ? { namespace } : {}),
          isRoot: true,
          containers: containerModels(set, templateFile, scanned, valuesFiles),
          description: `Helm chart ${chart} (${templateFile}, values ${valuesFiles.join(" + ") || "none"}${via ? `, ${via}` : ""})`,
          valuesFiles,
        });
      }
    }
  }
  return candidates;
}

/** Argo CD Applications in the repository that deploy `chart`: their value files and destination namespace. */
function argoApplications(
  set: YamlFileSet,
  chart: string,
): { valuesFiles: string[]; namespace?: string; via: string }[] {
  const out: { valuesFiles: string[]; namespace?: string; via: string }[] = [];
  for (const [file, yaml] of set.files) {
    for (const value of yaml.values) {
      const app = value as Loose;
      if (app?.kind !== "Application" || !String(app?.apiVersion ?? "").startsWith("argoproj.io/")) continue;
      const sources: Loose[] = Array.isArray(app.spec?.sources) ? app.spec.sources : [app.spec?.source];
      for (const source of sources) {
        const sourcePath = asString(source?.path)?.replace(/\/$/, "");
        if (sourcePath === undefined || path.posix.normalize(sourcePath) !== chart) continue;
        const files: unknown[] = Array.isArray(source?.helm?.valueFiles)
          ? source.helm.valueFiles
          : ["values.yaml"];
        const valuesFiles = files
          .map((f) => asString(f))
          .filter((f): f is string => f !== undefined && !f.startsWith("$"))
          .map((f) => path.posix.normalize(path.posix.join(chart, f)));
        const namespace = asString(app.spec?.destination?.namespace);
        out.push({
          valuesFiles: valuesFiles.includes(`${chart}/values.yaml`)
            ? valuesFiles
            : [`${chart}/values.yaml`, ...valuesFiles],
          ...(namespace !== undefined ? { namespace } : {}),
          via: `Argo CD Application ${asString(app.metadata?.name) ?? "?"} in ${file}`,
        });
      }
    }
  }
  return out;
}
