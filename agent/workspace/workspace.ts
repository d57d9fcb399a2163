/**
 * The repository a fix is written into. Every implementation routes paths through
 * resolve-workspace-path.ts, so callers may pass untrusted relative paths.
 */
export interface Workspace {
  /** Absolute path of the working copy (a temporary folder the workspace owns). */
  readonly root: string;
  /** The commit every diff is computed against: the failing revision. */
  readonly baseRevision: string;
  /** Reads larger than this are refused. */
  readonly maxFileBytes: number;
  /** Repository files (tracked or new, never ignored ones, never `.git/`), sorted, optionally filtered by globs. */
  listFiles(globs?: string[]): Promise<string[]>;
  /** True when the path names a readable regular file inside the repository. */
  exists(rel: string): Promise<boolean>;
  /**
   * What the path itself is (a link is not followed), or null when nothing is there. Optional so that
   * wrappers keep compiling; without it, links inside the repository are read as if they were files.
   */
  fileKind?(rel: string): Promise<"file" | "symlink" | "directory" | "other" | null>;
  readFile(rel: string): Promise<string>;
  writeFile(rel: string, text: string): Promise<void>;
  /** The file as it was at `baseRevision` (same size cap), or null when it did not exist there. */
  readBaseFile(rel: string): Promise<string | null>;
  /** `git diff` of the working copy against `baseRevision`, with `a/` and `b/` prefixes; "" when unchanged. */
  diff(): Promise<string>;
  /** Paths that differ from `baseRevision`, sorted. */
  changedFiles(): Promise<string[]>;
  /** Throws away every change since `baseRevision`, e.g. after verification refused a fix. */
  reset(): Promise<void>;
  /** Removes the temporary folder; the workspace is unusable afterwards. Safe to call twice. */
  dispose(): Promise<void>;
}
