import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import { EXIT } from "../../agent/errors.js";
import { startOpenAiChatServer } from "../helpers/openai-chat-server.js";
import type { OpenAiChatServer, ScriptedReply } from "../helpers/openai-chat-server.js";
import { fixtureDir } from "./agent-fixture.js";
import { goPanicReplies } from "./go-panic-script.js";
import { runCli } from "./run-cli.js";

interface DryRunJson {
  fix: { strategy: string; files: string[]; diff: string } | null;
  pullRequest: { body: string; labels: string[] } | null;
  issue: { body: string } | null;
  noFix: { reason: string } | null;
  usage: {
    model: string;
    modelCalls: number;
    toolCalls: number;
    totalTokens: number;
    costUsd: number;
  } | null;
  agent: { status: string; decision: string | null; promptVersion: string } | null;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "medic-cli-"));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

/** The repository after the fix: the scenario's repo/ with the JSON's diff applied, as a reviewer would get it. */
async function applyDiff(fixture: string, diff: string): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, `${fixture}-`));
  await cp(path.join(fixtureDir(fixture), "repo"), dir, { recursive: true, verbatimSymlinks: true });
  execFileSync("git", ["apply", "--whitespace=nowarn", "-"], { cwd: dir, input: diff });
  return dir;
}

describe("dry-run --model replay through the built command", () => {
  it.each(["go-panic", "java-npe", "node-unhandled-rejection"])(
    "%s ends with the agent's fix on the right file",
    async (name) => {
      const expectation = loadScenario(fixtureDir(name)).expectation!;

      const result = await runCli(["dry-run", `fixtures/${name}`, "--model", "replay", "--json"]);

      expect(result.stderr).not.toMatch(/"level":(40|50)/);
      expect(result.code).toBe(EXIT.ok);
      const json = JSON.parse(result.stdout) as DryRunJson;
      expect(json.fix?.strategy).toBe("agent");
      expect(expectation.fix?.strategy).toBe("agent");
      for (const file of expectation.fix!.files) expect(json.fix!.files).toContain(file);
      const repo = await applyDiff(name, json.fix!.diff);
      for (const check of expectation.fix!.contains) {
        expect(await readFile(path.join(repo, check.path), "utf8")).toMatch(new RegExp(check.pattern));
      }
      for (const check of expectation.fix!.absent) {
        expect(await readFile(path.join(repo, check.path), "utf8")).not.toMatch(new RegExp(check.pattern));
      }
      expect(json.pullRequest?.labels).toContain("fixer/agent");
      expect(json.pullRequest?.body).toContain(`prompt \`${json.agent!.promptVersion}\``);
      expect(json.agent).toMatchObject({ status: "proposed", decision: "pull-request" });
      expect(json.usage).toMatchObject({ model: `replay:fixtures/${name}/model/replay.json`, costUsd: 0 });
      expect(json.usage!.totalTokens).toBeGreaterThan(0);
    },
  );

  it("fails clearly when a replay runs out", async () => {
    const dir = path.join(scratch, "short-replay");
    await cp(fixtureDir("go-panic"), dir, { recursive: true });
    const replay = JSON.parse(await readFile(path.join(dir, "model", "replay.json"), "utf8")) as {
      responses: unknown[];
    };
    replay.responses = replay.responses.slice(0, 2);
    await writeFile(path.join(dir, "model", "replay.json"), JSON.stringify(replay));

    const result = await runCli(["dry-run", dir, "--model", "replay", "--json"]);

    expect(result.code).toBe(EXIT.model);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(
      /^rollout-medic: replay diverged: .* has 2 recorded responses and the agent asked for response 3/,
    );
  });
});

describe("dry-run without a model", () => {
  it("stays deterministic and says how to enable the agent", async () => {
    const result = await runCli(["dry-run", "fixtures/go-panic", "--json"]);

    const json = JSON.parse(result.stdout) as DryRunJson;
    expect(result.code).toBe(EXIT.ok);
    expect(json.fix).toBeNull();
    expect(json.agent).toBeNull();
    expect(json.usage).toBeNull();
    expect(json.noFix?.reason).toContain("enable it with --model provider:name (or ROLLOUT_MEDIC_MODEL)");
    expect(json.issue?.body).toContain("enable it with --model provider:name");
  });
});

describe("dry-run --model openai:… against a local OpenAI-compatible server", () => {
  let server: OpenAiChatServer;
  afterEach(async () => server?.close());

  async function dryRun(replies: ScriptedReply[], env: Record<string, string> = {}, extra: string[] = []) {
    server = await startOpenAiChatServer(replies);
    return runCli(["dry-run", "fixtures/go-panic", "--json", "--model", "openai:test-model", ...extra], {
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: "sk-test",
      ROLLOUT_MEDIC_MODEL_MAX_RETRIES: "0",
      ...env,
    });
  }

  it("opens the agent's pull request and reports usage from the server", async () => {
    const result = await dryRun(goPanicReplies());

    const json = JSON.parse(result.stdout) as DryRunJson;
    expect(result.code).toBe(EXIT.ok);
    expect(json.fix?.strategy).toBe("agent");
    expect(json.usage).toMatchObject({ model: "openai:test-model", modelCalls: 3, toolCalls: 2 });
  });

  it("exits with the model exit code and one line on a 500", async () => {
    const result = await dryRun([{ status: 500 }, { status: 500 }]);

    expect(result.code).toBe(EXIT.model);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(
      /^rollout-medic: model openai:test-model failed with HTTP 500: /,
    );
  });

  it("exits with the model exit code and one line on a timeout", async () => {
    const result = await dryRun([{ delayMs: 3000, then: { content: "late" } }], {
      ROLLOUT_MEDIC_MODEL_TIMEOUT_MS: "300",
    });

    expect(result.code).toBe(EXIT.model);
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(
      /^rollout-medic: model openai:test-model did not answer in time/,
    );
  });

  it("recovers from a 429 with retry-after", async () => {
    const result = await dryRun([{ status: 429, headers: { "retry-after": "1" } }, ...goPanicReplies()], {
      ROLLOUT_MEDIC_MODEL_MAX_RETRIES: "1",
    });

    expect(result.code).toBe(EXIT.ok);
    expect((JSON.parse(result.stdout) as DryRunJson).fix?.strategy).toBe("agent");
  });

  it.each([
    ["malformed tool-call arguments", { toolCalls: [{ name: "edit_file", arguments: "{'path': oops" }] }],
    ["an unknown tool name", { toolCalls: [{ name: "delete_repository", arguments: {} }] }],
  ] as [string, ScriptedReply][])("recovers from %s", async (_name, bad) => {
    const result = await dryRun([bad, ...goPanicReplies()]);

    expect(result.code).toBe(EXIT.ok);
    expect((JSON.parse(result.stdout) as DryRunJson).fix?.strategy).toBe("agent");
  });

  it("records the conversation with --record-model, and the recording replays to the same diff", async () => {
    const record = path.join(scratch, "recorded");
    const live = await dryRun(goPanicReplies(), {}, ["--record-model", record]);
    const scenario = path.join(scratch, "go-panic-recorded");
    await cp(fixtureDir("go-panic"), scenario, { recursive: true });
    await cp(path.join(record, "replay.json"), path.join(scenario, "model", "replay.json"));

    const replayed = await runCli(["dry-run", scenario, "--model", "replay", "--json"]);

    const recorded = JSON.parse(await readFile(path.join(record, "replay.json"), "utf8")) as {
      note: string;
      responses: unknown[];
    };
    expect(recorded.note).toMatch(/^recorded from openai:test-model on /);
    expect(recorded.responses).toHaveLength(3);
    expect(replayed.code).toBe(EXIT.ok);
    expect((JSON.parse(replayed.stdout) as DryRunJson).fix?.diff).toBe(
      (JSON.parse(live.stdout) as DryRunJson).fix?.diff,
    );
  });
});
