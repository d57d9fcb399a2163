import type { YamlPath } from "./edit-yaml-value.js";

/** Where a YAML node lives. `inner` is set when the YAML is embedded in a block scalar (an inline kustomize patch). */
export interface YamlLocation {
  file: string;
  docIndex: number;
  path: YamlPath;
  inner?: { docIndex: number; path: YamlPath };
  /** A literal inside a Helm template (not parseable YAML): the value's exact character range. */
  textRange?: [number, number];
}

export type SourceOrigin =
  | "manifest"
  | "kustomize-resource"
  | "kustomize-patch"
  | "kustomize-json6902"
  | "kustomize-images"
  | "helm-values"
  | "helm-template";

export const ORIGIN_LABEL: Record<SourceOrigin, string> = {
  manifest: "manifest",
  "kustomize-resource": "kustomize base resource",
  "kustomize-patch": "kustomize patch",
  "kustomize-json6902": "kustomize JSON 6902 patch",
  "kustomize-images": "kustomize images transformer",
  "helm-values": "Helm values",
  "helm-template": "Helm template",
};

/** The node that sets one value, as the repository holds it. */
export interface FieldSource {
  location: YamlLocation;
  value: unknown;
  origin: SourceOrigin;
}

export interface KustomizeImageEntry {
  /** The `images:` item (a mapping with name/newName/newTag/digest). */
  location: YamlLocation;
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

/** One `{{ .Values.a.b }}` of a Helm image template and the values node that feeds it. */
export interface HelmImagePart {
  valuesPath: string[];
  source: FieldSource | null;
}

export type ImageSource =
  | { type: "field"; source: FieldSource }
  | { type: "kustomize-images"; entry: KustomizeImageEntry; input: string }
  | {
      type: "helm";
      templateFile: string;
      /** The template text of the image value, e.g. `{{ .Values.image.repository }}:{{ .Values.image.tag }}`. */
      template: string;
      parts: HelmImagePart[];
    };

export interface ContainerModel {
  name: string;
  /** Mappings that define this container, least specific first (base, then patches). */
  definitions: { location: YamlLocation; origin: SourceOrigin }[];
  /** Dotted container field path (`resources.limits.memory`) → the most specific source setting it. */
  fields: Map<string, FieldSource>;
  image: ImageSource | null;
  /** The image after every transformer, as the cluster should show it. */
  effectiveImage?: string;
}

/** One way the repository can produce the Rollout: a manifest, a kustomization, or a chart with values. */
export interface WorkloadCandidate {
  kind: "manifest" | "kustomize" | "helm";
  /** The manifest file, kustomization folder or chart folder. */
  root: string;
  name: string;
  namespace?: string;
  /** Nobody includes it (a kustomize overlay rather than a base). */
  isRoot: boolean;
  containers: ContainerModel[];
  description: string;
  /** Helm: the values files in order of precedence (last wins). */
  valuesFiles?: string[];
}

export function keyOf(path: readonly (string | number)[]): string {
  return path.join(".");
}

/** Records every leaf of `value` (arrays are leaves) with the YAML path that holds it. */
export function flattenInto(
  fields: Map<string, FieldSource>,
  value: unknown,
  prefix: readonly string[],
  location: YamlLocation,
  origin: SourceOrigin,
): void {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === "$patch" || key.startsWith("$setElementOrder") || key.startsWith("$retainKeys")) continue;
      flattenInto(fields, child, [...prefix, key], withPath(location, [key]), origin);
    }
    return;
  }
  const key = keyOf(prefix);
  // A strategic-merge `key: null` deletes the key.
  if (value === null) {
    deletePrefix(fields, prefix);
    return;
  }
  deletePrefix(fields, prefix);
  fields.set(key, { location, value, origin });
}

export function deletePrefix(fields: Map<string, FieldSource>, prefix: readonly string[]): void {
  const key = keyOf(prefix);
  for (const existing of [...fields.keys()]) {
    if (existing === key || existing.startsWith(`${key}.`) || key.startsWith(`${existing}.`))
      fields.delete(existing);
  }
}

/** Extends the path of a location: inside the embedded document when there is one. */
export function withPath(location: YamlLocation, more: readonly (string | number)[]): YamlLocation {
  if (location.inner) {
    return {
      ...location,
      inner: { docIndex: location.inner.docIndex, path: [...location.inner.path, ...more] },
    };
  }
  return { ...location, path: [...location.path, ...more] };
}

export function describeLocation(location: YamlLocation): string {
  const path = location.inner ? location.inner.path : location.path;
  return `${location.file}${location.inner ? " (inline patch)" : ""}: ${path.join(".")}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

export function asString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export const CONTAINERS_PATH = ["spec", "template", "spec", "containers"] as const;

/** One container mapping found at `location`; null when it has no name. */
export function containerFromRecord(
  value: unknown,
  location: YamlLocation,
  origin: SourceOrigin,
): ContainerModel | null {
  const record = asRecord(value);
  const name = asString(record?.["name"]);
  if (!record || !name) return null;
  const fields = new Map<string, FieldSource>();
  flattenInto(fields, record, [], location, origin);
  const image = fields.get("image");
  return {
    name,
    definitions: [{ location, origin }],
    fields,
    image: image ? { type: "field", source: image } : null,
    effectiveImage: asString(image?.value),
  };
}

/** Builds container models from a Rollout (or patch) object found at `location`. */
export function containersOf(
  object: unknown,
  location: YamlLocation,
  origin: SourceOrigin,
): ContainerModel[] {
  const list = (object as Loose)?.spec?.template?.spec?.containers;
  if (!Array.isArray(list)) return [];
  return list
    .map((container: unknown, index: number) =>
      containerFromRecord(container, withPath(location, [...CONTAINERS_PATH, index]), origin),
    )
    .filter((c): c is ContainerModel => c !== null);
}
