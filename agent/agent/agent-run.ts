import type { Fix } from "../fix/fix.js";
import type { RemediationOutcome } from "./remediation-outcome.js";

export type LimitName = "model-calls" | "tool-calls" | "token-budget" | "deadline" | "repeated-call";

/** Which guardrail ended the run, with the numbers a reader needs to judge it. */
export interface StopReason {
  limit: LimitName;
  used: number;
  max: number;
  unit: "calls" | "tokens" | "ms" | "repeats";
  detail: string;
}

/** Something the guardrails refused while the run went on (a path, a write, a diff too large). */
export interface Refusal {
  tool: string;
  reason: string;
}

export interface AgentUsage {
  model: string;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** USD, from the configured price per 1000 tokens; 0 when no price is configured. */
  costUsd: number;
  durationMs: number;
  /** True when a count is local (o200k_base) because the endpoint reported no usage. */
  tokensEstimated: boolean;
}

export type AgentStatus =
  /** A verified change, turned into a Fix. */
  | "proposed"
  /** The model concluded that a person must act, or that nothing needs doing. */
  | "declined"
  /** A guardrail ended the run; any change it made was thrown away. */
  | "stopped"
  /** The model proposed a change that verification refused (or proposed none). */
  | "rejected";

/** What one agent run concluded; rendered into the PR, the issue and the dry-run JSON. */
export interface AgentRun {
  status: AgentStatus;
  outcome: RemediationOutcome | null;
  fix: Fix | null;
  /** Why no change is proposed, in one sentence for the issue; null when one is. */
  reason: string | null;
  stop: StopReason | null;
  refusals: Refusal[];
  usage: AgentUsage;
  promptVersion: string;
}
