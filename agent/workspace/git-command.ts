import { spawn } from "node:child_process";
import { WorkspaceError } from "../errors.js";
import { DEFAULT_GIT_PATH } from "./git-workspace.js";

export const DEFAULT_GIT_TIMEOUT_MS = 5 * 60_000;
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

export interface GitEnvironment {
  /** PATH of the child: a fixed search path, not the operator's. */
  gitPath?: string;
  /** HOME of the child; nothing is read from it because global and system configuration are off. */
  home: string;
  /** Per-command configuration, passed in the environment (`GIT_CONFIG_COUNT`), never in argv. */
  config?: readonly (readonly [string, string])[];
  /** `GIT_ALLOW_PROTOCOL`: the transports git may use, `https` unless a caller widens it. */
  allowProtocols?: string;
  /** Further variables, e.g. the author identity of a commit. */
  extra?: Record<string, string>;
}

export interface RunGitOptions {
  cwd: string;
  env: GitEnvironment;
  timeoutMs?: number;
  /** Strings removed from every message this command produces (tokens, their Basic encoding). */
  secrets?: readonly string[];
  /** Exit codes that resolve instead of rejecting (`git push --porcelain` exits 1 on a rejected ref). */
  allowExitCodes?: readonly number[];
}

export interface GitResult {
  stdout: string;
  /** Scrubbed of the secrets the command was given. */
  stderr: string;
  exitCode: number;
}

/** A git command that failed; message and `stderr` are scrubbed of the secrets it was given. */
export class GitCommandError extends WorkspaceError {
  override name = "GitCommandError";
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  // Whatever git echoes back of an Authorization header, even for credentials we were not told about.
  return out.replace(/\b(Authorization:\s*)(Basic|Bearer|token)\s+\S+/gi, "$1$2 [redacted]");
}

/**
 * A minimal, fixed environment: simple-git and a full process.env both leak the operator's git setup
 * (credential helpers, hooks, includes, GIT_DIR) into commands run on a repository we do not trust.
 */
export function gitEnvironment(env: GitEnvironment): Record<string, string> {
  const config: (readonly [string, string])[] = [
    // No helper may store or supply credentials: they come only from the per-command header.
    ["credential.helper", ""],
    ["core.hooksPath", "/dev/null"],
    ["core.askPass", ""],
    ...(env.config ?? []),
  ];
  const vars: Record<string, string> = {
    PATH: env.gitPath ?? DEFAULT_GIT_PATH,
    HOME: env.home,
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ALLOW_PROTOCOL: env.allowProtocols ?? "https",
    GIT_CONFIG_COUNT: String(config.length),
    ...env.extra,
  };
  config.forEach(([key, value], index) => {
    vars[`GIT_CONFIG_KEY_${index}`] = key;
    vars[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return vars;
}

/** Runs `git ARGS` without a shell; rejects with a scrubbed GitCommandError on a non-zero exit or timeout. */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitResult> {
  const secrets = options.secrets ?? [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const shown = `git ${scrubSecrets(args.join(" "), secrets)}`;
  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn("git", [...args], {
      cwd: options.cwd,
      env: gitEnvironment(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let killedFor: string | null = null;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        killedFor ??= `printed more than ${MAX_OUTPUT_BYTES} bytes`;
        child.kill("SIGKILL");
        return;
      }
      into.push(chunk);
    };
    child.stdout.on("data", collect(out));
    child.stderr.on("data", collect(err));
    const timer = setTimeout(() => {
      killedFor = `timed out after ${Math.round(timeoutMs / 1000)} s`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(
        new GitCommandError(
          `cannot run git (${(error as NodeJS.ErrnoException).code ?? error.message}): install git or check the PATH given to rollout-medic`,
          shown,
          null,
          "",
        ),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = scrubSecrets(Buffer.concat(err).toString("utf8"), secrets);
      if (code !== null && killedFor === null && (code === 0 || options.allowExitCodes?.includes(code))) {
        resolve({ stdout, stderr, exitCode: code });
        return;
      }
      const reason = killedFor ?? `exit ${code}`;
      const detail = lastLines(stderr);
      reject(
        new GitCommandError(`${shown} failed (${reason})${detail ? `: ${detail}` : ""}`, shown, code, stderr),
      );
    });
  });
}

function lastLines(text: string, max = 3): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("hint:"))
    .slice(-max)
    .join(" / ");
}

export type GitFailureKind = "auth" | "not-found" | "shallow-unsupported" | "other";

/** What went wrong in a network git command, from its stderr (git's messages are stable under LC_ALL=C). */
export function classifyGitFailure(stderr: string): GitFailureKind {
  if (
    /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]\b|HTTP 40[13]\b/i.test(
      stderr,
    )
  ) {
    return "auth";
  }
  if (
    /repository '.*' not found|returned error: 404\b|does not appear to be a git repository/i.test(stderr)
  ) {
    return "not-found";
  }
  // git 2.39 servers with uploadpack.allowRefInWant break shallow fetches (`expected 'packfile'`).
  if (/received 'shallow-info'|does not support shallow|shallow file has changed/i.test(stderr)) {
    return "shallow-unsupported";
  }
  return "other";
}
