import { LimitError } from "../errors.js";
import { BRANCH_PREFIX } from "../render/branch-name.js";
import type { Workspace } from "./workspace.js";

export interface GitIdentity {
  name: string;
  email: string;
}

/** Where a cloned workspace came from; the URL never carries credentials. */
export interface RemoteRepository {
  url: string;
  /** The branch the fix is based on and the pull request targets. */
  baseBranch: string;
  /** The remote's HEAD branch; often the same as `baseBranch`. Never pushed to either. */
  defaultBranch: string;
}

/** A commit made from the working copy on top of the base revision, not yet on any branch. */
export interface LocalCommit {
  sha: string;
  tree: string;
}

export type PushResult =
  | { status: "pushed"; sha: string }
  /** The remote branch was not where the lease expected it: someone (another run) pushed meanwhile. */
  | { status: "stale"; detail: string }
  /** The server refused the update (protected branch, hook, non-fast-forward policy). */
  | { status: "rejected"; detail: string };

export interface PushBranchRequest {
  branch: string;
  commit: LocalCommit;
  /** The remote branch's commit as last seen, or null when it must not exist yet (force-with-lease). */
  expectedRemoteSha: string | null;
}

export interface DeleteBranchRequest {
  branch: string;
  /** Deleted only while the branch is still at this commit: never another run's push. */
  expectedRemoteSha: string;
}

/**
 * A workspace cloned from a remote it can publish to. Only the Forge calls the push methods, so the
 * one place that chose a dry run (the command's entry point, by choosing the DryRunForge) decides
 * whether anything leaves the machine.
 */
export interface RemoteWorkspace extends Workspace {
  readonly remote: RemoteRepository;
  /** Commits every change since the base revision; null when nothing changed. HEAD does not move. */
  commitChanges(input: { message: string; author: GitIdentity }): Promise<LocalCommit | null>;
  pushBranch(request: PushBranchRequest): Promise<PushResult>;
  deleteRemoteBranch(request: DeleteBranchRequest): Promise<PushResult>;
}

const SAFE_BRANCH = /^[A-Za-z0-9._/-]+$/;

/**
 * The refusal the issue asks for "in code": rollout-medic only ever writes its own branches. The base
 * and default branches, anything outside `rollout-medic/` and anything git would read as an option or a
 * pattern are refused before git runs.
 */
export function assertBotBranch(branch: string, remote: RemoteRepository): void {
  const refuse = (why: string): never => {
    throw new LimitError(`refused to push to ${JSON.stringify(branch)}: ${why}`);
  };
  if (branch === remote.baseBranch || branch === remote.defaultBranch) {
    refuse("it is the repository's base or default branch; rollout-medic only pushes its own branches");
  }
  if (!branch.startsWith(BRANCH_PREFIX) || branch.length <= BRANCH_PREFIX.length) {
    refuse(`rollout-medic only pushes branches under ${BRANCH_PREFIX}`);
  }
  if (
    !SAFE_BRANCH.test(branch) ||
    branch.includes("..") ||
    branch.endsWith(".lock") ||
    branch.endsWith("/")
  ) {
    refuse("not a plain branch name");
  }
}
