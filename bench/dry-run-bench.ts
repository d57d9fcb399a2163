import path from "node:path";
import type { Benchmark } from "./benchmark.js";
import { figure, median } from "./benchmark.js";
import { measureNode } from "./measure-child.js";

/** dryrun.wall_ms and dryrun.peak_rss_mb: the built command as a user runs it, against `node -e 0`. */
export const dryRunBench: Benchmark = {
  id: "dryrun",
  async run(ctx) {
    const runs = ctx.quick ? 5 : 15;
    // The bundle the package.json bin points at: what users run.
    const cli = path.join(ctx.root, "dist/bundle/rollout-medic.mjs");
    const scenario = path.join(ctx.root, "fixtures/oom-killed");
    const walls: number[] = [];
    const rss: number[] = [];
    const baseline: number[] = [];
    let hadFix = false;
    // One warm-up run of each so that the file cache is equally warm for both.
    await measureNode(["-e", "0"], { cwd: ctx.root });
    await measureNode([cli, "dry-run", scenario, "--json"], { cwd: ctx.root });
    for (let i = 0; i < runs; i++) {
      baseline.push((await measureNode(["-e", "0"], { cwd: ctx.root })).wallMs);
      const m = await measureNode([cli, "dry-run", scenario, "--json"], { cwd: ctx.root });
      if (m.code !== 0) throw new Error(`dry-run failed (${m.code}): ${m.stderr.slice(-500)}`);
      hadFix = (JSON.parse(m.stdout) as { fix: unknown }).fix !== null;
      walls.push(m.wallMs);
      if (m.peakRssMb !== null) rss.push(m.peakRssMb);
    }
    const note = `median of ${runs} runs on fixtures/oom-killed${hadFix ? ", with its fix" : ""}`;
    return [
      figure("dryrun.wall_ms", median(walls), "ms", "ratio ≤ 8", median(baseline), note),
      figure(
        "dryrun.peak_rss_mb",
        rss.length ? Math.max(...rss) : null,
        "MiB",
        "≤ 150",
        null,
        "largest of the runs",
      ),
    ];
  },
};
