import { AIMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { INVALID_ARGUMENTS_KEY, abridge, withInvalidCallsAsCalls } from "../../agent/agent/agent-guard.js";
import { GuardStop, findInCauseChain } from "../../agent/agent/guard-stop.js";
import { EXIT, LimitError, ModelError, exitCodeFor } from "../../agent/errors.js";
import { toModelError } from "../../agent/model/to-model-error.js";

describe("withInvalidCallsAsCalls", () => {
  it("turns tool calls whose arguments did not parse into calls the guard answers", () => {
    const message = new AIMessage({
      content: "",
      tool_calls: [{ name: "show_diff", args: {}, id: "a", type: "tool_call" }],
      invalid_tool_calls: [
        { name: "read_file", args: '{"path": ', id: "b", error: "Unexpected end", type: "invalid_tool_call" },
      ],
    });

    const repaired = withInvalidCallsAsCalls(message);

    expect(repaired.tool_calls?.map((c) => c.id)).toEqual(["a", "b"]);
    expect(repaired.tool_calls?.[1]?.args).toEqual({
      [INVALID_ARGUMENTS_KEY]: '{"path": ',
      error: "Unexpected end",
    });
    expect(repaired.invalid_tool_calls).toEqual([]);
    expect(withInvalidCallsAsCalls(repaired)).toBe(repaired);
  });
});

describe("abridge", () => {
  it("keeps log lines short", () => {
    const text = abridge({ path: "a.go", search: "x".repeat(500), list: Array(50).fill("item") });

    expect(text).toContain('"search":"' + "x".repeat(77) + '..."');
    expect(text.length).toBeLessThanOrEqual(300);
  });
});

describe("guard errors", () => {
  it("a guardrail stop is a limit error and is found through LangChain's wrappers", () => {
    const stop = new GuardStop({ limit: "tool-calls", used: 41, max: 40, unit: "calls", detail: "too many" });
    const wrapped = new Error("middleware failed", { cause: new Error("inner", { cause: stop }) });

    expect(stop).toBeInstanceOf(LimitError);
    expect(exitCodeFor(stop)).toBe(EXIT.refusedByLimit);
    expect(findInCauseChain(wrapped, (e): e is GuardStop => e instanceof GuardStop)).toBe(stop);
  });

  it("model failures become one actionable line with the model exit code", () => {
    const status = (code: number, message: string, extra: object = {}) =>
      Object.assign(new Error(message), { status: code, ...extra });

    expect(toModelError(status(401, "bad key"), "openai:x", 2).message).toContain("check OPENAI_API_KEY");
    expect(toModelError(status(404, "no such model"), "openai:x", 0).message).toContain(
      "check the model name and OPENAI_BASE_URL",
    );
    expect(toModelError(status(429, "slow", { retryAfterMs: 30_000 }), "openai:x", 1).message).toBe(
      "model openai:x is rate limited (HTTP 429) after 1 retry; the server asked to retry after 30 s: slow",
    );
    expect(
      toModelError(Object.assign(new Error("Request timed out."), { name: "TimeoutError" }), "openai:x", 0),
    ).toBeInstanceOf(ModelError);
    expect(toModelError(new Error("fetch failed"), "openai:x", 0).message).toContain("could not be reached");
    expect(exitCodeFor(toModelError(new Error("boom"), "openai:x", 0))).toBe(EXIT.model);
  });
});
