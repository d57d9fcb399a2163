import { ChatOpenAI } from "@langchain/openai";
import { describe, expect, it } from "vitest";
import { addModelOptions, createAgentModel } from "../../agent/cli/model-option.js";
import { loadConfig } from "../../agent/config.js";
import { ConfigError, ScenarioError } from "../../agent/errors.js";
import { createChatModel, parseModelSpec } from "../../agent/model/create-chat-model.js";
import { ReplayChatModel } from "../../agent/model/replay-chat-model.js";
import { Command } from "commander";
import { fixtureDir } from "../agent/agent-fixture.js";

const settings = (env: Record<string, string> = {}) => loadConfig(env).model;

describe("parseModelSpec", () => {
  it("reads provider:name and replay", () => {
    expect(parseModelSpec("openai:gpt-4.1")).toEqual({ provider: "openai", name: "gpt-4.1" });
    expect(parseModelSpec("ollama:qwen2.5-coder:14b")).toEqual({
      provider: "ollama",
      name: "qwen2.5-coder:14b",
    });
    expect(parseModelSpec(" replay ")).toEqual({ provider: "replay" });
  });

  it("refuses a bare model name with an example of the right form", () => {
    expect(() => parseModelSpec("gpt-4.1")).toThrow(ConfigError);
    expect(() => parseModelSpec("gpt-4.1")).toThrow(/use for example --model openai:gpt-4.1/);
  });
});

describe("configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});

    expect(config.model).toEqual({
      spec: undefined,
      apiKey: undefined,
      baseUrl: undefined,
      timeoutMs: 60_000,
      maxRetries: 2,
      temperature: undefined,
      pricePer1k: { input: 0, output: 0 },
    });
    expect(config.agent).toEqual({
      maxModelCalls: 12,
      maxToolCalls: 40,
      tokenBudget: 60_000,
      deadlineMs: 180_000,
      toolOutputTokens: 2000,
      maxRepeatedCalls: 3,
    });
  });

  it("reads the standard OpenAI variables and treats empty ones as unset", () => {
    const config = loadConfig({
      OPENAI_API_KEY: "sk-x",
      OPENAI_BASE_URL: "",
      ROLLOUT_MEDIC_MODEL: "openai:gpt-4.1",
    });

    expect(config.model).toMatchObject({ apiKey: "sk-x", baseUrl: undefined, spec: "openai:gpt-4.1" });
  });

  it("refuses invalid limits", () => {
    expect(() => loadConfig({ ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS: "0" })).toThrow(
      /ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS/,
    );
    expect(() => loadConfig({ OPENAI_BASE_URL: "not a url" })).toThrow(/OPENAI_BASE_URL/);
  });
});

describe("createChatModel", () => {
  it("returns null without a model: the run stays deterministic", async () => {
    expect(await createChatModel(settings())).toBeNull();
  });

  it("builds a ChatOpenAI on the chat-completions API for any OpenAI-compatible endpoint", async () => {
    const model = await createChatModel({
      ...settings({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", ROLLOUT_MEDIC_MODEL_TIMEOUT_MS: "1234" }),
      spec: "openai:qwen2.5-coder",
    });

    const chat = model?.chatModel as ChatOpenAI;
    expect(chat).toBeInstanceOf(ChatOpenAI);
    expect(chat.model).toBe("qwen2.5-coder");
    expect(chat.useResponsesApi).toBe(false);
    expect(chat.timeout).toBe(1234);
    expect(model).toMatchObject({ label: "openai:qwen2.5-coder", kind: "remote", retries: 2 });
  });

  it("needs a key or a base URL for openai", async () => {
    await expect(createChatModel({ ...settings(), spec: "openai:gpt-4.1" })).rejects.toThrow(
      /needs OPENAI_API_KEY/,
    );
  });

  it("says which package another provider needs when it is not installed", async () => {
    await expect(createChatModel({ ...settings(), spec: "anthropic:claude-sonnet-4-5" })).rejects.toThrow(
      /model provider "anthropic" needs the package @langchain\/anthropic, which is not installed: npm install @langchain\/anthropic/,
    );
    await expect(createChatModel({ ...settings(), spec: "acme:brain" })).rejects.toThrow(
      /unknown model provider "acme"/,
    );
  });

  it("replays a scenario's recorded conversation, and only for a scenario", async () => {
    const model = await createChatModel(
      { ...settings(), spec: "replay" },
      { scenarioDir: fixtureDir("go-panic") },
    );

    expect(model?.chatModel).toBeInstanceOf(ReplayChatModel);
    expect(model?.label).toBe("replay:fixtures/go-panic/model/replay.json");
    await expect(createChatModel({ ...settings(), spec: "replay" })).rejects.toThrow(
      /works only with dry-run <scenario>/,
    );
    await expect(
      createChatModel({ ...settings(), spec: "replay" }, { scenarioDir: fixtureDir("oom-killed") }),
    ).rejects.toThrow(ScenarioError);
  });
});

describe("the --model option", () => {
  it("is one reusable helper that overrides ROLLOUT_MEDIC_MODEL", async () => {
    const command = addModelOptions(new Command("x").exitOverride());
    command.parse(["--model", "replay", "--record-model", "/tmp/rec"], { from: "user" });
    const config = loadConfig({ ROLLOUT_MEDIC_MODEL: "openai:gpt-4.1" });

    const model = await createAgentModel(config, command.opts(), { scenarioDir: fixtureDir("go-panic") });

    expect(command.opts()).toEqual({ model: "replay", recordModel: "/tmp/rec" });
    expect(model?.kind).toBe("replay");
    expect(model?.recorder?.dir).toBe("/tmp/rec");
    expect(await createAgentModel(loadConfig({}), {})).toBeNull();
  });
});
