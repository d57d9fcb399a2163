import { YamlLoadError, loadYamlValues } from "../yaml/load-yaml-values.js";
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, Scalar, stringify } from "yaml";
import type { Document, Node as YamlNode, ParsedNode, YAMLMap } from "yaml";
import { WorkspaceError } from "../errors.js";

export type YamlPath = readonly (string | number)[];
export type ScalarValue = string | number | boolean;

/** Aliases are never expanded past this: a repository file is untrusted input (billion laughs). */
export const MAX_ALIAS_COUNT = 100;

export class YamlEditError extends WorkspaceError {
  override name = "YamlEditError";
}

/** Every document of a YAML stream with source ranges; parse errors throw with the first message. */
export function parseYamlDocuments(text: string, file = "YAML"): Document.Parsed[] {
  const docs = parseAllDocuments(text, { keepSourceTokens: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new YamlEditError(`${file}: invalid YAML: ${error.message.split("\n")[0]}`);
  }
  return list as Document.Parsed[];
}

/** Plain JavaScript values of every document, refusing alias bombs and invalid YAML with a clear reason. */
export function readYamlValues(text: string, file = "YAML"): unknown[] {
  try {
    return loadYamlValues(text);
  } catch (error) {
    if (error instanceof YamlLoadError) {
      const where = error.line ? `:${error.line}` : "";
      throw new YamlEditError(
        error.message.startsWith("invalid YAML")
          ? `${file}${where}: ${error.message}`
          : `${file}: refused: ${error.message} (YAML alias expansion is capped)`,
      );
    }
    throw error;
  }
}

function documentAt(docs: Document.Parsed[], docIndex: number, file: string): Document.Parsed {
  const doc = docs[docIndex];
  if (!doc) throw new YamlEditError(`${file}: has no YAML document #${docIndex + 1}`);
  return doc;
}

function describe(path: YamlPath): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("") || "(root)";
}

function nodeAt(doc: Document.Parsed, path: YamlPath): unknown {
  if (path.length === 0) return doc.contents;
  return doc.getIn(path as (string | number)[], true);
}

/** True when `raw` written as a plain scalar reads back as exactly that string (not a number, bool, null…). */
function plainReadsBackAsString(raw: string): boolean {
  if (raw === "" || raw !== raw.trim() || /[\n\r#]/.test(raw) || raw.includes(": ")) return false;
  try {
    const doc = parseDocument(`k: ${raw}\n`);
    if (doc.errors.length > 0) return false;
    const value = (doc.get("k", true) as Scalar | undefined)?.value;
    return typeof value === "string" && value === raw;
  } catch {
    return false;
  }
}

/** The source text of `value` in the style the old scalar used, falling back to quotes where plain would change its type. */
export function renderScalarLike(old: Scalar | null, value: ScalarValue): string {
  if (typeof value !== "string") return String(value);
  const style = old?.type ?? Scalar.PLAIN;
  if (style === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (style === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  return plainReadsBackAsString(value) ? value : JSON.stringify(value);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/**
 * Replaces one scalar at its source range. Only the characters of the value change: the key, its comment,
 * the indentation and every other line stay byte for byte as they were.
 */
export function setYamlScalar(
  text: string,
  docIndex: number,
  path: YamlPath,
  value: ScalarValue,
  file = "YAML",
): string {
  const doc = documentAt(parseYamlDocuments(text, file), docIndex, file);
  const node = nodeAt(doc, path);
  if (isAlias(node))
    throw new YamlEditError(`${file}: ${describe(path)} is a YAML alias: edit its anchor instead`);
  if (!isScalar(node) || !node.range)
    throw new YamlEditError(`${file}: ${describe(path)} is not a scalar value`);
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    throw new YamlEditError(`${file}: ${describe(path)} is a block scalar: not edited automatically`);
  }
  const [start, end] = node.range;
  if (node.value === value) return text;
  return text.slice(0, start) + renderScalarLike(node, value) + text.slice(end);
}

function indentUnit(text: string): number {
  // The smallest positive step between consecutive mapping-key indentations is the file's unit.
  let unit = 0;
  let previous = -1;
  for (const line of text.split("\n")) {
    const match = /^( *)(?:- +)?[^\s#-][^:]*:(?:\s|$)/.exec(line);
    if (!match) continue;
    const indent = match[1]?.length ?? 0;
    if (previous >= 0 && indent > previous) {
      const step = indent - previous;
      if (unit === 0 || step < unit) unit = step;
    }
    previous = indent;
  }
  return unit > 0 && unit <= 8 ? unit : 2;
}

function sequencesIndented(text: string): boolean {
  // `key:\n  - item` (indented) versus `key:\n- item` (flush): follow whatever the file does first.
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    const key = /^( *)[^\s#-][^:]*:\s*$/.exec(lines[i] ?? "");
    const item = /^( *)- /.exec(lines[i + 1] ?? "");
    if (key && item) return (item[1]?.length ?? 0) > (key[1]?.length ?? 0);
  }
  return true;
}

/** Renders `{ key: value }` as block YAML lines indented to `column`, matching the file's indentation habits. */
export function renderEntry(text: string, key: string, value: unknown, column: number): string {
  const rendered = stringify(
    { [key]: value },
    { indent: indentUnit(text), indentSeq: sequencesIndented(text), lineWidth: 0 },
  );
  const pad = " ".repeat(column);
  // A file with Windows line endings keeps them: a mixed file would show every line as changed in some tools.
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  return rendered
    .split("\n")
    .filter((line, index, all) => !(index === all.length - 1 && line === ""))
    .map((line) => (line === "" ? "" : pad + line))
    .map((line) => `${line}${eol}`)
    .join("");
}

function endOfEntry(text: string, entryValue: YamlNode | null | undefined, key: YamlNode): number {
  const range = (entryValue as ParsedNode | null | undefined)?.range ?? (key as ParsedNode).range;
  if (!range) return text.length;
  let pos = range[1];
  if (pos > 0 && text[pos - 1] === "\n") return pos;
  const newline = text.indexOf("\n", pos);
  pos = newline === -1 ? text.length : newline + 1;
  return pos;
}

function keyName(node: unknown): string | null {
  return isScalar(node) ? String(node.value) : null;
}

/**
 * Inserts `key: value` into the block mapping at `mapPath`, after `after` (a sibling key) when given and
 * present, otherwise after the last entry, using the siblings' indentation. Fails when the key exists.
 */
export function insertYamlEntry(
  text: string,
  docIndex: number,
  mapPath: YamlPath,
  key: string,
  value: unknown,
  options: { after?: string[]; file?: string } = {},
): string {
  const file = options.file ?? "YAML";
  const doc = documentAt(parseYamlDocuments(text, file), docIndex, file);
  const map = nodeAt(doc, mapPath);
  if (!isMap(map)) throw new YamlEditError(`${file}: ${describe(mapPath)} is not a mapping`);
  if (map.flow)
    throw new YamlEditError(
      `${file}: ${describe(mapPath)} is a flow mapping ({…}): not edited automatically`,
    );
  if (map.items.some((item) => keyName(item.key) === key)) {
    throw new YamlEditError(`${file}: ${describe(mapPath)}.${key} exists already`);
  }
  const first = map.items[0];
  if (!first || !isScalar(first.key) || !first.key.range) {
    throw new YamlEditError(`${file}: ${describe(mapPath)} has no entry to align a new key with`);
  }
  const column = columnOf(text, first.key.range[0]);
  let anchor = map.items[map.items.length - 1] ?? first;
  for (const name of options.after ?? []) {
    const found = (map as YAMLMap).items.find((item) => keyName(item.key) === name);
    if (found) {
      anchor = found;
      break;
    }
  }
  const position = endOfEntry(text, anchor.value as YamlNode | null, anchor.key as YamlNode);
  const prefix =
    position === text.length && !text.endsWith("\n") ? (text.includes("\r\n") ? "\r\n" : "\n") : "";
  return text.slice(0, position) + prefix + renderEntry(text, key, value, column) + text.slice(position);
}

/**
 * Sets the value at `path`, creating missing mappings on the way: an existing scalar is replaced in place,
 * a missing key is inserted under the deepest mapping that exists. Sequence items are never created.
 */
export function ensureYamlValue(
  text: string,
  docIndex: number,
  path: YamlPath,
  value: ScalarValue | Record<string, unknown>,
  options: { after?: string[]; file?: string } = {},
): string {
  const file = options.file ?? "YAML";
  const doc = documentAt(parseYamlDocuments(text, file), docIndex, file);
  const existing = nodeAt(doc, path);
  if (existing !== undefined && existing !== null && !(isScalar(existing) && existing.value === null)) {
    if (typeof value === "object") throw new YamlEditError(`${file}: ${describe(path)} exists already`);
    return setYamlScalar(text, docIndex, path, value, file);
  }
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parentPath = path.slice(0, depth);
    const parent = nodeAt(doc, parentPath);
    if (parent === undefined || parent === null) continue;
    if (isSeq(parent))
      throw new YamlEditError(`${file}: cannot create an item in the sequence at ${describe(parentPath)}`);
    if (!isMap(parent)) throw new YamlEditError(`${file}: ${describe(parentPath)} is not a mapping`);
    const key = path[depth];
    if (typeof key !== "string")
      throw new YamlEditError(`${file}: ${describe(path)} needs a sequence item that does not exist`);
    let nested: unknown = value;
    for (const segment of [...path.slice(depth + 1)].reverse()) {
      if (typeof segment !== "string")
        throw new YamlEditError(`${file}: cannot create sequence items at ${describe(path)}`);
      nested = { [segment]: nested };
    }
    const present = parent.items.find((item) => keyName(item.key) === key);
    if (present) {
      // `key:` with a null value: replace the empty value by a nested block.
      return replaceNullEntry(text, present.key as YamlNode, key, nested, file, path);
    }
    return insertYamlEntry(text, docIndex, parentPath, key, nested, { ...options, file });
  }
  throw new YamlEditError(`${file}: document #${docIndex + 1} has no mapping to hold ${describe(path)}`);
}

function replaceNullEntry(
  text: string,
  keyNode: YamlNode,
  key: string,
  nested: unknown,
  file: string,
  path: YamlPath,
): string {
  const range = (keyNode as ParsedNode).range;
  if (!range) throw new YamlEditError(`${file}: ${describe(path)} has no source position`);
  const start = lineStart(text, range[0]);
  const line = text.slice(start, text.indexOf("\n", start) === -1 ? text.length : text.indexOf("\n", start));
  if (!/^\s*(?:- +)?[^:]+:\s*(?:#.*)?$/.test(line) || line.trimStart().startsWith("-")) {
    throw new YamlEditError(`${file}: ${describe(path)} is empty in a form not edited automatically`);
  }
  const column = columnOf(text, range[0]);
  const end = start + line.length + (text[start + line.length] === "\n" ? 1 : 0);
  return text.slice(0, start) + renderEntry(text, key, nested, column) + text.slice(end);
}

/**
 * Edits YAML embedded in a block scalar (a kustomization's inline `patch: |-`): the inner text is edited
 * with the functions above and written back re-indented line by line, so untouched lines stay identical.
 */
export function editEmbeddedYaml(
  text: string,
  docIndex: number,
  path: YamlPath,
  edit: (inner: string) => string,
  file = "YAML",
): string {
  const doc = documentAt(parseYamlDocuments(text, file), docIndex, file);
  const node = nodeAt(doc, path);
  if (
    !isScalar(node) ||
    node.type !== Scalar.BLOCK_LITERAL ||
    !node.srcToken ||
    node.srcToken.type !== "block-scalar"
  ) {
    throw new YamlEditError(`${file}: ${describe(path)} is not a literal block scalar (|) holding YAML`);
  }
  const token = node.srcToken;
  const newline = token.props.find((p) => p.type === "newline");
  if (!newline || !("source" in newline))
    throw new YamlEditError(`${file}: ${describe(path)} has an unexpected block header`);
  const contentStart = newline.offset + newline.source.length;
  const raw = text.slice(contentStart, contentStart + token.source.length);
  if (raw !== token.source)
    throw new YamlEditError(`${file}: ${describe(path)}: source positions do not line up`);
  const lines = raw.split("\n");
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length),
  );
  if (!Number.isFinite(indent) || lines.some((l) => l.trim() !== "" && /^\s*\t/.test(l))) {
    throw new YamlEditError(`${file}: ${describe(path)}: empty or tab-indented block`);
  }
  const inner = lines.map((l) => (l.trim() === "" ? "" : l.slice(indent))).join("\n");
  const updated = edit(inner);
  if (updated === inner) return text;
  const pad = " ".repeat(indent);
  const innerLines = inner.split("\n");
  const rewritten = updated
    .split("\n")
    .map((line, index) => {
      // Untouched lines keep their exact original bytes (including odd whitespace on blank lines).
      if (innerLines[index] === line && lines[index] !== undefined && index < lines.length) {
        const originalInner = lines[index]?.trim() === "" ? "" : (lines[index] ?? "").slice(indent);
        if (originalInner === line) return lines[index] ?? "";
      }
      return line === "" ? "" : pad + line;
    })
    .join("\n");
  return text.slice(0, contentStart) + rewritten + text.slice(contentStart + raw.length);
}
