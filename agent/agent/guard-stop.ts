import { LimitError } from "../errors.js";
import type { StopReason } from "./agent-run.js";

/** Thrown by a guardrail to end the agent run; the runner turns it into a `stopped` outcome. */
export class GuardStop extends LimitError {
  override name = "GuardStop";
  constructor(readonly stop: StopReason) {
    super(`the agent was stopped: ${stop.detail}`);
  }
}

/** LangChain wraps middleware errors (MiddlewareError, graph errors): the cause chain still holds ours. */
export function findInCauseChain<T>(error: unknown, match: (e: unknown) => e is T): T | null {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (match(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
