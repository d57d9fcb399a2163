import { tool } from "@langchain/core/tools";
import type { DynamicStructuredTool } from "@langchain/core/tools";
import type { z } from "zod";
import { isRefusal } from "../agent/agent/guardrail-refusal.js";
import { countTokens } from "../agent/logs/count-tokens.js";
import { fenceUntrusted, withholdInjections } from "../agent/redaction/quarantine-injection.js";
import { redactText } from "../agent/redaction/redact-secrets.js";
import type { ToolContext } from "./tool-context.js";

/** Text a tool read from the cluster or the repository: shown to the model fenced and labelled as data. */
export interface UntrustedBlock {
  /** Where it comes from: `log pricing/pricing-api-86f6-j5k6f/pricing-api`, `file internal/handler/handler.go`. */
  source: string;
  text: string;
  /** Which end survives when the block is cut to fit the budget: logs keep their tail, files their head. */
  keep?: "head" | "tail";
}

/** A tool's answer: our own words, then any untrusted data. */
export interface ToolReply {
  text: string;
  data?: UntrustedBlock[];
}

/** Attached to every tool message, for the guardrails and the step log. */
export interface ToolArtifact {
  ok: boolean;
  /** Set when a guardrail refused the call. */
  refusal?: string;
}

export interface MedicToolSpec<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  /** A tighter budget than the run's per-tool default, for tools whose answers should stay short. */
  maxTokens?: number;
  run(args: z.infer<S>): Promise<ToolReply | string>;
}

export const TOOL_ERROR_PREFIX = "ERROR:";

const FENCE_OVERHEAD_TOKENS = 40;
const CUT_NOTE_TOKENS = 30;
const MAX_LINE_CHARS = 600;

/**
 * Every tool goes through here: a thrown error becomes an `ERROR: …` result the model can act on
 * (never an exception that ends the run), and every result is redacted and cut to its token budget.
 */
export function defineTool<S extends z.ZodObject>(
  context: ToolContext,
  spec: MedicToolSpec<S>,
): DynamicStructuredTool {
  const budget = Math.min(spec.maxTokens ?? context.outputTokens, context.outputTokens);
  const run = async (args: z.infer<S>): Promise<[string, ToolArtifact]> => {
    try {
      const reply = await spec.run(args);
      return [renderToolReply(typeof reply === "string" ? { text: reply } : reply, budget), { ok: true }];
    } catch (error) {
      const text = toolErrorText(error);
      return [
        text,
        isRefusal(error)
          ? { ok: false, refusal: text.slice(TOOL_ERROR_PREFIX.length).trim() }
          : { ok: false },
      ];
    }
  };
  return tool(run, {
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    responseFormat: "content_and_artifact",
  });
}

/** The model sees the error's message only: enough to correct the call, nothing about our internals. */
export function toolErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${TOOL_ERROR_PREFIX} ${redactText(message.replace(/\s*\n\s*/g, " ").trim()).slice(0, 1000)}`;
}

/** Redacts, withholds injection-like lines, cuts to `maxTokens` and fences untrusted blocks. */
export function renderToolReply(reply: ToolReply, maxTokens: number): string {
  const own = redactText(reply.text).trim();
  const blocks = reply.data ?? [];
  if (blocks.length === 0) return cutToTokens(own, maxTokens, "head").text;
  let room = Math.max(0, maxTokens - countTokens(own) - blocks.length * FENCE_OVERHEAD_TOKENS);
  // Lines that read like instructions to an AI never reach the model, fenced or not.
  const redacted = blocks.map((b) => ({
    ...b,
    text: shortenLines(withholdInjections(redactText(b.text)).text),
  }));
  const sizes = redacted.map((b) => countTokens(b.text));
  const parts = [own];
  // Small blocks keep everything; what they leave over goes to the larger ones.
  const order = sizes.map((size, index) => ({ size, index })).sort((a, b) => a.size - b.size);
  const shares = new Map<number, number>();
  let left = order.length;
  for (const { size, index } of order) {
    const share = Math.floor(room / left);
    const given = Math.min(size, share);
    shares.set(index, given);
    room -= given;
    left -= 1;
  }
  for (const [index, block] of redacted.entries()) {
    const share = shares.get(index) ?? 0;
    const cut = cutToTokens(
      block.text,
      (sizes[index] ?? 0) > share ? share - CUT_NOTE_TOKENS : share,
      block.keep ?? "head",
    );
    const body = cut.omitted > 0 ? withCutNote(cut.text, cut.omitted, block.keep ?? "head") : cut.text;
    parts.push(fenceUntrusted(block.source, body));
  }
  return parts.filter((p) => p !== "").join("\n\n");
}

function withCutNote(text: string, omitted: number, keep: "head" | "tail"): string {
  const note = `[… ${omitted} more line${omitted === 1 ? "" : "s"} cut to fit this tool's token budget: ask for a narrower range or a filter]`;
  return keep === "tail" ? `${note}\n${text}` : `${text}\n${note}`;
}

function shortenLines(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…[line cut]` : line))
    .join("\n");
}

/** Keeps whole lines from one end until the budget is spent. */
export function cutToTokens(
  text: string,
  maxTokens: number,
  keep: "head" | "tail",
): { text: string; omitted: number } {
  if (countTokens(text) <= maxTokens) return { text, omitted: 0 };
  const lines = text.split("\n");
  const ordered = keep === "head" ? lines : [...lines].reverse();
  const kept: string[] = [];
  let used = 0;
  for (const line of ordered) {
    const cost = countTokens(line) + 1;
    if (used + cost > maxTokens) break;
    kept.push(line);
    used += cost;
  }
  const result = keep === "head" ? kept : kept.reverse();
  return { text: result.join("\n"), omitted: lines.length - kept.length };
}
