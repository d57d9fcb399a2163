import { z } from "zod";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ListFilesInput = z.object({
  globs: z
    .array(z.string().min(1))
    .max(20)
    .optional()
    .describe(
      'Glob patterns relative to the repository root, e.g. ["**/*.go"] or ["src/main/**"]. Default: every file.',
    ),
});

const MAX_LISTED = 400;

/** list_files: the repository's files (never .git), optionally filtered by globs. */
export function createListFilesTool(context: ToolContext) {
  return defineTool(context, {
    name: "list_files",
    description: "Lists the repository's files, relative to its root, optionally filtered by glob patterns.",
    schema: ListFilesInput,
    maxTokens: 1500,
    run: async ({ globs }) => {
      const files = await context.workspace.listFiles(globs && globs.length > 0 ? globs : undefined);
      if (files.length === 0) return `No files match ${globs ? globs.join(", ") : "(all)"}.`;
      const shown = files.slice(0, MAX_LISTED);
      const more =
        files.length > shown.length ? `\n… and ${files.length - shown.length} more: narrow the globs` : "";
      return `${files.length} file(s):\n${shown.join("\n")}${more}`;
    },
  });
}
