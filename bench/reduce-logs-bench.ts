import { statSync } from "node:fs";
import path from "node:path";
import type { Benchmark } from "./benchmark.js";
import { figure } from "./benchmark.js";
import { generateCanaryLog } from "./generate-canary-log.js";
import { measureCommand, measureNode } from "./measure-child.js";

/** reduce.seconds_100mb, reduce.peak_rss_mb, reduce.planted_recall: the reducer in its own process against grep. */
export const reduceLogsBench: Benchmark = {
  id: "reduce",
  async run(ctx) {
    const megabytes = 100;
    const file = path.join(ctx.scratch, "canary-100mb.log");
    ctx.log(`generating ${megabytes} MB of canary logs`);
    const planted = await generateCanaryLog(file, megabytes);
    const size = statSync(file).size;

    const grep = await measureCommand(
      "grep",
      ["-cE", "ERROR|FATAL|panic|Exception|Traceback", file],
      ctx.scratch,
    );
    const reduce = await measureNode([path.join(ctx.root, "dist/bench/reduce-child.js"), file], {
      cwd: ctx.root,
    });
    if (reduce.code !== 0) throw new Error(`reduce child failed: ${reduce.stderr.slice(-500)}`);
    const result = JSON.parse(reduce.stdout) as { seconds: number; text: string };
    const kept = planted.filter((line) => result.text.includes(line.slice(line.indexOf("ERROR")))).length;
    const note = `${(size / 1024 / 1024).toFixed(0)} MB file; grep -cE found ${grep.stdout.trim()} matching lines`;
    return [
      figure("reduce.seconds_100mb", reduce.wallMs / 1000, "s", "ratio ≤ 10", grep.wallMs / 1000, note),
      figure("reduce.peak_rss_mb", reduce.peakRssMb, "MiB", "≤ 200"),
      figure(
        "reduce.planted_recall",
        kept / planted.length,
        "share",
        "1.0",
        null,
        `${kept} of ${planted.length} planted error lines kept`,
      ),
    ];
  },
};
