import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Every variable the configuration schema reads, from its one source. */
function configuredVariables(): string[] {
  const source = readFileSync(path.join(ROOT, "agent/config.ts"), "utf8");
  const schema = source.slice(
    source.indexOf("const Env = z.object({"),
    source.indexOf("});", source.indexOf("const Env")),
  );
  return [...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

/** The README abbreviates families as `ROLLOUT_MEDIC_X`, `_Y`: expand `_Y` with the prefix of the cell's first name. */
function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const line of readme.split("\n").filter((l) => l.startsWith("| `"))) {
    const cell = line.split("|")[1] ?? "";
    const full = [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
    for (const name of full) names.add(name);
    const first = full[0];
    if (!first) continue;
    for (const short of cell.matchAll(/`(_[A-Z0-9_]+)`/g)) {
      const suffix = short[1]!;
      // ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS, `_MAX_TOOL_CALLS`: try every prefix of the first name.
      const parts = first.split("_");
      for (let i = 1; i < parts.length; i++) names.add(`${parts.slice(0, i).join("_")}${suffix}`);
    }
  }
  return names;
}

describe("README", () => {
  it("documents every environment variable the configuration reads", () => {
    const documented = documentedVariables();
    expect(configuredVariables().filter((name) => !documented.has(name))).toEqual([]);
  });

  it("keeps the quick start to the two commands that work on a fresh machine", () => {
    const quickStart = readme.slice(
      readme.indexOf("## Quick start"),
      readme.indexOf("\n## ", readme.indexOf("## Quick start") + 5),
    );
    const block = /```bash\n([\s\S]*?)```/.exec(quickStart)?.[1] ?? "";
    expect(block.trim().split("\n")).toEqual(["npm ci && npm run demo", "npm test"]);
    const scripts = (
      JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts["demo"]).toMatch(/dry-run fixtures\/oom-killed/);
  });

  it("links only documents that exist", () => {
    const links = [...readme.matchAll(/\]\(((?:docs|fixtures)\/[^)#]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(() => readFileSync(path.join(ROOT, link)), link).not.toThrow();
  });
});
