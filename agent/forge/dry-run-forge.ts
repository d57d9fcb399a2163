import type { Logger } from "../logger.js";
import type { PushResult } from "../workspace/git-remote-workspace.js";
import type {
  BranchHead,
  CreateIssueInput,
  CreatePullRequestInput,
  Forge,
  ForgeDeleteRequest,
  ForgePushRequest,
  Issue,
  IssueChanges,
  IssueComment,
  PullRequest,
  PullRequestChanges,
  RepositoryRef,
} from "./forge.js";

/** One thing the dry run would have done, in the order it would have done it. */
export interface DryRunAction {
  action: string;
  repository: string;
  detail: Record<string, unknown>;
  /** `DRY-RUN: would …`, as printed. */
  line: string;
}

/**
 * The forge of `--dry-run`: every read answers "nothing exists" (so the run plans the first-time path),
 * every write is logged and recorded as a `DRY-RUN: would …` line and changes nothing, not even a branch.
 */
export class DryRunForge implements Forge {
  readonly description = "dry run (nothing is written)";
  readonly actions: DryRunAction[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly print?: (line: string) => void,
  ) {}

  private record(
    repo: RepositoryRef,
    action: string,
    summary: string,
    detail: Record<string, unknown>,
  ): void {
    const repository = `${repo.owner}/${repo.repo}`;
    const line = `DRY-RUN: would ${summary} in ${repository}`;
    this.actions.push({ action, repository, detail, line });
    this.logger.info({ repository, action, ...detail }, "DRY-RUN: would change the forge");
    this.print?.(line);
  }

  async findBranch(): Promise<BranchHead | null> {
    return null;
  }

  async pushBranch(request: ForgePushRequest): Promise<PushResult> {
    const files = await request.workspace.changedFiles();
    this.record(
      request.repo,
      "push-branch",
      `push branch ${request.branch} (${files.length} changed file(s): ${files.join(", ")})`,
      {
        branch: request.branch,
        files,
        base: request.workspace.remote.baseBranch,
      },
    );
    return { status: "pushed", sha: request.commit.sha };
  }

  async deleteBranch(request: ForgeDeleteRequest): Promise<PushResult> {
    this.record(request.repo, "delete-branch", `delete branch ${request.branch}`, { branch: request.branch });
    return { status: "pushed", sha: "" };
  }

  async listPullRequestsForBranch(): Promise<PullRequest[]> {
    return [];
  }

  async listBotPullRequests(): Promise<PullRequest[]> {
    return [];
  }

  async createPullRequest(repo: RepositoryRef, input: CreatePullRequestInput): Promise<PullRequest> {
    this.record(
      repo,
      "create-pull-request",
      `create PR "${input.title}" from ${input.head} into ${input.base}`,
      {
        head: input.head,
        base: input.base,
        title: input.title,
      },
    );
    return {
      number: 0,
      url: "(dry run)",
      state: "open",
      merged: false,
      title: input.title,
      body: input.body,
      head: input.head,
      base: input.base,
      labels: [],
      createdAt: new Date().toISOString(),
      closedAt: null,
    };
  }

  async updatePullRequest(
    repo: RepositoryRef,
    number: number,
    changes: PullRequestChanges,
  ): Promise<PullRequest> {
    this.record(repo, "update-pull-request", `update PR #${number} (${Object.keys(changes).join(", ")})`, {
      number,
      fields: Object.keys(changes),
    });
    return {
      number,
      url: "(dry run)",
      state: "open",
      merged: false,
      title: changes.title ?? "",
      body: changes.body ?? "",
      head: null,
      base: null,
      labels: [],
      createdAt: new Date().toISOString(),
      closedAt: null,
    };
  }

  async addLabels(repo: RepositoryRef, number: number, labels: string[]): Promise<void> {
    this.record(repo, "add-labels", `label #${number} with ${labels.join(", ")}`, { number, labels });
  }

  async listComments(): Promise<IssueComment[]> {
    return [];
  }

  async addComment(repo: RepositoryRef, number: number, body: string): Promise<IssueComment> {
    this.record(repo, "comment", `comment on #${number}`, { number, chars: body.length });
    return { id: 0, body, createdAt: new Date().toISOString() };
  }

  async listIssues(): Promise<Issue[]> {
    return [];
  }

  async createIssue(repo: RepositoryRef, input: CreateIssueInput): Promise<Issue> {
    this.record(repo, "create-issue", `create issue "${input.title}" labelled ${input.labels.join(", ")}`, {
      title: input.title,
      labels: input.labels,
    });
    return {
      number: 0,
      url: "(dry run)",
      state: "open",
      title: input.title,
      body: input.body,
      labels: input.labels,
      createdAt: new Date().toISOString(),
    };
  }

  async updateIssue(repo: RepositoryRef, number: number, changes: IssueChanges): Promise<Issue> {
    this.record(repo, "update-issue", `update issue #${number} (${Object.keys(changes).join(", ")})`, {
      number,
      fields: Object.keys(changes),
    });
    return {
      number,
      url: "(dry run)",
      state: changes.state ?? "open",
      title: changes.title ?? "",
      body: changes.body ?? "",
      labels: [],
      createdAt: new Date().toISOString(),
    };
  }
}
