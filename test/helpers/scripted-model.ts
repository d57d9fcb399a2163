import { AIMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { fakeModel } from "@langchain/core/testing";
import type { RemediationOutcome } from "../../agent/agent/remediation-outcome.js";
import type { AgentModel } from "../../agent/model/create-chat-model.js";

export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

/** One model turn: tool calls, a plain message, an error, or a function of the conversation so far. */
export type ScriptedTurn = ScriptedCall[] | string | Error | ((messages: BaseMessage[]) => AIMessage | Error);

let counter = 0;

export function toolCallMessage(calls: ScriptedCall[], content = ""): AIMessage {
  return new AIMessage({
    content,
    tool_calls: calls.map((c) => ({
      name: c.name,
      args: c.args,
      id: c.id ?? `call_${++counter}`,
      type: "tool_call" as const,
    })),
  });
}

export function outcomeCall(overrides: Partial<RemediationOutcome> = {}): ScriptedCall {
  return {
    name: "remediation_outcome",
    args: {
      decision: "pull-request",
      rootCause:
        "applyPromo dereferences a nil *Promo for unknown promo codes (internal/handler/handler.go:42).",
      changeSummary: "Return the total unchanged when the promo code is unknown.",
      confidence: 0.8,
      reviewerChecks: ["Unknown promo codes now give no discount."],
      ...overrides,
    },
  };
}

/**
 * LangChain's own scripted chat model (`fakeModel`), fed with our turns in order: the real agent loop,
 * middleware and tools run around it, only the model's answers are fixed.
 */
export function scriptedChatModel(turns: ScriptedTurn[]): BaseChatModel {
  const model = fakeModel();
  for (const turn of turns) {
    if (typeof turn === "function") model.respond(turn);
    else if (turn instanceof Error) model.respond(turn);
    else if (typeof turn === "string") model.respond(new AIMessage(turn));
    else model.respond(toolCallMessage(turn));
  }
  return model as unknown as BaseChatModel;
}

export function scriptedAgentModel(turns: ScriptedTurn[], label = "scripted:test"): AgentModel {
  return { chatModel: scriptedChatModel(turns), label, kind: "scripted", retries: 0 };
}

/** The same turn `count` times: for models that never finish. */
export function repeatTurns(count: number, turn: (index: number) => ScriptedTurn): ScriptedTurn[] {
  return Array.from({ length: count }, (_, index) => turn(index));
}
