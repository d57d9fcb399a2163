import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { ModelError, ScenarioError } from "../../agent/errors.js";
import { ConversationRecorder } from "../../agent/model/conversation-recorder.js";
import { ReplayChatModel } from "../../agent/model/replay-chat-model.js";
import { readReplayFile } from "../../agent/model/replay-file.js";
import type { ReplayFile } from "../../agent/model/replay-file.js";
import { fixtureDir } from "../agent/agent-fixture.js";

const FILE: ReplayFile = {
  version: 1,
  note: "test",
  responses: [
    { content: "look", toolCalls: [{ name: "read_file", args: { path: "a.go" } }] },
    {
      content: "",
      toolCalls: [{ name: "remediation_outcome", args: { decision: "nothing" } }],
      expect: ["package a"],
    },
  ],
};

describe("ReplayChatModel", () => {
  it("answers with the recorded messages in order, with stable tool-call ids", async () => {
    const model = new ReplayChatModel(FILE, "test.json").bindTools([]);

    const first = await model.invoke([new HumanMessage("go")]);
    const second = await model.invoke([
      new HumanMessage("go"),
      first,
      new ToolMessage({ content: "package a\n", tool_call_id: "replay-0-0" }),
    ]);

    expect(first.tool_calls).toEqual([
      { name: "read_file", args: { path: "a.go" }, id: "replay-0-0", type: "tool_call" },
    ]);
    expect(second.tool_calls?.[0]?.name).toBe("remediation_outcome");
  });

  it("fails when the conversation runs out", async () => {
    const model = new ReplayChatModel({ ...FILE, responses: FILE.responses.slice(0, 1) }, "short.json");
    await model.invoke([new HumanMessage("go")]);

    await expect(model.invoke([new HumanMessage("again")])).rejects.toThrow(ModelError);
    await expect(model.invoke([new HumanMessage("again")])).rejects.toThrow(
      /replay diverged: short.json has 1 recorded responses and the agent asked for response 2/,
    );
  });

  it("fails when the tool results differ from what the recording expects", async () => {
    const model = new ReplayChatModel(FILE, "test.json");
    const first = await model.invoke([new HumanMessage("go")]);

    await expect(
      model.invoke([
        new HumanMessage("go"),
        first,
        new ToolMessage({ content: "ERROR: no such file", tool_call_id: "replay-0-0" }),
      ]),
    ).rejects.toThrow(
      /replay diverged at response 2 of test.json: the tool results it answers do not contain "package a"/,
    );
  });
});

describe("replay files", () => {
  it("the agent fixtures carry hand-scripted conversations that say so", () => {
    for (const name of ["go-panic", "java-npe", "node-unhandled-rejection"]) {
      const file = readReplayFile(path.join(fixtureDir(name), "model", "replay.json"));

      expect(file.note).toMatch(/^Hand-scripted conversation, not recorded from a real model/);
      expect(file.responses.at(-1)?.toolCalls[0]?.name).toBe("remediation_outcome");
      expect(file.responses.some((r) => r.toolCalls.some((c) => c.name === "edit_file"))).toBe(true);
    }
  });

  it("reports a missing or invalid file as a scenario error with the way out", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "medic-replay-"));
    try {
      await writeFile(path.join(dir, "bad.json"), JSON.stringify({ version: 2, note: "x", responses: [] }));

      expect(() => readReplayFile(path.join(dir, "missing.json"))).toThrow(
        /record one with --record-model DIR/,
      );
      expect(() => readReplayFile(path.join(dir, "bad.json"))).toThrow(ScenarioError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a recorder writes what the model said, in the replay format", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "medic-recorder-"));
    try {
      const recorder = new ConversationRecorder(dir, "openai:x", () => new Date("2026-05-06T07:08:09Z"));
      recorder.record(
        new AIMessage({
          content: "hi",
          tool_calls: [{ name: "show_diff", args: {}, id: "call_1", type: "tool_call" }],
        }),
      );

      const written = recorder.save();

      expect(readReplayFile(written!)).toEqual({
        version: 1,
        note: "recorded from openai:x on 2026-05-06T07:08:09.000Z by rollout-medic --record-model",
        model: "openai:x",
        responses: [{ content: "hi", toolCalls: [{ name: "show_diff", args: {}, id: "call_1" }] }],
      });
      expect(new ConversationRecorder(dir, "none").save()).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
