import { rmSync } from "node:fs";
import path from "node:path";
import type { Benchmark } from "./benchmark.js";
import { figure, median } from "./benchmark.js";
import { generateHistoryRepo } from "./generate-history-repo.js";
import { measureCommand } from "./measure-child.js";

/** clone.partial_seconds: the partial, shallow clone rollout-medic makes, against a full clone of the same repository. */
export const cloneBench: Benchmark = {
  id: "clone",
  async run(ctx) {
    const commits = 20_000;
    const origin = path.join(ctx.scratch, "history.git");
    ctx.log(`generating a repository with ${commits} commits`);
    await generateHistoryRepo(origin, commits);
    const url = `file://${origin}`;
    const runs = ctx.quick ? 1 : 3;
    const partial: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = path.join(ctx.scratch, `partial-${i}`);
      const b = path.join(ctx.scratch, `full-${i}`);
      const p = await measureCommand(
        "git",
        ["clone", "-q", "--filter=blob:none", "--depth", "1", "--no-tags", "--single-branch", url, a],
        ctx.scratch,
      );
      const f = await measureCommand(
        "git",
        ["clone", "-q", "--no-tags", "--single-branch", url, b],
        ctx.scratch,
      );
      if (p.code !== 0 || f.code !== 0) throw new Error("git clone failed");
      partial.push(p.wallMs / 1000);
      full.push(f.wallMs / 1000);
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
    return [
      figure(
        "clone.partial_seconds",
        median(partial),
        "s",
        "ratio ≤ 0.2",
        median(full),
        `${commits} commits over file://, median of ${runs}`,
      ),
    ];
  },
};
