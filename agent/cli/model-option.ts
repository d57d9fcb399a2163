import type { Command } from "commander";
import type { Config } from "../config.js";
import type { AgentModel } from "../model/create-chat-model.js";

/** The command-line side of the model seam, shared by every command that can run the agent. */
export interface ModelOptions {
  model?: string;
  recordModel?: string;
}

export function addModelOptions(command: Command): Command {
  return command
    .option(
      "--model <provider:name>",
      "chat model for the remediation agent: openai:NAME (also any OpenAI-compatible server via OPENAI_BASE_URL), anthropic:NAME, … or replay (the scenario's model/replay.json); default $ROLLOUT_MEDIC_MODEL, unset: deterministic only",
    )
    .option(
      "--record-model <dir>",
      "also write the model's answers to DIR/replay.json, to replay the run offline",
    );
}

/**
 * Chooses the model once, at the command's entry point. The modules behind it load LangChain, so they
 * are imported only when a model is configured.
 */
export async function createAgentModel(
  config: Config,
  options: ModelOptions,
  context: { scenarioDir?: string } = {},
): Promise<AgentModel | null> {
  const settings = options.model ? { ...config.model, spec: options.model } : config.model;
  if (!settings.spec) return null;
  const { createChatModel } = await import("../model/create-chat-model.js");
  const { ConversationRecorder } = await import("../model/conversation-recorder.js");
  const recorder = options.recordModel
    ? new ConversationRecorder(options.recordModel, settings.spec)
    : undefined;
  return createChatModel(settings, { ...context, ...(recorder ? { recorder } : {}) });
}
