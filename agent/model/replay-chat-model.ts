import type { BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BindToolsInput } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import { ToolMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { ModelError } from "../errors.js";
import { replayMessage } from "./replay-file.js";
import type { ReplayFile } from "./replay-file.js";

interface ReplayState {
  readonly file: ReplayFile;
  readonly source: string;
  next: number;
}

/**
 * Plays a recorded conversation back through the real agent loop: each model call returns the next
 * recorded assistant message, and the real tools answer it. Anything that shows the run no longer
 * follows the recording (responses run out, a recorded expectation is not met) fails loudly instead of
 * producing a different change that looks like the recorded one.
 */
export class ReplayChatModel extends BaseChatModel {
  private readonly state: ReplayState;

  constructor(file: ReplayFile, source: string, fields: BaseChatModelParams = {}, state?: ReplayState) {
    super(fields);
    this.state = state ?? { file, source, next: 0 };
  }

  override _llmType(): string {
    return "rollout-medic-replay";
  }

  /** How many recorded responses were played so far. */
  get played(): number {
    return this.state.next;
  }

  get remaining(): number {
    return this.state.file.responses.length - this.state.next;
  }

  // Tools are whatever the agent binds; the recording names them itself, so binding shares the cursor.
  override bindTools(_tools: BindToolsInput[]): ReplayChatModel {
    return new ReplayChatModel(this.state.file, this.state.source, {}, this.state);
  }

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const step = this.state.next;
    const response = this.state.file.responses[step];
    if (!response) {
      throw new ModelError(
        `replay diverged: ${this.state.source} has ${this.state.file.responses.length} recorded responses and the agent asked for response ${step + 1}; re-record it (--record-model) or fix the scenario`,
      );
    }
    if (response.expect && response.expect.length > 0) {
      const results = toolResultsSinceLastModelTurn(messages);
      for (const expected of response.expect) {
        if (!results.some((text) => text.includes(expected))) {
          throw new ModelError(
            `replay diverged at response ${step + 1} of ${this.state.source}: the tool results it answers do not contain ${JSON.stringify(expected)}`,
          );
        }
      }
    }
    this.state.next += 1;
    const message = replayMessage(response, step);
    return { generations: [{ text: response.content, message }] };
  }
}

function toolResultsSinceLastModelTurn(messages: BaseMessage[]): string[] {
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!message || !ToolMessage.isInstance(message)) break;
    results.push(message.text);
  }
  return results;
}
