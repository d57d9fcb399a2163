import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface ChildMeasure {
  wallMs: number;
  /** The child's own peak resident set, in MiB, as its kernel accounting reports it. */
  peakRssMb: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

let preload: string | null = null;

/**
 * A preload module that records the child's own peak RSS at exit, so the figure is the child's,
 * not the harness's (the harness has generated 100 MB of logs by then).
 */
function rssPreload(): string {
  if (preload) return preload;
  const dir = mkdtempSync(path.join(tmpdir(), "medic-bench-"));
  preload = path.join(dir, "report-rss.mjs");
  writeFileSync(
    preload,
    `import { writeFileSync } from "node:fs";
const out = process.env.MEDIC_BENCH_RSS_FILE;
process.on("exit", () => { if (out) writeFileSync(out, String(process.resourceUsage().maxRSS)); });
`,
  );
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return preload;
}

export async function measureNode(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<ChildMeasure> {
  const rssFile = path.join(
    path.dirname(rssPreload()),
    `rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  );
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["--import", rssPreload(), ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      LOG_LEVEL: "warn",
      ...options.env,
      MEDIC_BENCH_RSS_FILE: rssFile,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let peakRssMb: number | null = null;
  try {
    peakRssMb = Number(readFileSync(rssFile, "utf8")) / 1024;
    rmSync(rssFile, { force: true });
  } catch {
    peakRssMb = null;
  }
  return { wallMs, peakRssMb, code, stdout, stderr };
}

export async function measureCommand(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ wallMs: number; code: number | null; stdout: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { wallMs: Number(process.hrtime.bigint() - started) / 1e6, code, stdout };
}
