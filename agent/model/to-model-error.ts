import { MedicError, ModelError } from "../errors.js";

interface ErrorFields {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  retryAfterMs?: unknown;
  lc_error_code?: unknown;
  cause?: unknown;
}

/**
 * One line a person can act on for a failed model call, whatever client raised it: the OpenAI SDK's
 * API errors carry `status`, LangChain's wrapper renames timeouts, and retries have already run.
 */
export function toModelError(error: unknown, modelLabel: string, retries: number): MedicError {
  if (error instanceof MedicError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorFields;
  const name = typeof e.name === "string" ? e.name : "";
  const message = (typeof e.message === "string" ? e.message : String(error))
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
  const status = typeof e.status === "number" ? e.status : undefined;
  const after = retries > 0 ? ` after ${retries} ${retries === 1 ? "retry" : "retries"}` : "";
  const prefix = `model ${modelLabel}`;
  if (name === "TimeoutError" || /timed out/i.test(message)) {
    return new ModelError(
      `${prefix} did not answer in time${after} (${message}); raise ROLLOUT_MEDIC_MODEL_TIMEOUT_MS or check the endpoint`,
      { cause: error },
    );
  }
  if (status === 429) {
    const hint =
      typeof e.retryAfterMs === "number"
        ? `; the server asked to retry after ${Math.ceil(e.retryAfterMs / 1000)} s`
        : "";
    return new ModelError(`${prefix} is rate limited (HTTP 429)${after}${hint}: ${message}`, {
      cause: error,
    });
  }
  if (status === 401 || status === 403) {
    return new ModelError(`${prefix} refused the credentials (HTTP ${status}): check OPENAI_API_KEY`, {
      cause: error,
    });
  }
  if (status === 404) {
    return new ModelError(`${prefix} was not found (HTTP 404): check the model name and OPENAI_BASE_URL`, {
      cause: error,
    });
  }
  if (status !== undefined) {
    return new ModelError(`${prefix} failed with HTTP ${status}${after}: ${message}`, { cause: error });
  }
  if (name === "APIConnectionError" || /connection error|ECONNREFUSED|fetch failed/i.test(message)) {
    return new ModelError(`${prefix} could not be reached${after}: ${message}; check OPENAI_BASE_URL`, {
      cause: error,
    });
  }
  return new ModelError(`${prefix} failed: ${name ? `${name}: ` : ""}${message}`, { cause: error });
}
