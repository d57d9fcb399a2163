import { lstat, rm, stat } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { simpleGit } from "simple-git";
import type { SimpleGit } from "simple-git";
import { LimitError, WorkspaceError } from "../errors.js";
import {
  DEFAULT_MAX_FILE_BYTES,
  normalizeWorkspaceRel,
  readWorkspaceFile,
  resolveWorkspacePath,
  writeWorkspaceFile,
} from "./resolve-workspace-path.js";
import type { Workspace } from "./workspace.js";

/** A fixed search path: the ambient PATH is not trusted to pick the `git` binary. */
export const DEFAULT_GIT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/homebrew/bin";

export const BOT_IDENTITY = {
  name: "rollout-medic[bot]",
  email: "rollout-medic@users.noreply.github.com",
} as const;

export type WriteCheck = { ok: true } | { ok: false; reason: string };

export interface GitWorkspaceOptions {
  maxFileBytes?: number;
  /** Consulted before every write (see agent/verify/path-policy.ts `checkWritePath`). */
  writeGuard?: (rel: string, text: string) => WriteCheck;
  /** PATH for the git child process. */
  gitPath?: string;
  /** Removed by dispose(); defaults to `root`. */
  ownedDir?: string;
}

/**
 * simple-git 4 strips GIT_* variables unless allowed, and a full process.env would leak the operator's
 * configuration (hooks, credential helpers, includes) into a repository we do not trust.
 */
export function createGit(root: string, gitPath: string = DEFAULT_GIT_PATH): SimpleGit {
  return simpleGit({
    baseDir: root,
    allowEnvironment: ["GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_TERMINAL_PROMPT"],
    unsafe: { allowUnsafeConfigPaths: true },
    config: [
      `user.name=${BOT_IDENTITY.name}`,
      `user.email=${BOT_IDENTITY.email}`,
      "commit.gpgsign=false",
      "core.autocrlf=false",
      "core.quotepath=false",
      // A short-lived working copy: background maintenance after a commit only costs time.
      "maintenance.auto=false",
      "gc.auto=0",
    ],
  }).env({
    PATH: gitPath,
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    LANG: "C",
    LC_ALL: "C",
  });
}

const DIFF_ARGS = [
  "--no-color",
  "--no-ext-diff",
  "--no-textconv",
  "--no-renames",
  "--src-prefix=a/",
  "--dst-prefix=b/",
];

function splitNul(output: string): string[] {
  return output.split("\0").filter((s) => s !== "");
}

/** A git working copy in a folder the workspace owns; the base revision is committed before any change. */
export class GitWorkspace implements Workspace {
  readonly maxFileBytes: number;
  private readonly git: SimpleGit;
  private readonly written = new Set<string>();
  private disposed = false;
  /** git takes a lock on the index: operations run one at a time even when callers overlap them. */
  private queue: Promise<unknown> = Promise.resolve();
  private epoch = 0;
  private stagedEpoch = -1;
  private readonly memo = new Map<string, { epoch: number; value: Promise<unknown> }>();

  constructor(
    readonly root: string,
    readonly baseRevision: string,
    private readonly options: GitWorkspaceOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.git = createGit(root, options.gitPath);
  }

  private ensureOpen(): void {
    if (this.disposed) throw new WorkspaceError("the workspace was disposed: create a new one");
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async listFiles(globs?: string[]): Promise<string[]> {
    this.ensureOpen();
    const output = await this.exclusive(() =>
      this.git.raw(["ls-files", "-z", "--cached", "--others", "--exclude-standard"]),
    );
    const matcher = globs && globs.length > 0 ? picomatch(globs, { dot: true }) : null;
    const files = new Set<string>();
    for (const file of splitNul(output)) {
      if (matcher && !matcher(file)) continue;
      // Deleted but still indexed files are not files any more.
      const stat = await lstat(path.join(this.root, file)).catch(() => null);
      if (stat && (stat.isFile() || stat.isSymbolicLink())) files.add(file);
    }
    return [...files].sort();
  }

  async exists(rel: string): Promise<boolean> {
    this.ensureOpen();
    try {
      const resolved = await resolveWorkspacePath(this.root, rel, "read");
      // The guard already refused links that leave the root: following this one is safe.
      return (await stat(resolved.abs)).isFile();
    } catch {
      return false;
    }
  }

  async fileKind(rel: string): Promise<"file" | "symlink" | "directory" | "other" | null> {
    this.ensureOpen();
    const normalized = normalizeWorkspaceRel(rel);
    const info = await lstat(path.join(this.root, ...normalized.split("/"))).catch(() => null);
    if (!info) return null;
    if (info.isSymbolicLink()) return "symlink";
    if (info.isFile()) return "file";
    if (info.isDirectory()) return "directory";
    return "other";
  }

  async readFile(rel: string): Promise<string> {
    this.ensureOpen();
    return readWorkspaceFile(this.root, rel, this.maxFileBytes);
  }

  async writeFile(rel: string, text: string): Promise<void> {
    this.ensureOpen();
    const normalized = normalizeWorkspaceRel(rel);
    const verdict = this.options.writeGuard?.(normalized, text);
    if (verdict && !verdict.ok) throw new LimitError(`refused to write ${normalized}: ${verdict.reason}`);
    this.written.add(await writeWorkspaceFile(this.root, normalized, text));
    this.epoch++;
  }

  async readBaseFile(rel: string): Promise<string | null> {
    this.ensureOpen();
    const normalized = normalizeWorkspaceRel(rel);
    const spec = `${this.baseRevision}:${normalized}`;
    let size: number;
    try {
      // "<mode> <type> <object> <size>\t<path>": type and size in one git process.
      const entry = (
        await this.exclusive(() => this.git.raw(["ls-tree", "-l", this.baseRevision, "--", normalized]))
      ).trim();
      const match = /^\d+ (\w+) [0-9a-f]+ +(\d+|-)\t/.exec(entry);
      if (!match || match[1] !== "blob") return null;
      size = Number(match[2]);
    } catch {
      return null;
    }
    if (size > this.maxFileBytes) {
      throw new WorkspaceError(
        `refused path ${JSON.stringify(normalized)}: file is ${size} bytes at the base revision, more than the ${this.maxFileBytes}-byte limit`,
      );
    }
    return this.exclusive(() => this.git.show([spec]));
  }

  private async stage(): Promise<void> {
    // Verbose on purpose: simple-git waits an extra 50 ms after a git process that printed nothing.
    await this.git.raw(["add", "--verbose", "-A", "--", "."]);
    // Files written on purpose count even where a .gitignore would hide them.
    const written = [];
    for (const rel of this.written) {
      if (await lstat(path.join(this.root, rel)).catch(() => null)) written.push(rel);
    }
    if (written.length > 0) await this.git.raw(["add", "--verbose", "-f", "--", ...written]);
  }

  /**
   * Every change goes through writeFile or reset, which bump the epoch: between changes the staged
   * tree, the diff and the changed files are computed once, not once per caller (each is a git process).
   */
  private cached<T>(key: "diff" | "names", compute: () => Promise<T>): Promise<T> {
    const hit = this.memo.get(key);
    if (hit && hit.epoch === this.epoch) return hit.value as Promise<T>;
    const epoch = this.epoch;
    const value = this.exclusive(async () => {
      if (this.stagedEpoch !== epoch) {
        await this.stage();
        this.stagedEpoch = epoch;
      }
      return compute();
    });
    this.memo.set(key, { epoch, value });
    value.catch(() => this.memo.delete(key));
    return value;
  }

  async diff(): Promise<string> {
    this.ensureOpen();
    return this.cached("diff", () =>
      this.git.raw(["diff", "--cached", ...DIFF_ARGS, this.baseRevision, "--"]),
    );
  }

  async changedFiles(): Promise<string[]> {
    this.ensureOpen();
    const output = await this.cached("names", () =>
      this.git.raw(["diff", "--cached", "--name-only", "-z", "--no-renames", this.baseRevision, "--"]),
    );
    return splitNul(output).sort();
  }

  async reset(): Promise<void> {
    this.ensureOpen();
    await this.exclusive(async () => {
      await this.git.raw(["reset", "--hard", this.baseRevision]);
      await this.git.raw(["clean", "-f", "-d"]);
      this.written.clear();
      this.epoch++;
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await rm(this.options.ownedDir ?? this.root, { recursive: true, force: true });
  }
}
