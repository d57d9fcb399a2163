import { CORE_SCHEMA, YAMLException, loadAll } from "js-yaml";

/** More nodes than any manifest or recorded object holds once aliases are expanded. */
export const MAX_EXPANDED_NODES = 2_000_000;

export class YamlLoadError extends Error {
  override name = "YamlLoadError";
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Plain values of every document, for reading (not editing) YAML: js-yaml is several times faster than the
 * editing parser. The core schema keeps timestamps as strings, as the Kubernetes API returns them. Aliases
 * resolve to shared references, so counting nodes as if expanded refuses an alias bomb before any caller
 * walks (and so expands) the tree.
 */
export function loadYamlValues(text: string): unknown[] {
  let documents: unknown[];
  try {
    documents = loadAll(text, undefined, { schema: CORE_SCHEMA });
  } catch (cause) {
    if (cause instanceof YAMLException) {
      throw new YamlLoadError(`invalid YAML: ${cause.reason}`, cause.mark ? cause.mark.line + 1 : undefined);
    }
    throw cause;
  }
  for (const value of documents) assertBoundedExpansion(value);
  return documents;
}

function assertBoundedExpansion(value: unknown): void {
  let nodes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next !== "object" || next === null) continue;
    const children = Array.isArray(next) ? next : Object.values(next);
    nodes += children.length;
    if (nodes > MAX_EXPANDED_NODES) {
      throw new YamlLoadError(
        `expands to more than ${MAX_EXPANDED_NODES} nodes through aliases (an alias bomb?)`,
      );
    }
    for (const child of children) stack.push(child);
  }
}
