import path from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ModelSettings } from "../config.js";
import { ConfigError } from "../errors.js";
import type { ConversationRecorder } from "./conversation-recorder.js";
import { ReplayChatModel } from "./replay-chat-model.js";
import { REPLAY_FILE, readReplayFile } from "./replay-file.js";

export type ModelSpec = { provider: "replay" } | { provider: string; name: string };

/**
 * The model seam, chosen once by a command: everything after it sees only a chat model and a label.
 * `retries` is what the client does on its own before an error reaches the agent.
 */
export interface AgentModel {
  chatModel: BaseChatModel;
  /** `openai:gpt-4.1`, `replay:fixtures/go-panic/model/replay.json`: for logs, usage and PR metadata. */
  label: string;
  kind: "remote" | "replay" | "scripted";
  retries: number;
  /** When set, every answer of the model is also written in the replay format. */
  recorder?: ConversationRecorder;
}

/** Providers `initChatModel` knows, with the package that must be installed for each. */
const INIT_CHAT_MODEL_PACKAGES: Record<string, string> = {
  anthropic: "@langchain/anthropic",
  azure_openai: "@langchain/openai",
  cohere: "@langchain/cohere",
  google: "@langchain/google",
  "google-vertexai": "@langchain/google-vertexai",
  "google-genai": "@langchain/google-genai",
  ollama: "@langchain/ollama",
  mistralai: "@langchain/mistralai",
  groq: "@langchain/groq",
  bedrock: "@langchain/aws",
  deepseek: "@langchain/deepseek",
  xai: "@langchain/xai",
  fireworks: "@langchain/fireworks",
  together: "@langchain/together-ai",
};

export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  if (trimmed === "replay") return { provider: "replay" };
  const match = /^([a-z][a-z0-9_-]*):(\S+)$/.exec(trimmed);
  if (!match) {
    throw new ConfigError(
      `model "${spec}" is not provider:name: use for example --model openai:gpt-4.1 (any OpenAI-compatible endpoint with OPENAI_BASE_URL), --model anthropic:claude-sonnet-4-5, or --model replay`,
    );
  }
  return { provider: match[1]!, name: match[2]! };
}

export interface CreateChatModelOptions {
  /** The scenario folder, for `replay`. */
  scenarioDir?: string;
  recorder?: ConversationRecorder;
}

/**
 * Builds the chat model the settings name, or null when none is configured (the run then stays
 * deterministic). OpenAI and OpenAI-compatible endpoints go through a `ChatOpenAI` instance on the
 * chat-completions API, which self-hosted servers speak; other providers through `initChatModel` when
 * their package is installed.
 */
export async function createChatModel(
  settings: ModelSettings,
  options: CreateChatModelOptions = {},
): Promise<AgentModel | null> {
  if (!settings.spec) return null;
  const spec = parseModelSpec(settings.spec);
  if (spec.provider === "replay") {
    if (!options.scenarioDir) {
      throw new ConfigError(
        "--model replay plays a scenario's recorded conversation: it works only with dry-run <scenario>",
      );
    }
    const file = path.join(options.scenarioDir, REPLAY_FILE);
    const replay = readReplayFile(file);
    const label = `replay:${path.relative(process.cwd(), file) || file}`;
    return {
      chatModel: new ReplayChatModel(replay, file),
      label,
      kind: "replay",
      retries: 0,
      recorder: options.recorder,
    };
  }
  if (!("name" in spec)) throw new ConfigError(`model "${settings.spec}" names no model`);
  const label = `${spec.provider}:${spec.name}`;
  if (spec.provider === "openai") {
    return {
      chatModel: await createOpenAiModel(spec.name, settings),
      label,
      kind: "remote",
      retries: settings.maxRetries,
      recorder: options.recorder,
    };
  }
  return {
    chatModel: await createProviderModel(spec.provider, spec.name, settings),
    label,
    kind: "remote",
    retries: settings.maxRetries,
    recorder: options.recorder,
  };
}

async function createOpenAiModel(name: string, settings: ModelSettings): Promise<BaseChatModel> {
  if (!settings.apiKey && !settings.baseUrl) {
    throw new ConfigError(
      "the openai provider needs OPENAI_API_KEY (or OPENAI_BASE_URL for a self-hosted OpenAI-compatible server)",
    );
  }
  const { ChatOpenAI } = await import("@langchain/openai");
  return new ChatOpenAI({
    model: name,
    // Self-hosted servers often ignore the key, but the client insists on one.
    apiKey: settings.apiKey ?? "unused",
    configuration: settings.baseUrl ? { baseURL: settings.baseUrl } : {},
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    // The Responses API is OpenAI's own; chat completions is what every compatible server implements.
    useResponsesApi: false,
    streamUsage: false,
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
  });
}

async function createProviderModel(
  provider: string,
  name: string,
  settings: ModelSettings,
): Promise<BaseChatModel> {
  const pkg = INIT_CHAT_MODEL_PACKAGES[provider];
  if (!pkg) {
    const known = ["openai", ...Object.keys(INIT_CHAT_MODEL_PACKAGES)].join(", ");
    throw new ConfigError(`unknown model provider "${provider}": use one of ${known}`);
  }
  try {
    await import(pkg);
  } catch {
    throw new ConfigError(
      `model provider "${provider}" needs the package ${pkg}, which is not installed: npm install ${pkg} (or use openai with OPENAI_BASE_URL for an OpenAI-compatible endpoint)`,
    );
  }
  const { initChatModel } = await import("langchain");
  const model = await initChatModel(name, {
    modelProvider: provider,
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
  });
  return model as unknown as BaseChatModel;
}
