import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { ToolCall } from "@langchain/core/messages/tool";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { createMiddleware } from "langchain";
import type { AgentLimits } from "../config.js";
import { ModelError } from "../errors.js";
import type { Logger } from "../logger.js";
import { countTokens } from "../logs/count-tokens.js";
import type { ConversationRecorder } from "../model/conversation-recorder.js";
import { toModelError } from "../model/to-model-error.js";
import type { LimitName, Refusal, StopReason } from "./agent-run.js";
import { GuardStop, findInCauseChain } from "./guard-stop.js";

/** Tool-call arguments that were not valid JSON are carried under this key to the guard, which refuses them. */
export const INVALID_ARGUMENTS_KEY = "__rollout_medic_invalid_arguments__";

const NUDGE =
  "You answered without calling a tool. Finish now: call remediation_outcome with your decision, root cause, change summary, confidence and reviewer checks.";

const CACHED_NOTE =
  "[Same call with the same arguments as before: answered from cache, not run again. Repeating it again stops the run.]";

export interface AgentGuardOptions {
  limits: AgentLimits;
  logger: Logger;
  modelLabel: string;
  /** Retries the model client makes on its own, for error messages. */
  retries: number;
  /** Changes whenever the repository changes: cached answers older than that are stale. */
  generation: () => number;
  /** Tokens of tool definitions LangChain binds after the guard sees the request (the outcome tool). */
  extraToolTokens?: number;
  recorder?: ConversationRecorder;
  now?: () => number;
}

type ModelHandler = (request: never) => Promise<unknown> | unknown;
type ToolHandler = (request: never) => Promise<unknown> | unknown;

interface ModelRequestLike {
  messages: BaseMessage[];
  systemPrompt?: string;
  tools?: unknown[];
}

interface ToolRequestLike {
  toolCall: ToolCall;
  tool: unknown;
}

/**
 * Every guardrail of an agent run in one place, as one LangChain middleware every model call and every
 * tool call passes through: call and token budgets, the deadline, the duplicate-call cache and loop stop,
 * malformed or unknown tool calls, one log line per step, and the usage count. A limit ends the run with
 * a GuardStop carrying the numbers; the prompt states none of this because the code enforces it.
 */
export class AgentGuard {
  modelCalls = 0;
  toolCalls = 0;
  inputTokens = 0;
  outputTokens = 0;
  tokensEstimated = false;
  readonly refusals: Refusal[] = [];
  /** Aborted at the deadline; pass `signal` to the agent so that a slow model call is cut too. */
  readonly controller = new AbortController();
  private readonly now: () => number;
  private started: number;
  private stopReason: StopReason | null = null;
  private readonly cache = new Map<string, { content: string; ok: boolean }>();
  private readonly repeats = new Map<string, number>();
  private readonly messageTokens = new WeakMap<BaseMessage, number>();
  private toolTokens: number | null = null;
  private nudged = false;
  private timer: NodeJS.Timeout | null = null;
  private toolNames: string[] = [];
  private readonly inFlight = new Set<Promise<ToolMessage>>();

  constructor(private readonly options: AgentGuardOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  get stop(): StopReason | null {
    return this.stopReason;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get elapsedMs(): number {
    return this.now() - this.started;
  }

  /** Starts the deadline clock. */
  start(toolNames: string[]): void {
    this.started = this.now();
    this.toolNames = toolNames;
    this.timer = setTimeout(() => this.controller.abort(), this.options.limits.deadlineMs);
    this.timer.unref();
  }

  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  middleware() {
    return createMiddleware({
      name: "RolloutMedicGuard",
      wrapModelCall: (request, handler) =>
        this.wrapModelCall(
          request as unknown as ModelRequestLike,
          handler as ModelHandler,
        ) as Promise<AIMessage>,
      wrapToolCall: (request, handler) =>
        this.wrapToolCall(
          request as unknown as ToolRequestLike,
          handler as ToolHandler,
        ) as Promise<ToolMessage>,
    });
  }

  /** The deadline, checked at every step and by the runner; also true once the abort fired. */
  checkDeadline(): void {
    const elapsed = this.elapsedMs;
    const max = this.options.limits.deadlineMs;
    if (elapsed >= max || this.controller.signal.aborted) {
      this.halt(
        "deadline",
        Math.max(elapsed, max),
        max,
        "ms",
        `the run took ${elapsed} ms, past its deadline of ${max} ms (ROLLOUT_MEDIC_AGENT_DEADLINE_SECONDS)`,
      );
    }
  }

  /** Turns whatever ended `agent.invoke` into our error: a guardrail stop, a model error, or the original. */
  explain(error: unknown): unknown {
    const stop = findInCauseChain(error, (e): e is GuardStop => e instanceof GuardStop);
    if (stop) return stop;
    if (this.controller.signal.aborted) {
      try {
        this.checkDeadline();
      } catch (deadline) {
        return deadline;
      }
    }
    const model = findInCauseChain(error, (e): e is ModelError => e instanceof ModelError);
    if (model) return model;
    return error;
  }

  private halt(limit: LimitName, used: number, max: number, unit: StopReason["unit"], detail: string): never {
    this.stopReason ??= { limit, used, max, unit, detail };
    throw new GuardStop(this.stopReason);
  }

  private ensureRunning(): void {
    if (this.stopReason) throw new GuardStop(this.stopReason);
    this.checkDeadline();
  }

  private async wrapModelCall(request: ModelRequestLike, handler: ModelHandler): Promise<unknown> {
    this.ensureRunning();
    const { limits } = this.options;
    if (this.modelCalls >= limits.maxModelCalls) {
      this.halt(
        "model-calls",
        this.modelCalls,
        limits.maxModelCalls,
        "calls",
        `the model was called ${this.modelCalls} times without finishing, the limit (ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS)`,
      );
    }
    const estimate = this.estimateInput(request);
    const spent = this.inputTokens + this.outputTokens;
    if (spent + estimate > limits.tokenBudget) {
      this.halt(
        "token-budget",
        spent + estimate,
        limits.tokenBudget,
        "tokens",
        `the next model call would bring the run to ${spent + estimate} tokens (${spent} spent, ${estimate} in this prompt), over its budget of ${limits.tokenBudget} (ROLLOUT_MEDIC_AGENT_TOKEN_BUDGET)`,
      );
    }
    this.modelCalls += 1;
    const step = this.modelCalls;
    const started = this.now();
    let response: unknown;
    try {
      response = await handler(request as never);
    } catch (error) {
      const explained = this.explain(error);
      if (explained instanceof GuardStop) throw explained;
      throw toModelError(explained, this.options.modelLabel, this.options.retries);
    }
    const message = aiMessageOf(response);
    const usage = this.account(message, estimate);
    if (message) this.options.recorder?.record(message);
    this.options.logger.info(
      {
        step,
        kind: "model",
        model: this.options.modelLabel,
        ms: this.now() - started,
        inputTokens: usage.input,
        outputTokens: usage.output,
        toolCalls: [...(message?.tool_calls ?? []), ...(message?.invalid_tool_calls ?? [])].map(
          (c) => c.name ?? "?",
        ),
      },
      "agent model call",
    );
    if (!AIMessage.isInstance(response)) return response;
    const normalized = withInvalidCallsAsCalls(response);
    if ((normalized.tool_calls ?? []).length === 0 && !this.nudged) {
      // Servers that ignore tool_choice may answer in prose; one reminder, counted like any call.
      this.nudged = true;
      return this.wrapModelCall(
        { ...request, messages: [...request.messages, normalized, new HumanMessage(NUDGE)] },
        handler,
      );
    }
    return normalized;
  }

  /** Resolves once no tool call is running: the runner waits for it before undoing changes. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private wrapToolCall(request: ToolRequestLike, handler: ToolHandler): Promise<ToolMessage> {
    const call = request.toolCall;
    if (this.stopReason) {
      // Parallel calls of a stopped turn: the first stop already ends the run, and a second rejection
      // from the same batch would surface as an unhandled one.
      return Promise.resolve(
        new ToolMessage({
          content: `ERROR: not run: ${this.stopReason.detail}`,
          tool_call_id: call.id ?? "",
          name: call.name,
          status: "error",
        }),
      );
    }
    const running = this.guardToolCall(request, handler);
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running)).catch(() => undefined);
    return running;
  }

  private async guardToolCall(request: ToolRequestLike, handler: ToolHandler): Promise<ToolMessage> {
    this.ensureRunning();
    const { limits, logger } = this.options;
    const call = request.toolCall;
    this.toolCalls += 1;
    if (this.toolCalls > limits.maxToolCalls) {
      this.halt(
        "tool-calls",
        this.toolCalls,
        limits.maxToolCalls,
        "calls",
        `the model asked for tool call number ${this.toolCalls}, over the limit of ${limits.maxToolCalls} (ROLLOUT_MEDIC_AGENT_MAX_TOOL_CALLS)`,
      );
    }
    // The same call against the same repository state makes no progress: that is the loop to stop.
    const cacheKey = `${callKey(call)}@${this.options.generation()}`;
    const seen = (this.repeats.get(cacheKey) ?? 0) + 1;
    this.repeats.set(cacheKey, seen);
    if (seen >= limits.maxRepeatedCalls) {
      this.halt(
        "repeated-call",
        seen,
        limits.maxRepeatedCalls,
        "repeats",
        `the model made the same call ${seen} times: ${call.name}(${abridge(call.args)}) (ROLLOUT_MEDIC_AGENT_MAX_REPEATED_CALLS)`,
      );
    }
    const step = this.toolCalls;
    const started = this.now();
    const cached = this.cache.get(cacheKey);
    let content: string;
    let ok: boolean;
    let refusal: string | undefined;
    if (cached) {
      content = `${CACHED_NOTE}\n${cached.content}`;
      ok = cached.ok;
    } else if (INVALID_ARGUMENTS_KEY in (call.args ?? {})) {
      const raw = String((call.args as Record<string, unknown>)[INVALID_ARGUMENTS_KEY]).slice(0, 200);
      content = `ERROR: the arguments of this ${call.name} call are not valid JSON (${raw}); call it again with a JSON object matching its schema`;
      ok = false;
    } else if (!request.tool) {
      content = `ERROR: there is no tool named ${JSON.stringify(call.name)}; the tools are: ${this.toolNames.join(", ")}`;
      ok = false;
    } else {
      ({ content, ok, refusal } = await this.runTool(request, handler));
      this.cache.set(cacheKey, { content, ok });
    }
    if (refusal) this.refusals.push({ tool: call.name, reason: refusal });
    logger.info(
      {
        step,
        kind: "tool",
        tool: call.name,
        args: abridge(call.args),
        ms: this.now() - started,
        tokens: countTokens(content),
        ok,
        cached: Boolean(cached),
      },
      "agent tool call",
    );
    return new ToolMessage({
      content,
      tool_call_id: call.id ?? "",
      name: call.name,
      status: ok ? "success" : "error",
    });
  }

  private async runTool(
    request: ToolRequestLike,
    handler: ToolHandler,
  ): Promise<{ content: string; ok: boolean; refusal?: string }> {
    try {
      const result = await handler(request as never);
      if (!ToolMessage.isInstance(result))
        return { content: "ERROR: the tool returned no message", ok: false };
      const artifact = result.artifact as { ok?: boolean; refusal?: string } | undefined;
      const ok = result.status !== "error" && artifact?.ok !== false;
      return { content: result.text, ok, ...(artifact?.refusal ? { refusal: artifact.refusal } : {}) };
    } catch (error) {
      if (error instanceof GuardStop) throw error;
      // Schema validation failures land here: the model gets the reason and may call again.
      const message = (error instanceof Error ? error.message : String(error))
        .replace(/\s+/g, " ")
        .slice(0, 800);
      this.options.logger.debug({ tool: request.toolCall.name, err: error }, "tool call failed");
      return { content: `ERROR: ${message}`, ok: false };
    }
  }

  private estimateInput(request: ModelRequestLike): number {
    let total = countTokens(request.systemPrompt ?? "") + 4;
    for (const message of request.messages) total += this.tokensOf(message);
    this.toolTokens ??=
      (request.tools ?? []).reduce<number>(
        (sum, tool) => sum + countTokens(JSON.stringify(toolDefinition(tool))),
        0,
      ) + (this.options.extraToolTokens ?? 0);
    return total + this.toolTokens;
  }

  private tokensOf(message: BaseMessage): number {
    const known = this.messageTokens.get(message);
    if (known !== undefined) return known;
    const calls =
      AIMessage.isInstance(message) && message.tool_calls?.length ? JSON.stringify(message.tool_calls) : "";
    const count = countTokens(message.text) + countTokens(calls) + 4;
    this.messageTokens.set(message, count);
    return count;
  }

  private account(message: AIMessage | null, estimate: number): { input: number; output: number } {
    const reported = message?.usage_metadata;
    let input: number;
    let output: number;
    if (reported && reported.input_tokens + reported.output_tokens > 0) {
      input = reported.input_tokens;
      output = reported.output_tokens;
    } else {
      this.tokensEstimated = true;
      input = estimate;
      output = message ? this.tokensOf(message) : 0;
    }
    this.inputTokens += input;
    this.outputTokens += output;
    return { input, output };
  }
}

function toolDefinition(tool: unknown): unknown {
  try {
    return convertToOpenAITool(tool as Parameters<typeof convertToOpenAITool>[0]);
  } catch {
    return tool;
  }
}

/** The base handler answers a structured outcome as `{ structuredResponse, messages }`, not a message. */
function aiMessageOf(response: unknown): AIMessage | null {
  if (AIMessage.isInstance(response)) return response;
  if (typeof response === "object" && response !== null && "messages" in response) {
    const first = (response as { messages: unknown[] }).messages[0];
    if (AIMessage.isInstance(first)) return first;
  }
  return null;
}

/**
 * A tool call whose arguments did not parse ends up in `invalid_tool_calls`, which the agent loop ignores:
 * the run would end as if the model had finished. As a regular call it reaches the guard, which answers
 * with the parse error so the model can try again.
 */
export function withInvalidCallsAsCalls(message: AIMessage): AIMessage {
  const invalid = message.invalid_tool_calls ?? [];
  if (invalid.length === 0) return message;
  const repaired: ToolCall[] = invalid.map((call, index) => ({
    name: call.name ?? "unknown",
    id: call.id ?? `invalid-${index}`,
    args: { [INVALID_ARGUMENTS_KEY]: call.args ?? "", error: call.error ?? "invalid JSON" },
    type: "tool_call",
  }));
  return new AIMessage({
    content: message.content,
    id: message.id,
    name: message.name,
    tool_calls: [...(message.tool_calls ?? []), ...repaired],
    invalid_tool_calls: [],
    usage_metadata: message.usage_metadata,
    response_metadata: message.response_metadata,
  });
}

function callKey(call: ToolCall): string {
  return `${call.name}:${stableJson(call.args ?? {})}`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Arguments for a log line or a message: long strings cut, the whole at most 300 characters. */
export function abridge(args: unknown): string {
  const text = JSON.stringify(args, (_key, value: unknown) =>
    typeof value === "string" && value.length > 80 ? `${value.slice(0, 77)}...` : value,
  );
  return (text ?? "").length > 300 ? `${text.slice(0, 297)}...` : (text ?? "");
}
