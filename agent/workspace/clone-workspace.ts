import { ForgeError } from "../errors.js";
import { classifyGitFailure, runGit } from "./git-command.js";
import type { GitEnvironment, GitResult } from "./git-command.js";
import { credentialConfig, credentialSecrets, redactUrl } from "./git-credentials.js";
import type { GitCredentialSource } from "./git-credentials.js";
import { assertBotBranch } from "./git-remote-workspace.js";
import type {
  DeleteBranchRequest,
  GitIdentity,
  LocalCommit,
  PushBranchRequest,
  PushResult,
  RemoteRepository,
  RemoteWorkspace,
} from "./git-remote-workspace.js";
import type { Workspace } from "./workspace.js";

export interface CloneWorkspaceOptions {
  /** The working copy's own Workspace (a GitWorkspace on the clone) that every file operation goes to. */
  inner: Workspace;
  remote: RemoteRepository;
  credentials?: GitCredentialSource;
  gitPath?: string;
  allowProtocols: string;
  timeoutMs?: number;
}

/** A cloned repository: file operations go to a GitWorkspace, network operations carry per-command credentials. */
export class CloneWorkspace implements RemoteWorkspace {
  readonly remote: RemoteRepository;
  readonly root: string;
  readonly baseRevision: string;
  readonly maxFileBytes: number;
  private readonly inner: Workspace;

  constructor(private readonly options: CloneWorkspaceOptions) {
    this.inner = options.inner;
    this.remote = options.remote;
    this.root = options.inner.root;
    this.baseRevision = options.inner.baseRevision;
    this.maxFileBytes = options.inner.maxFileBytes;
  }

  listFiles(globs?: string[]): Promise<string[]> {
    return this.inner.listFiles(globs);
  }
  exists(rel: string): Promise<boolean> {
    return this.inner.exists(rel);
  }
  readFile(rel: string): Promise<string> {
    return this.inner.readFile(rel);
  }
  writeFile(rel: string, text: string): Promise<void> {
    return this.inner.writeFile(rel, text);
  }
  readBaseFile(rel: string): Promise<string | null> {
    return this.inner.readBaseFile(rel);
  }
  diff(): Promise<string> {
    return this.inner.diff();
  }
  changedFiles(): Promise<string[]> {
    return this.inner.changedFiles();
  }
  reset(): Promise<void> {
    return this.inner.reset();
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }

  async commitChanges(input: { message: string; author: GitIdentity }): Promise<LocalCommit | null> {
    // changedFiles() stages the working copy exactly as diff() saw it, written-but-ignored files included.
    if ((await this.inner.changedFiles()).length === 0) return null;
    const tree = (await this.local(["write-tree"])).stdout.trim();
    const identity = {
      GIT_AUTHOR_NAME: input.author.name,
      GIT_AUTHOR_EMAIL: input.author.email,
      GIT_COMMITTER_NAME: input.author.name,
      GIT_COMMITTER_EMAIL: input.author.email,
    };
    // commit-tree instead of commit: HEAD and the base revision stay where diff() expects them.
    const sha = (
      await this.local(["commit-tree", tree, "-p", this.baseRevision, "-m", input.message], identity)
    ).stdout.trim();
    return { sha, tree };
  }

  async pushBranch(request: PushBranchRequest): Promise<PushResult> {
    assertBotBranch(request.branch, this.remote);
    const ref = `refs/heads/${request.branch}`;
    return this.push(
      [
        `--force-with-lease=${ref}:${request.expectedRemoteSha ?? ""}`,
        "origin",
        `${request.commit.sha}:${ref}`,
      ],
      ref,
      request.commit.sha,
    );
  }

  async deleteRemoteBranch(request: DeleteBranchRequest): Promise<PushResult> {
    assertBotBranch(request.branch, this.remote);
    const ref = `refs/heads/${request.branch}`;
    return this.push(
      [`--force-with-lease=${ref}:${request.expectedRemoteSha}`, "origin", `:${ref}`],
      ref,
      "",
    );
  }

  private async push(args: string[], ref: string, sha: string): Promise<PushResult> {
    const credentials = (await this.options.credentials?.()) ?? null;
    const result = await runGit(["push", "--porcelain", "--no-verify", ...args], {
      cwd: this.root,
      env: { ...this.environment(), config: credentialConfig(this.remote.url, credentials) },
      secrets: credentialSecrets(credentials),
      timeoutMs: this.options.timeoutMs,
      // 1: a ref was rejected (the porcelain output says which); 128: a fatal error such as a 401.
      allowExitCodes: [1, 128],
    });
    const line = result.stdout
      .split("\n")
      .find((l) => l.includes(`\t`) && l.split("\t")[1]?.endsWith(`:${ref}`));
    if (!line) throw this.networkFailure("push to", result);
    const [flag, , summary = ""] = line.split("\t");
    if (flag !== "!") return { status: "pushed", sha };
    // A lost lease, or the server's ref lock lost to a concurrent push of the same branch: both mean
    // "someone else moved it", so the caller reads the branch again.
    if (/stale info|fetch first|failed to update ref|cannot lock ref|incorrect old value/.test(summary)) {
      return { status: "stale", detail: summary.trim() };
    }
    return { status: "rejected", detail: summary.trim() };
  }

  private networkFailure(what: string, result: GitResult): Error {
    const url = redactUrl(this.remote.url);
    const detail = result.stderr.trim().split("\n").slice(-2).join(" / ");
    if (classifyGitFailure(result.stderr) === "auth") {
      return new ForgeError(
        `the git server rejected the credentials to ${what} ${url}: the token is expired, revoked or lacks contents:write (check GITHUB_TOKEN or the GitHub App installation)`,
        401,
      );
    }
    return new ForgeError(`git could not ${what} ${url} (exit ${result.exitCode}): ${detail}`);
  }

  private environment(): GitEnvironment {
    return { gitPath: this.options.gitPath, home: this.root, allowProtocols: this.options.allowProtocols };
  }

  private local(args: string[], extra?: Record<string, string>): Promise<GitResult> {
    return runGit(args, {
      cwd: this.root,
      env: { ...this.environment(), ...(extra ? { extra } : {}) },
      timeoutMs: this.options.timeoutMs,
    });
  }
}
