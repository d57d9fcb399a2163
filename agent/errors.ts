/**
 * One small error hierarchy. Every message says what happened and what the user can do next;
 * the CLI prints `error.message` as a single line and exits with `exitCodeFor(error)`.
 */
export class MedicError extends Error {
  override name = "MedicError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad command-line input or configuration. */
export class ConfigError extends MedicError {
  override name = "ConfigError";
}

/** A scenario folder that cannot be read or is inconsistent. */
export class ScenarioError extends MedicError {
  override name = "ScenarioError";
}

/** The Kubernetes API could not be reached or refused a call. */
export class ClusterError extends MedicError {
  override name = "ClusterError";
  constructor(
    message: string,
    readonly detail: { status?: number; verb?: string; resource?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The repository working copy could not be prepared, read or changed. */
export class WorkspaceError extends MedicError {
  override name = "WorkspaceError";
}

/** The forge (GitHub) refused or failed a call. */
export class ForgeError extends MedicError {
  override name = "ForgeError";
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model endpoint failed in a way retries did not cure. */
export class ModelError extends MedicError {
  override name = "ModelError";
}

/** A guardrail (budget, path policy, limit) stopped the run on purpose. */
export class LimitError extends MedicError {
  override name = "LimitError";
}

/**
 * Exit codes, documented in the README and used by the Job's podFailurePolicy.
 * 0-4 are outcomes of a completed run; 10+ are failures to run.
 */
export const EXIT = {
  ok: 0,
  pullRequest: 0,
  issue: 2,
  nothingToDo: 3,
  refusedByLimit: 4,
  usage: 64,
  config: 78,
  scenario: 65,
  cluster: 69,
  workspace: 73,
  forge: 75,
  model: 76,
  internal: 70,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return EXIT.config;
  if (error instanceof ScenarioError) return EXIT.scenario;
  if (error instanceof ClusterError) return EXIT.cluster;
  if (error instanceof WorkspaceError) return EXIT.workspace;
  if (error instanceof ForgeError) return EXIT.forge;
  if (error instanceof ModelError) return EXIT.model;
  if (error instanceof LimitError) return EXIT.refusedByLimit;
  return EXIT.internal;
}

/** A single line for stderr: no stack, no newlines, at most 500 characters. */
export function oneLineMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.replace(/\s*\n\s*/g, " ").trim();
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}
