import { readFileSync } from "node:fs";
import path from "node:path";
import { AIMessage } from "@langchain/core/messages";
import { z } from "zod";
import { ScenarioError } from "../errors.js";

/** Where a scenario keeps its recorded model conversation. */
export const REPLAY_FILE = path.join("model", "replay.json");

export const ReplayToolCall = z.object({
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
  /** Generated as `replay-<step>-<index>` when absent. */
  id: z.string().min(1).optional(),
});
export type ReplayToolCall = z.infer<typeof ReplayToolCall>;

export const ReplayResponse = z.object({
  content: z.string().default(""),
  toolCalls: z.array(ReplayToolCall).default([]),
  /**
   * Strings the tool results answering the previous response must contain (each in at least one). A
   * replay that sees other results has diverged from the recording (a tool or the fixture changed).
   */
  expect: z.array(z.string().min(1)).optional(),
});
export type ReplayResponse = z.infer<typeof ReplayResponse>;

/**
 * `model/replay.json`: the assistant side of one agent conversation, in order. The last response calls
 * `remediation_outcome`. Tool results are not stored: a replay runs the real tools again.
 */
export const ReplayFile = z.object({
  version: z.literal(1),
  /** Who made it and how: "hand-scripted …" or "recorded from openai:gpt-4.1 on …". */
  note: z.string().min(1),
  model: z.string().optional(),
  responses: z.array(ReplayResponse).min(1),
});
export type ReplayFile = z.infer<typeof ReplayFile>;

export function readReplayFile(file: string): ReplayFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ScenarioError(
        `${file} does not exist: --model replay needs a recorded conversation (record one with --record-model DIR, see docs/agent.md)`,
      );
    }
    throw new ScenarioError(`${file}: invalid JSON: ${(error as Error).message}`);
  }
  const parsed = ReplayFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScenarioError(
      `${file}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  return parsed.data;
}

export function replayMessage(response: ReplayResponse, step: number): AIMessage {
  return new AIMessage({
    content: response.content,
    id: `replay-${step}`,
    tool_calls: response.toolCalls.map((call, index) => ({
      name: call.name,
      args: call.args,
      id: call.id ?? `replay-${step}-${index}`,
      type: "tool_call" as const,
    })),
  });
}
