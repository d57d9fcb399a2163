import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { packageInfo } from "../package-root.js";

const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;

export class PromptError extends Error {
  override name = "PromptError";
}

function promptsDir(): string {
  return path.join(packageInfo().root, "prompts");
}

function readPrompt(name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new PromptError(`invalid prompt name "${name}"`);
  try {
    return readFileSync(path.join(promptsDir(), `${name}.md`), "utf8");
  } catch {
    throw new PromptError(`prompt "${name}" not found in ${promptsDir()}`);
  }
}

/** The placeholders a prompt expects, in order of first appearance. */
export function promptVariables(name: string): string[] {
  return [...new Set([...readPrompt(name).matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * Renders prompts/<name>.md. A placeholder without a value, or a value without a placeholder, is a
 * programming error caught here rather than a silently different prompt sent to the model.
 */
export function renderPrompt(name: string, vars: Record<string, string>): string {
  const template = readPrompt(name);
  const expected = new Set(promptVariables(name));
  const missing = [...expected].filter((v) => !(v in vars));
  if (missing.length > 0)
    throw new PromptError(`prompt "${name}" is missing values for: ${missing.join(", ")}`);
  const unused = Object.keys(vars).filter((v) => !expected.has(v));
  if (unused.length > 0) throw new PromptError(`prompt "${name}" does not use: ${unused.join(", ")}`);
  // One pass, so a value containing "{{x}}" is never expanded again.
  return template.replace(PLACEHOLDER, (_match, key: string) => vars[key]!);
}

let version: string | null = null;

/** A short hash of every prompt file: recorded in PR metadata so a reviewer knows which prompts produced a change. */
export function promptVersion(): string {
  if (version) return version;
  const hash = createHash("sha256");
  for (const file of readdirSync(promptsDir())
    .filter((f) => f.endsWith(".md"))
    .sort()) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(path.join(promptsDir(), file)));
  }
  version = `p-${hash.digest("hex").slice(0, 10)}`;
  return version;
}
