import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AIMessage } from "@langchain/core/messages";
import type { ReplayFile, ReplayResponse } from "./replay-file.js";

/**
 * Writes what a real model answered, in the replay format, so that a run can be turned into an offline
 * scenario: copy the file to `<scenario>/model/replay.json` and `dry-run <scenario> --model replay`.
 */
export class ConversationRecorder {
  private readonly responses: ReplayResponse[] = [];

  constructor(
    /** The folder to write `replay.json` into. */
    readonly dir: string,
    private readonly modelLabel: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(message: AIMessage): void {
    this.responses.push({
      content: typeof message.content === "string" ? message.content : message.text,
      toolCalls: (message.tool_calls ?? []).map((call) => ({
        name: call.name,
        args: call.args,
        ...(call.id ? { id: call.id } : {}),
      })),
    });
  }

  get size(): number {
    return this.responses.length;
  }

  /** Writes `<dir>/replay.json` and returns its path; nothing is written when no response was recorded. */
  save(): string | null {
    if (this.responses.length === 0) return null;
    const file: ReplayFile = {
      version: 1,
      note: `recorded from ${this.modelLabel} on ${this.now().toISOString()} by rollout-medic --record-model`,
      model: this.modelLabel,
      responses: this.responses,
    };
    mkdirSync(this.dir, { recursive: true });
    const target = path.join(this.dir, "replay.json");
    writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
    return target;
  }
}
