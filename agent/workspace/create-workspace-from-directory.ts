import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { WorkspaceError } from "../errors.js";
import { createGit, GitWorkspace } from "./git-workspace.js";
import type { GitWorkspaceOptions } from "./git-workspace.js";
import type { Workspace } from "./workspace.js";

export interface CreateWorkspaceOptions extends Omit<GitWorkspaceOptions, "ownedDir"> {
  /** Parent of the temporary folder; the system temp folder by default. */
  tempParent?: string;
}

/**
 * Copies a tree without ever following a symlink: links are recreated as links with their original
 * target, so a link pointing outside the repository stays a link the path guard later refuses.
 * `.git` folders, sockets, FIFOs and devices are skipped: they are not repository content.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.name === ".git") continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else if (entry.isDirectory()) {
      await copyTree(source, target);
    } else if (entry.isFile()) {
      await copyFile(source, target);
    }
  }
}

/**
 * A dry run's repository: a scenario's `repo/` copied into a fresh temp folder, `git init`, and everything
 * committed by the bot identity as the starting (failing) revision.
 */
export async function createWorkspaceFromDirectory(
  repoDir: string,
  options: CreateWorkspaceOptions = {},
): Promise<Workspace> {
  const stat = await lstat(repoDir).catch(() => null);
  if (!stat || !stat.isDirectory()) {
    throw new WorkspaceError(
      `${repoDir} is not a folder: a scenario's repo/ must be a folder of repository files`,
    );
  }
  const owned = await mkdtemp(path.join(options.tempParent ?? tmpdir(), "rollout-medic-"));
  const root = path.join(owned, "repo");
  try {
    await copyTree(repoDir, root);
    const git = createGit(root, options.gitPath);
    // Not quiet on purpose: simple-git waits an extra 50 ms after a git process that printed nothing.
    await git.raw(["init", "-b", "main"]);
    await git.raw(["add", "--verbose", "-A", "--", "."]);
    await git.raw(["commit", "--no-verify", "--allow-empty", "-m", "rollout-medic: failing revision"]);
    const base = (await git.raw(["rev-parse", "HEAD"])).trim();
    return new GitWorkspace(root, base, { ...options, ownedDir: owned });
  } catch (error) {
    await rm(owned, { recursive: true, force: true });
    if (error instanceof WorkspaceError) throw error;
    throw new WorkspaceError(
      `could not prepare a git working copy of ${repoDir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
