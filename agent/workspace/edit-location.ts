import {
  editEmbeddedYaml,
  ensureYamlValue,
  insertYamlEntry,
  setYamlScalar,
  YamlEditError,
} from "./edit-yaml-value.js";
import type { ScalarValue, YamlPath } from "./edit-yaml-value.js";
import type { YamlLocation } from "./workload-model.js";
import type { Workspace } from "./workspace.js";

type TextEdit = (text: string, docIndex: number, path: YamlPath, file: string) => string;

function applyAt(text: string, location: YamlLocation, edit: TextEdit): string {
  if (location.inner) {
    const inner = location.inner;
    return editEmbeddedYaml(
      text,
      location.docIndex,
      location.path,
      (embedded) => edit(embedded, inner.docIndex, inner.path, `${location.file} (inline patch)`),
      location.file,
    );
  }
  return edit(text, location.docIndex, location.path, location.file);
}

function replaceTemplateLiteral(
  text: string,
  location: YamlLocation,
  expected: unknown,
  value: ScalarValue,
): string {
  const [start, end] = location.textRange ?? [0, 0];
  const current = text.slice(start, end);
  if (expected !== undefined && current !== String(expected)) {
    throw new YamlEditError(
      `${location.file}: the template changed under an edit (expected ${String(expected)} at ${start})`,
    );
  }
  const rendered = String(value);
  if (/[\n{}]/.test(rendered))
    throw new YamlEditError(
      `${location.file}: refusing to write ${JSON.stringify(rendered)} into a template`,
    );
  return text.slice(0, start) + rendered + text.slice(end);
}

/** Replaces the scalar at `location` (keeping its quoting); returns the file's new text. */
export async function setValueAt(
  workspace: Workspace,
  location: YamlLocation,
  value: ScalarValue,
  expected?: unknown,
): Promise<void> {
  const text = await workspace.readFile(location.file);
  const updated = location.textRange
    ? replaceTemplateLiteral(text, location, expected, value)
    : applyAt(text, location, (t, d, p, f) => setYamlScalar(t, d, p, value, f));
  if (updated !== text) await workspace.writeFile(location.file, updated);
}

/** Sets the value at `location`, creating missing keys with the siblings' indentation. */
export async function ensureValueAt(
  workspace: Workspace,
  location: YamlLocation,
  value: ScalarValue | Record<string, unknown>,
  options: { after?: string[] } = {},
): Promise<void> {
  if (location.textRange) {
    if (typeof value === "object")
      throw new YamlEditError(`${location.file}: cannot insert a mapping into a template`);
    await setValueAt(workspace, location, value);
    return;
  }
  const text = await workspace.readFile(location.file);
  const updated = applyAt(text, location, (t, d, p, f) =>
    ensureYamlValue(t, d, p, value, { ...options, file: f }),
  );
  if (updated !== text) await workspace.writeFile(location.file, updated);
}

/** Inserts `key: value` into the mapping at `location`. */
export async function insertEntryAt(
  workspace: Workspace,
  location: YamlLocation,
  key: string,
  value: unknown,
  options: { after?: string[] } = {},
): Promise<void> {
  if (location.textRange) throw new YamlEditError(`${location.file}: cannot insert into a Helm template`);
  const text = await workspace.readFile(location.file);
  const updated = applyAt(text, location, (t, d, p, f) =>
    insertYamlEntry(t, d, p, key, value, { ...options, file: f }),
  );
  if (updated !== text) await workspace.writeFile(location.file, updated);
}

/** A location near another one: `relocate(limitsMemory, 2, ["requests", "memory"])` swaps the last two segments. */
export function relocate(
  location: YamlLocation,
  drop: number,
  add: readonly (string | number)[],
): YamlLocation {
  if (location.textRange)
    throw new YamlEditError(`${location.file}: a template literal has no YAML siblings`);
  if (location.inner) {
    const inner = location.inner.path;
    return {
      ...location,
      inner: { docIndex: location.inner.docIndex, path: [...inner.slice(0, inner.length - drop), ...add] },
    };
  }
  return { ...location, path: [...location.path.slice(0, location.path.length - drop), ...add] };
}
