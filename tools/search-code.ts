import { z } from "zod";
import { compilePattern } from "./incident-scope.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const SearchCodeInput = z.object({
  pattern: z
    .string()
    .min(1)
    .describe("JavaScript regular expression matched against each line, e.g. applyPromo|Promos\\["),
  globs: z
    .array(z.string().min(1))
    .max(20)
    .optional()
    .describe('Only files matching these globs, e.g. ["**/*.go"].'),
  context: z
    .number()
    .int()
    .min(0)
    .max(5)
    .optional()
    .describe("Lines of context around each match; default 2."),
  ignoreCase: z.boolean().optional(),
});

const MAX_MATCHES = 40;

/** search_code: a grep over the repository's files, with line numbers and context. */
export function createSearchCodeTool(context: ToolContext) {
  return defineTool(context, {
    name: "search_code",
    description:
      "Searches the repository's text files for a regular expression and shows each match as path:line with surrounding lines.",
    schema: SearchCodeInput,
    run: async ({ pattern, globs, context: around = 2, ignoreCase }) => {
      const regex = compilePattern(pattern, "pattern");
      const matcher = ignoreCase ? new RegExp(regex.source, "i") : regex;
      const files = await context.workspace.listFiles(globs && globs.length > 0 ? globs : undefined);
      const out: string[] = [];
      let matches = 0;
      let filesWithMatches = 0;
      let skipped = 0;
      for (const file of files) {
        let text: string;
        try {
          text = await context.workspace.readFile(file);
        } catch {
          // Binary, too large or a link leaving the repository: not code to search.
          skipped += 1;
          continue;
        }
        const lines = text.split("\n");
        const hits = lines.flatMap((line, index) => (matcher.test(line) ? [index] : []));
        const isHit = new Set(hits);
        if (hits.length === 0) continue;
        filesWithMatches += 1;
        let shownUntil = -1;
        for (const hit of hits) {
          matches += 1;
          if (matches > MAX_MATCHES) break;
          const from = Math.max(0, hit - around, shownUntil + 1);
          const to = Math.min(lines.length - 1, hit + around);
          if (from > shownUntil + 1 && shownUntil >= 0) out.push("--");
          for (let i = from; i <= to; i++)
            out.push(`${file}:${i + 1}${isHit.has(i) ? ":" : "-"} ${lines[i]}`);
          shownUntil = to;
        }
        if (matches > MAX_MATCHES) break;
        out.push("");
      }
      if (matches === 0)
        return `No match for /${pattern}/ in ${files.length} file(s)${skipped ? ` (${skipped} unreadable skipped)` : ""}.`;
      const capped =
        matches > MAX_MATCHES ? ` (stopped after ${MAX_MATCHES} matches: narrow the pattern or globs)` : "";
      return {
        text: `${Math.min(matches, MAX_MATCHES)} match(es) of /${pattern}/ in ${filesWithMatches} file(s)${capped}. Matching lines are marked path:line:, context path:line-.`,
        data: [{ source: "repository search results", text: out.join("\n").trimEnd(), keep: "head" }],
      };
    },
  });
}
