import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | null = null;

/**
 * The installed package's root folder (where prompts/ and package.json live), found by walking up from
 * this module: the same code runs from `agent/` under tests and from `dist/agent/` when installed.
 */
export function packageInfo(): { root: string; version: string } {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (parsed.name === "rollout-medic") {
        cached = { root: dir, version: parsed.version ?? "0.0.0" };
        return cached;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("rollout-medic's package.json was not found above its modules");
    dir = parent;
  }
}
