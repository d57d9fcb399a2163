import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ForgeError, WorkspaceError } from "../errors.js";
import type { Logger } from "../logger.js";
import { CloneWorkspace } from "./clone-workspace.js";
import { GitCommandError, classifyGitFailure, runGit } from "./git-command.js";
import type { GitEnvironment } from "./git-command.js";
import { credentialConfig, credentialSecrets, redactUrl } from "./git-credentials.js";
import type { GitCredentialSource, GitCredentials } from "./git-credentials.js";
import type { RemoteWorkspace } from "./git-remote-workspace.js";
import { GitWorkspace } from "./git-workspace.js";
import type { WriteCheck } from "./git-workspace.js";

/**
 * One commit: every fix is computed against the failing revision alone, and nothing reads older history.
 * Deeper clones (ROLLOUT_MEDIC_CLONE_DEPTH) still fetch only the trees of older commits, never their blobs.
 */
export const DEFAULT_CLONE_DEPTH = 1;

export type CloneProtocol = "https" | "http" | "file";

export interface CloneRepositoryOptions {
  /** `https://host/owner/repo(.git)`; never with credentials in it. */
  url: string;
  /** The branch to base the fix on; the remote's default branch when absent. Must be a branch, not a tag. */
  baseBranch?: string;
  /** `partial` (the default): `--filter=blob:none` and `--depth`; `full`: every object of the branch. */
  mode?: "partial" | "full";
  /** History depth of a partial clone; 0 keeps all commits (still without old blobs). */
  depth?: number;
  credentials?: GitCredentialSource;
  /** Transports git may use: https only unless a test or the benchmark widens it. */
  protocols?: readonly CloneProtocol[];
  gitPath?: string;
  /** Parent of the per-run temporary folder; the system temp folder by default. */
  tempParent?: string;
  timeoutMs?: number;
  maxFileBytes?: number;
  writeGuard?: (rel: string, text: string) => WriteCheck;
  logger?: Logger;
}

interface RemoteHeads {
  defaultBranch: string | null;
  baseExists: boolean;
}

/**
 * Clones a repository into a fresh temporary folder (mode 0700, removed by dispose()) with the `git`
 * binary: partial and shallow by default. Credentials travel only in the child's environment.
 */
export async function cloneRepository(options: CloneRepositoryOptions): Promise<RemoteWorkspace> {
  const protocols = options.protocols ?? ["https"];
  const url = checkUrl(options.url, protocols);
  const shown = redactUrl(url);
  const owned = await mkdtemp(path.join(options.tempParent ?? tmpdir(), "rollout-medic-clone-"));
  const root = path.join(owned, "repo");
  const base: GitEnvironment = { gitPath: options.gitPath, home: owned, allowProtocols: protocols.join(":") };
  try {
    const credentials = (await options.credentials?.()) ?? null;
    const network = (cwd: string, args: string[]) =>
      runGit(args, {
        cwd,
        env: { ...base, config: credentialConfig(url, credentials) },
        secrets: credentialSecrets(credentials),
        timeoutMs: options.timeoutMs,
      });

    // With no base named, the clone itself tells the default branch: one network round trip fewer.
    const heads = options.baseBranch
      ? await readRemoteHeads(url, options.baseBranch, network.bind(null, owned))
      : null;
    if (heads && !heads.baseExists) {
      throw new WorkspaceError(
        `${shown} has no branch ${JSON.stringify(options.baseBranch)}: the base must be a branch (a tag or commit cannot take a pull request); set rollout-medic.dev/base-branch`,
      );
    }

    const mode = options.mode ?? "partial";
    const depth = options.depth ?? DEFAULT_CLONE_DEPTH;
    const common = [
      "clone",
      "--quiet",
      "--no-tags",
      "--single-branch",
      ...(options.baseBranch ? ["--branch", options.baseBranch] : []),
    ];
    const partial =
      mode === "partial" ? ["--filter=blob:none", ...(depth > 0 ? [`--depth=${depth}`] : [])] : [];
    try {
      await network(owned, [...common, ...partial, "--", url, root]);
    } catch (error) {
      if (!(error instanceof GitCommandError) || classifyGitFailure(error.stderr) !== "shallow-unsupported")
        throw error;
      options.logger?.warn(
        { url: shown, depth },
        "shallow clone refused by the server; cloning without --depth",
      );
      await rm(root, { recursive: true, force: true });
      await network(owned, [
        ...common,
        ...(mode === "partial" ? ["--filter=blob:none"] : []),
        "--",
        url,
        root,
      ]);
    }
    const local = { cwd: root, env: { ...base, home: owned } };
    const head = (
      await runGit(["symbolic-ref", "-q", "HEAD"], { ...local, allowExitCodes: [1] })
    ).stdout.trim();
    if (!head.startsWith("refs/heads/")) {
      throw new WorkspaceError(`${shown} has no default branch (an empty repository?): push a first commit`);
    }
    const baseBranch = options.baseBranch ?? head.slice("refs/heads/".length);
    const defaultBranch = heads?.defaultBranch ?? baseBranch;
    const baseRevision = (await runGit(["rev-parse", "--verify", "HEAD^{commit}"], local)).stdout.trim();
    options.logger?.debug({ url: shown, baseBranch, baseRevision, mode, depth }, "repository cloned");
    const inner = new GitWorkspace(root, baseRevision, {
      ownedDir: owned,
      ...(options.gitPath ? { gitPath: options.gitPath } : {}),
      ...(options.maxFileBytes ? { maxFileBytes: options.maxFileBytes } : {}),
      ...(options.writeGuard ? { writeGuard: options.writeGuard } : {}),
    });
    return new CloneWorkspace({
      inner,
      remote: { url, baseBranch, defaultBranch },
      credentials: options.credentials,
      gitPath: options.gitPath,
      allowProtocols: protocols.join(":"),
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    await rm(owned, { recursive: true, force: true });
    throw cloneFailure(shown, error);
  }
}

function checkUrl(url: string, protocols: readonly CloneProtocol[]): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WorkspaceError(`the repository URL ${JSON.stringify(redactUrl(url))} is not a valid URL`);
  }
  const protocol = parsed.protocol.replace(/:$/, "") as CloneProtocol;
  if (!protocols.includes(protocol)) {
    throw new WorkspaceError(
      `refused to clone ${redactUrl(url)}: only ${protocols.join(", ")} URLs are allowed (use the https URL of the repository)`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new WorkspaceError(
      `refused to clone ${redactUrl(url)}: the URL carries credentials; give the token through GITHUB_TOKEN or a GitHub App instead`,
    );
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new WorkspaceError(`refused to clone ${redactUrl(url)}: the URL has a query or fragment`);
  }
  return parsed.toString();
}

async function readRemoteHeads(
  url: string,
  baseBranch: string | undefined,
  network: (args: string[]) => Promise<{ stdout: string }>,
): Promise<RemoteHeads> {
  const refs = baseBranch ? ["HEAD", `refs/heads/${baseBranch}`] : ["HEAD"];
  const { stdout } = await network(["ls-remote", "--symref", "--", url, ...refs]);
  const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(stdout);
  const defaultBranch = symref?.[1] ?? null;
  const baseExists = baseBranch
    ? stdout.split("\n").some((line) => line.split("\t")[1] === `refs/heads/${baseBranch}`)
    : defaultBranch !== null;
  return { defaultBranch, baseExists };
}

function cloneFailure(shown: string, error: unknown): Error {
  if (error instanceof GitCommandError) {
    switch (classifyGitFailure(error.stderr)) {
      case "auth":
        return new ForgeError(
          `cannot clone ${shown}: the git server rejected the credentials (expired or revoked token, or no access to the repository): check GITHUB_TOKEN or the GitHub App installation`,
          401,
        );
      case "not-found":
        return new WorkspaceError(
          `cannot clone ${shown}: no such repository, or the token cannot see it: check the repository mapping and the token's repository access`,
        );
      default:
        return new WorkspaceError(`cannot clone ${shown}: ${error.message}`);
    }
  }
  return error instanceof Error ? error : new WorkspaceError(String(error));
}

/** For tests and the benchmark: credentials known up front. */
export function staticCredentials(credentials: GitCredentials | null): GitCredentialSource {
  return async () => credentials;
}
