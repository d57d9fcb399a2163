import { readYamlValues } from "./edit-yaml-value.js";
import type { Workspace } from "./workspace.js";

export interface YamlFile {
  file: string;
  text: string;
  /** Plain values per document (null for an empty document), aliases capped. */
  values: unknown[];
}

/** The repository's parseable YAML, read once; files that could not be read are listed with the reason. */
export interface YamlFileSet {
  files: Map<string, YamlFile>;
  /** Text of every YAML-named file that was readable, parseable or not (Helm templates). */
  texts: Map<string, string>;
  skipped: { file: string; reason: string }[];
}

export const YAML_GLOBS = ["**/*.yaml", "**/*.yml", "**/Kustomization"];

/** More YAML than any deploy folder holds: past it the repository is read no further. */
export const MAX_YAML_FILES = 5000;

/** Parses one file's text; null (with the reason) when it is not YAML a fix could touch. */
export function parseYamlFile(file: string, text: string): { yaml: YamlFile } | { reason: string } {
  try {
    // Reading is all locating needs: the editing parser runs later, on the one file that changes.
    return { yaml: { file, text, values: readYamlValues(text, file) } };
  } catch (error) {
    return { reason: (error as Error).message };
  }
}

export async function readYamlFiles(workspace: Workspace): Promise<YamlFileSet> {
  const set: YamlFileSet = { files: new Map(), texts: new Map(), skipped: [] };
  const files = await workspace.listFiles(YAML_GLOBS);
  if (files.length > MAX_YAML_FILES) {
    set.skipped.push({
      file: files[MAX_YAML_FILES] ?? "",
      reason: `only the first ${MAX_YAML_FILES} YAML files are read`,
    });
  }
  for (const file of files.slice(0, MAX_YAML_FILES)) {
    let text: string;
    try {
      text = await workspace.readFile(file);
    } catch (error) {
      set.skipped.push({ file, reason: (error as Error).message });
      continue;
    }
    // A link inside the repository would make its target a second, uneditable candidate: the target is read instead.
    if ((await workspace.fileKind?.(file)) === "symlink") {
      set.skipped.push({ file, reason: "symbolic link inside the repository: its target is read instead" });
      continue;
    }
    set.texts.set(file, text);
    // Helm templates are not YAML until rendered: they are read as text by the Helm locator.
    if (/(^|\/)templates\//.test(file) && text.includes("{{")) continue;
    const parsed = parseYamlFile(file, text);
    if ("yaml" in parsed) set.files.set(file, parsed.yaml);
    else set.skipped.push({ file, reason: parsed.reason });
  }
  return set;
}
