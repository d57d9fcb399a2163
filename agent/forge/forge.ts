import { ForgeError } from "../errors.js";
import type {
  DeleteBranchRequest,
  PushBranchRequest,
  PushResult,
  RemoteWorkspace,
} from "../workspace/git-remote-workspace.js";

/** `owner/repo` on the forge. */
export interface RepositoryRef {
  owner: string;
  repo: string;
}

export interface PullRequest {
  number: number;
  url: string;
  state: "open" | "closed";
  merged: boolean;
  title: string;
  body: string;
  /** The head branch; null when the listing that found it does not say (the issues search). */
  head: string | null;
  base: string | null;
  labels: string[];
  createdAt: string;
  closedAt: string | null;
}

export interface Issue {
  number: number;
  url: string;
  state: "open" | "closed";
  title: string;
  body: string;
  labels: string[];
  createdAt: string;
}

export interface IssueComment {
  id: number;
  body: string;
  createdAt: string;
}

export interface CommitAuthor {
  name: string;
  email: string;
}

/** The commit a branch points at, as the forge sees it. */
export interface BranchHead {
  branch: string;
  sha: string;
  tree: string;
  parents: string[];
  author: CommitAuthor;
  committer: CommitAuthor;
  message: string;
}

export interface CreatePullRequestInput {
  head: string;
  base: string;
  title: string;
  body: string;
  draft?: boolean;
}

export interface PullRequestChanges {
  title?: string;
  body?: string;
}

export interface CreateIssueInput {
  title: string;
  body: string;
  labels: string[];
}

export interface IssueChanges {
  title?: string;
  body?: string;
  state?: "open" | "closed";
}

/** A branch push through the forge: the workspace does the git work, the forge decides whether it happens. */
export interface ForgePushRequest extends PushBranchRequest {
  repo: RepositoryRef;
  workspace: RemoteWorkspace;
}

export interface ForgeDeleteRequest extends DeleteBranchRequest {
  repo: RepositoryRef;
  workspace: RemoteWorkspace;
}

/**
 * Everything delivery needs from the code host, and nothing more: a small port in the Renovate
 * `Platform` style. Reads answer `null` or `[]` when nothing exists; writes return what now exists.
 * Implementations: `GitHubForge` (REST + git push) and `DryRunForge` (prints, writes nothing).
 */
export interface Forge {
  /** For messages: "GitHub https://api.github.com", "dry run". */
  readonly description: string;
  /** The branch's head commit; null when the branch does not exist. */
  findBranch(repo: RepositoryRef, branch: string): Promise<BranchHead | null>;
  pushBranch(request: ForgePushRequest): Promise<PushResult>;
  deleteBranch(request: ForgeDeleteRequest): Promise<PushResult>;
  /** Pull requests whose head is `branch` in this repository, open and closed, newest first. */
  listPullRequestsForBranch(repo: RepositoryRef, branch: string): Promise<PullRequest[]>;
  /** Pull requests carrying `label` (the bot's own), any state, newest first; bounded to recent ones. */
  listBotPullRequests(repo: RepositoryRef, label: string): Promise<PullRequest[]>;
  /** Throws PullRequestExistsError when an open pull request already has this head. */
  createPullRequest(repo: RepositoryRef, input: CreatePullRequestInput): Promise<PullRequest>;
  updatePullRequest(repo: RepositoryRef, number: number, changes: PullRequestChanges): Promise<PullRequest>;
  /** Labels work on issues and pull requests alike; labels that do not exist yet are created. */
  addLabels(repo: RepositoryRef, number: number, labels: string[]): Promise<void>;
  listComments(repo: RepositoryRef, number: number): Promise<IssueComment[]>;
  addComment(repo: RepositoryRef, number: number, body: string): Promise<IssueComment>;
  /** Issues (never pull requests) carrying `label`, any state, newest first; bounded to recent ones. */
  listIssues(repo: RepositoryRef, label: string): Promise<Issue[]>;
  createIssue(repo: RepositoryRef, input: CreateIssueInput): Promise<Issue>;
  updateIssue(repo: RepositoryRef, number: number, changes: IssueChanges): Promise<Issue>;
}

/** The forge's 422 "A pull request already exists for owner:branch": another run got there first. */
export class PullRequestExistsError extends ForgeError {
  override name = "PullRequestExistsError";
  constructor(
    message: string,
    readonly head: string,
  ) {
    super(message, 422);
  }
}
