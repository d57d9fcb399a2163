import { structuredPatch } from "diff";
import { z } from "zod";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const EditFileInput = z.object({
  path: z.string().min(1).describe("File path relative to the repository root."),
  search: z
    .string()
    .min(1)
    .describe(
      "Exact text to replace, copied from read_file without the line-number prefixes; must occur exactly once.",
    ),
  replace: z.string().describe("The text that replaces it."),
});

/**
 * edit_file: one exact search-and-replace. A search text that is missing or ambiguous is refused rather
 * than guessed at, and the answer shows the resulting hunk so the model sees what it actually changed.
 */
export function createEditFileTool(context: ToolContext) {
  return defineTool(context, {
    name: "edit_file",
    description:
      "Replaces one exact occurrence of `search` with `replace` in a repository file. The search text must match exactly once (include a few surrounding lines to make it unique). Answers with the resulting diff hunk.",
    schema: EditFileInput,
    maxTokens: 1500,
    run: async ({ path, search, replace }) => {
      if (search === replace) throw new Error("search and replace are identical: nothing would change");
      const before = await context.workspace.readFile(path);
      const count = before.split(search).length - 1;
      if (count === 0)
        throw new Error(`the search text does not occur in ${path}${missHint(before, search)}`);
      if (count > 1)
        throw new Error(
          `the search text occurs ${count} times in ${path}: include surrounding lines so that it matches once`,
        );
      const after = before.replace(search, () => replace);
      await context.workspace.writeFile(path, after);
      return {
        text: `Edited ${path}. The file's change against its state before this edit:`,
        data: [{ source: `diff of ${path}`, text: hunks(path, before, after) }],
      };
    },
  });
}

function missHint(text: string, search: string): string {
  if (/^\s*\d+\| /m.test(search)) return ": leave out the `  42| ` line-number prefixes that read_file shows";
  const squash = (s: string) => s.replace(/\s+/g, " ").trim();
  if (squash(text).includes(squash(search)))
    return ": the text is there with different whitespace or indentation; copy it exactly";
  return ": read the file again and copy the lines exactly";
}

export function hunks(path: string, before: string, after: string): string {
  const patch = structuredPatch(path, path, before, after, "", "", { context: 2 });
  return patch.hunks
    .map((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines].join("\n"))
    .join("\n");
}
