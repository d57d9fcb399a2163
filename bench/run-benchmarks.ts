import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Benchmark, Figure } from "./benchmark.js";
import { cloneBench } from "./clone-bench.js";
import { contextBench } from "./context-bench.js";
import { dryRunBench } from "./dry-run-bench.js";
import { reduceLogsBench } from "./reduce-logs-bench.js";
import { serveBench } from "./serve-bench.js";

const BENCHMARKS: Benchmark[] = [reduceLogsBench, dryRunBench, contextBench, serveBench, cloneBench];

function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    f.value === null ? "—" : `${f.value} ${f.unit}`,
    f.baseline === null ? "—" : `${f.baseline} ${f.unit}`,
    f.ratio === null ? "—" : String(f.ratio),
    f.target,
    f.note ?? "",
  ]);
  const header = ["figure", "value", "baseline", "ratio", "target", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const json = args.has("--json");
  const quick = args.has("--quick");
  const only = process.argv
    .slice(2)
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const scratch = mkdtempSync(path.join(tmpdir(), "medic-bench-"));
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  const figures: Figure[] = [];
  let failed = false;
  try {
    for (const bench of BENCHMARKS) {
      if (only && !only.split(",").includes(bench.id)) continue;
      const started = Date.now();
      try {
        const produced = await bench.run({ quick, scratch, root, log });
        figures.push(...produced);
        if (json) for (const f of produced) process.stdout.write(`${JSON.stringify(f)}\n`);
      } catch (error) {
        failed = true;
        log(`${bench.id} failed: ${(error as Error).message}`);
      }
      log(`${bench.id} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!json) {
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
    process.stdout.write(`${formatTable(figures)}\n\nMachine: ${machine}${quick ? " (quick mode)" : ""}\n`);
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
