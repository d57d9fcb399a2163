import { z } from "zod";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ReadFileInput = z.object({
  path: z
    .string()
    .min(1)
    .describe("File path relative to the repository root, e.g. internal/handler/handler.go."),
  startLine: z.number().int().min(1).optional().describe("First line to show (1-based); default 1."),
  endLine: z.number().int().min(1).optional().describe("Last line to show; default: as many as fit."),
});

/** read_file: a file of the repository with line numbers, or a range of its lines. */
export function createReadFileTool(context: ToolContext) {
  return defineTool(context, {
    name: "read_file",
    description:
      "Reads a repository file with line numbers (`  42| code`), whole or a line range. Line numbers are not part of the file: leave them out of edit_file's search text.",
    schema: ReadFileInput,
    run: async ({ path, startLine, endLine }) => {
      const text = await context.workspace.readFile(path);
      const lines = text.split("\n");
      if (lines.length > 1 && lines.at(-1) === "") lines.pop();
      const first = Math.min(startLine ?? 1, Math.max(lines.length, 1));
      const last = Math.min(endLine ?? lines.length, lines.length);
      if (last < first)
        throw new Error(`endLine ${endLine} is before startLine ${first}; ${path} has ${lines.length} lines`);
      const width = String(last).length;
      const numbered = lines
        .slice(first - 1, last)
        .map((line, index) => `${String(first + index).padStart(width, " ")}| ${line}`)
        .join("\n");
      return {
        text: `${path}: lines ${first}-${last} of ${lines.length}.`,
        data: [{ source: `file ${path}`, text: numbered, keep: "head" }],
      };
    },
  });
}
