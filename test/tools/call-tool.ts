import type { ToolMessage } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { ToolArtifact } from "../../tools/tool-result.js";

export interface ToolAnswer {
  text: string;
  ok: boolean;
  refusal?: string;
}

/** Invokes a tool the way the agent's ToolNode does: with a tool call, so the answer is a ToolMessage. */
export async function callTool(
  tools: StructuredToolInterface[],
  name: string,
  args: Record<string, unknown>,
): Promise<ToolAnswer> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const message = (await tool.invoke({ name, args, id: `test-${name}`, type: "tool_call" })) as ToolMessage;
  const artifact = message.artifact as ToolArtifact;
  return { text: message.text, ok: artifact.ok, ...(artifact.refusal ? { refusal: artifact.refusal } : {}) };
}
