import { z } from "zod";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const CreateFileInput = z.object({
  path: z
    .string()
    .min(1)
    .describe("Path of the new file relative to the repository root; folders are created."),
  content: z.string().describe("The whole content of the new file."),
});

/** create_file: a new file (a regression test, a missing config); existing files are changed with edit_file. */
export function createCreateFileTool(context: ToolContext) {
  return defineTool(context, {
    name: "create_file",
    description:
      "Creates a new file in the repository. Refuses to overwrite an existing file: use edit_file for those.",
    schema: CreateFileInput,
    maxTokens: 500,
    run: async ({ path, content }) => {
      if (await context.workspace.exists(path))
        throw new Error(`${path} already exists: change it with edit_file`);
      await context.workspace.writeFile(path, content);
      const lines = content === "" ? 0 : content.split("\n").length - (content.endsWith("\n") ? 1 : 0);
      return `Created ${path} (${lines} line${lines === 1 ? "" : "s"}).`;
    },
  });
}
