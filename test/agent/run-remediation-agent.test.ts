import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { toolStrategy } from "langchain";
import { afterEach, describe, expect, it } from "vitest";
import { RemediationOutcome } from "../../agent/agent/remediation-outcome.js";
import { runRemediationAgent } from "../../agent/agent/run-remediation-agent.js";
import { ConversationRecorder } from "../../agent/model/conversation-recorder.js";
import { ReplayChatModel } from "../../agent/model/replay-chat-model.js";
import { readReplayFile } from "../../agent/model/replay-file.js";
import { outcomeCall, scriptedAgentModel } from "../helpers/scripted-model.js";
import type { ScriptedTurn } from "../helpers/scripted-model.js";
import { loadAgentFixture } from "./agent-fixture.js";
import type { AgentFixture } from "./agent-fixture.js";
import { GO_PANIC_FIX, HANDLER, NIL_CHECK, NIL_LOOKUP } from "./go-panic-script.js";

let fixture: AgentFixture;
afterEach(async () => fixture.dispose());

async function run(turns: ScriptedTurn[], env: Record<string, string> = {}) {
  fixture = await loadAgentFixture("go-panic", env);
  const model = scriptedAgentModel(turns);
  const result = await runRemediationAgent({ ...fixture, model });
  return { result, model };
}

describe("runRemediationAgent with a scripted model", () => {
  it("investigates, edits and proposes a verified agent fix", async () => {
    const { result } = await run(GO_PANIC_FIX);

    expect(result.status).toBe("proposed");
    expect(result.fix?.strategy).toBe("agent");
    expect(result.fix?.files).toEqual([HANDLER]);
    expect(result.fix?.diff).toContain("+\tif !ok || promo == nil {");
    expect(result.fix?.reviewerChecklist.at(-1)).toMatch(
      /written by an AI agent \(scripted:test, prompts p-[0-9a-f]{10}\)/,
    );
    expect(result.usage).toMatchObject({ model: "scripted:test", modelCalls: 4, toolCalls: 3, costUsd: 0 });
    expect(result.usage.totalTokens).toBe(result.usage.inputTokens + result.usage.outputTokens);
    expect(result.promptVersion).toMatch(/^p-[0-9a-f]{10}$/);
  });

  it("logs one line per step with the tool, abridged arguments, duration and tokens", async () => {
    await run(GO_PANIC_FIX);

    const steps = fixture.logs.filter(
      (l) => l["msg"] === "agent tool call" || l["msg"] === "agent model call",
    );
    const edit = steps.find((l) => l["tool"] === "edit_file");

    expect(steps).toHaveLength(7);
    expect(edit).toMatchObject({ kind: "tool", ok: true, cached: false });
    expect(typeof edit?.["ms"]).toBe("number");
    expect(typeof edit?.["tokens"]).toBe("number");
    expect(String(edit?.["args"]).length).toBeLessThanOrEqual(300);
    expect(
      steps.filter((l) => l["kind"] === "model").every((l) => typeof l["inputTokens"] === "number"),
    ).toBe(true);
  });

  it("prices tokens when a price per 1k tokens is configured", async () => {
    const { result } = await run(GO_PANIC_FIX, {
      ROLLOUT_MEDIC_MODEL_PRICE_INPUT_PER_1K: "0.002",
      ROLLOUT_MEDIC_MODEL_PRICE_OUTPUT_PER_1K: "0.008",
    });

    const expected = (result.usage.inputTokens / 1000) * 0.002 + (result.usage.outputTokens / 1000) * 0.008;
    expect(result.usage.costUsd).toBeCloseTo(expected, 5);
  });

  it("discards its change when the model decides on an issue", async () => {
    const { result } = await run([
      [{ name: "edit_file", args: { path: HANDLER, search: NIL_LOOKUP, replace: NIL_CHECK } }],
      [
        outcomeCall({
          decision: "issue",
          rootCause: "The promo catalogue in production lacks codes the clients send.",
        }),
      ],
    ]);

    expect(result.status).toBe("declined");
    expect(result.fix).toBeNull();
    expect(result.reason).toContain(
      "a person must act. Root cause it found: The promo catalogue in production",
    );
    expect(await fixture.workspace.diff()).toBe("");
  });

  it("rejects a pull-request decision without any change", async () => {
    const { result } = await run([[outcomeCall()]]);

    expect(result.status).toBe("rejected");
    expect(result.reason).toContain("refused by verification: the change is empty");
  });

  it("reminds a model that answers in prose once, then gives up without an outcome", async () => {
    const { result } = await run(["I think it is a nil pointer.", "Still thinking."]);

    expect(result.status).toBe("rejected");
    expect(result.reason).toBe("the remediation agent ended without calling remediation_outcome");
    expect(result.usage.modelCalls).toBe(2);
  });

  it("names the structured outcome remediation_outcome", () => {
    const [strategy] = toolStrategy(RemediationOutcome);

    expect(strategy?.name).toBe("remediation_outcome");
  });
});

describe("recording and replaying a conversation", () => {
  it("records the model's answers so that a replay makes the same change", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "medic-record-"));
    try {
      fixture = await loadAgentFixture("go-panic");
      const recorder = new ConversationRecorder(dir, "scripted:test", () => new Date("2026-01-02T03:04:05Z"));
      const recorded = await runRemediationAgent({
        ...fixture,
        model: { ...scriptedAgentModel(GO_PANIC_FIX), recorder },
      });
      await fixture.dispose();

      const file = readReplayFile(path.join(dir, "replay.json"));
      fixture = await loadAgentFixture("go-panic");
      const replayed = await runRemediationAgent({
        ...fixture,
        model: {
          chatModel: new ReplayChatModel(file, "recorded"),
          label: "replay:recorded",
          kind: "replay",
          retries: 0,
        },
      });

      expect(file.note).toBe(
        "recorded from scripted:test on 2026-01-02T03:04:05.000Z by rollout-medic --record-model",
      );
      expect(file.responses).toHaveLength(4);
      expect(file.responses[3]?.toolCalls[0]?.name).toBe("remediation_outcome");
      expect(JSON.parse(await readFile(path.join(dir, "replay.json"), "utf8")).version).toBe(1);
      expect(replayed.status).toBe("proposed");
      expect(replayed.fix?.diff).toBe(recorded.fix?.diff);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
