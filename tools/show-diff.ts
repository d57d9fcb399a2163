import { z } from "zod";
import { countDiffLines } from "../agent/verify/verify-fix.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ShowDiffInput = z.object({});

/** show_diff: the whole change so far, as `git diff` prints it, to review before finishing. */
export function createShowDiffTool(context: ToolContext) {
  return defineTool(context, {
    name: "show_diff",
    description:
      "Shows every change made to the repository so far as a unified diff, to review before finishing.",
    schema: ShowDiffInput,
    run: async () => {
      const diff = await context.workspace.diff();
      if (diff.trim() === "") return "No changes yet.";
      const files = await context.workspace.changedFiles();
      const lines = countDiffLines(diff);
      return {
        text: `${files.length} file(s) changed, ${lines} changed line(s) of at most ${context.workspace.maxDiffLines}: ${files.join(", ")}.`,
        data: [{ source: "diff of the working copy", text: diff }],
      };
    },
  });
}
