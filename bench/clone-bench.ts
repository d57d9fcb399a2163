import path from "node:path";
import { performance } from "node:perf_hooks";
import { cloneRepository } from "../agent/workspace/clone-repository.js";
import type { CloneRepositoryOptions } from "../agent/workspace/clone-repository.js";
import type { Benchmark } from "./benchmark.js";
import { figure, median } from "./benchmark.js";
import { generateHistoryRepo } from "./generate-history-repo.js";

/**
 * clone.partial_seconds: rollout-medic's own clone (cloneRepository: partial and shallow by default)
 * against a full clone made by the same function, of the same generated repository.
 */
export const cloneBench: Benchmark = {
  id: "clone",
  async run(ctx) {
    const commits = 20_000;
    const origin = path.join(ctx.scratch, "history.git");
    ctx.log(`generating a repository with ${commits} commits`);
    await generateHistoryRepo(origin, commits);
    const url = `file://${origin}`;
    const runs = ctx.quick ? 1 : 3;
    const timed = async (mode: CloneRepositoryOptions["mode"]): Promise<number> => {
      const started = performance.now();
      const workspace = await cloneRepository({ url, mode, protocols: ["file"], tempParent: ctx.scratch });
      const seconds = (performance.now() - started) / 1000;
      await workspace.dispose();
      return seconds;
    };
    const partial: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < runs; i++) {
      partial.push(await timed("partial"));
      full.push(await timed("full"));
    }
    return [
      figure(
        "clone.partial_seconds",
        median(partial),
        "s",
        "ratio ≤ 0.2",
        median(full),
        `${commits} commits over file://, cloneRepository partial (blob:none, depth 1) vs full, median of ${runs}`,
      ),
    ];
  },
};
