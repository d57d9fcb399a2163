// Bundles the compiled CLI into a few ES modules: loading a handful of files instead of several hundred
// cuts the start-up the dry run pays for. Commands and heavy libraries stay in split chunks that load
// only when their dynamic import runs.
import { renameSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry content hashes: build into a fresh folder and swap it in, so stale chunks never pile
// up and a concurrent run never sees a half-written bundle.
const staging = `dist/bundle.${process.pid}`;
await build({
  entryPoints: { "rollout-medic": "dist/agent/cli/main.js" },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies call require() for Node's own modules: give the bundle a real one.
  banner: {
    js: 'import { createRequire as __medicCreateRequire } from "node:module"; const require = __medicCreateRequire(import.meta.url);',
  },
});
rmSync("dist/bundle", { recursive: true, force: true });
renameSync(staging, "dist/bundle");
