import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { ConfigError, ForgeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { GITHUB_TOKEN_USERNAME } from "../workspace/git-credentials.js";
import type { GitCredentialSource } from "../workspace/git-credentials.js";
import type { PushResult } from "../workspace/git-remote-workspace.js";
import { PullRequestExistsError } from "./forge.js";
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

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

export type GitHubAuthSettings =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: string; privateKey: string; installationId: number };

export interface GitHubForgeOptions {
  /** `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  apiUrl?: string;
  auth: GitHubAuthSettings;
  logger: Logger;
  userAgent?: string;
  /** Retries of 5xx and network failures (plugin-retry); 403/404/422 are never retried. */
  retries?: number;
  /** Milliseconds per "second" of back-off; tests shorten it, nothing else should. */
  retryBaseMs?: number;
  /** Milliseconds per second of `retry-after` / rate-limit reset waits; tests shorten it. */
  rateLimitBaseMs?: number;
  /** The longest rate-limit wait worth sitting through; a longer one fails the run (a Job retries later). */
  maxRateLimitWaitSeconds?: number;
  /** GitHub's recommended request pacing (1 s between writes, 3 s between notifying ones). Default on. */
  throttling?: boolean;
}

/** Pages of 100 read when scanning the bot's labelled items: the newest 300 are plenty for the limits. */
const MAX_LABELLED_PAGES = 3;

const ThrottledOctokit = Octokit.plugin(retry, throttling);
type ThrottledOctokit = InstanceType<typeof ThrottledOctokit>;

interface HttpError {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, string | undefined> };
}

function isHttpError(error: unknown): error is HttpError {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { status?: unknown }).status === "number" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

function validationMessages(error: HttpError): string[] {
  const errors = (error.response?.data as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e) => {
    if (typeof e === "string") return e;
    const item = e as { message?: unknown; field?: unknown; code?: unknown };
    if (typeof item.message === "string") return item.message;
    return [item.field, item.code].filter((x) => typeof x === "string").join(" ");
  });
}

/** The host git pushes to for this API: github.com for the public API, the API's own host for Enterprise. */
export function gitHostForApi(apiUrl: string): string {
  const url = new URL(apiUrl);
  return url.hostname === "api.github.com" ? "github.com" : url.host;
}

/**
 * The Forge over GitHub's REST API with `@octokit/rest`, the retry plugin (5xx, network) and the
 * throttling plugin (pacing, primary and secondary rate limits), for github.com or Enterprise Server,
 * authenticated with a token or as a GitHub App installation.
 */
export class GitHubForge implements Forge {
  readonly description: string;
  readonly gitHost: string;
  private readonly octokit: ThrottledOctokit;
  private readonly logger: Logger;

  constructor(private readonly options: GitHubForgeOptions) {
    const apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, "");
    if (!/^https?:\/\/[^/]/.test(apiUrl)) {
      throw new ConfigError(
        `GITHUB_API_URL ${JSON.stringify(apiUrl)} is not an http(s) URL (for Enterprise: https://HOST/api/v3)`,
      );
    }
    this.description = `GitHub ${apiUrl}`;
    this.gitHost = gitHostForApi(apiUrl);
    this.logger = options.logger;
    const maxWait = options.maxRateLimitWaitSeconds ?? 120;
    const logger = options.logger;
    const auth =
      options.auth.kind === "token"
        ? { auth: options.auth.token }
        : {
            authStrategy: createAppAuth,
            auth: {
              appId: options.auth.appId,
              privateKey: options.auth.privateKey,
              installationId: options.auth.installationId,
            },
          };
    this.octokit = new ThrottledOctokit({
      ...auth,
      baseUrl: apiUrl,
      userAgent: options.userAgent ?? "rollout-medic",
      log: {
        debug: (message: string) => logger.debug({ detail: message }, "octokit"),
        info: (message: string) => logger.debug({ detail: message }, "octokit"),
        warn: (message: string) => logger.warn({ detail: String(message) }, "octokit warning"),
        error: (message: string) => logger.error({ detail: String(message) }, "octokit error"),
      },
      retry: { retries: options.retries ?? 3, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
      throttle: {
        enabled: options.throttling ?? true,
        retryAfterBaseValue: options.rateLimitBaseMs ?? 1000,
        onRateLimit: (retryAfter, request, _octokit, retryCount) => {
          const wait = retryAfter <= maxWait && retryCount < 2;
          logger.warn(
            { method: request.method, url: request.url, retryAfter, retryCount, wait },
            "GitHub rate limit reached",
          );
          return wait;
        },
        onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
          const wait = retryAfter <= maxWait && retryCount < 2;
          logger.warn(
            { method: request.method, url: request.url, retryAfter, retryCount, wait },
            "GitHub secondary rate limit reached",
          );
          return wait;
        },
      },
    });
  }

  /** Credentials for git over HTTPS to the same GitHub: the token, or a fresh installation token. */
  gitCredentials(): GitCredentialSource {
    const settings = this.options.auth;
    if (settings.kind === "token") {
      return async () => ({ username: GITHUB_TOKEN_USERNAME, password: settings.token });
    }
    return async () => {
      const result = (await this.call("create an installation token for git", () =>
        this.octokit.auth({ type: "installation" }),
      )) as { token?: unknown };
      if (typeof result.token !== "string")
        throw new ForgeError("the GitHub App installation returned no token");
      return { username: GITHUB_TOKEN_USERNAME, password: result.token };
    };
  }

  async findBranch(repo: RepositoryRef, branch: string): Promise<BranchHead | null> {
    const ref = await this.call(`read branch ${branch} of ${slug(repo)}`, async () => {
      try {
        return (await this.octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}` })).data;
      } catch (error) {
        if (isHttpError(error) && error.status === 404) return null;
        throw error;
      }
    });
    if (!ref || ref.object.type !== "commit") return null;
    const commit = await this.call(
      `read commit ${ref.object.sha} of ${slug(repo)}`,
      async () => (await this.octokit.rest.git.getCommit({ ...repo, commit_sha: ref.object.sha })).data,
    );
    return {
      branch,
      sha: commit.sha,
      tree: commit.tree.sha,
      parents: commit.parents.map((p) => p.sha),
      author: { name: commit.author.name, email: commit.author.email },
      committer: { name: commit.committer.name, email: commit.committer.email },
      message: commit.message,
    };
  }

  pushBranch(request: ForgePushRequest): Promise<PushResult> {
    return request.workspace.pushBranch(request);
  }

  deleteBranch(request: ForgeDeleteRequest): Promise<PushResult> {
    return request.workspace.deleteRemoteBranch(request);
  }

  async listPullRequestsForBranch(repo: RepositoryRef, branch: string): Promise<PullRequest[]> {
    const data = await this.call(
      `list pull requests of ${slug(repo)} for ${branch}`,
      async () =>
        (
          await this.octokit.rest.pulls.list({
            ...repo,
            head: `${repo.owner}:${branch}`,
            state: "all",
            sort: "created",
            direction: "desc",
            per_page: 100,
          })
        ).data,
    );
    return data
      .filter((pr) => pr.head.ref === branch)
      .map((pr) => ({
        number: pr.number,
        url: pr.html_url,
        state: pr.state === "open" ? "open" : "closed",
        merged: pr.merged_at !== null,
        title: pr.title,
        body: pr.body ?? "",
        head: pr.head.ref,
        base: pr.base.ref,
        labels: pr.labels.map((l) => l.name),
        createdAt: pr.created_at,
        closedAt: pr.closed_at,
      }));
  }

  async listBotPullRequests(repo: RepositoryRef, label: string): Promise<PullRequest[]> {
    const items = await this.listLabelled(repo, label);
    return items
      .filter((item) => item.pull_request !== undefined)
      .map((item) => ({
        number: item.number,
        url: item.pull_request?.html_url ?? item.html_url,
        state: item.state === "open" ? "open" : "closed",
        merged: typeof item.pull_request?.merged_at === "string",
        title: item.title,
        body: item.body ?? "",
        head: null,
        base: null,
        labels: labelNames(item.labels),
        createdAt: item.created_at,
        closedAt: item.closed_at,
      }));
  }

  async createPullRequest(repo: RepositoryRef, input: CreatePullRequestInput): Promise<PullRequest> {
    try {
      const pr = (
        await this.octokit.rest.pulls.create({
          ...repo,
          head: input.head,
          base: input.base,
          title: input.title,
          body: input.body,
          ...(input.draft ? { draft: true } : {}),
        })
      ).data;
      return {
        number: pr.number,
        url: pr.html_url,
        state: pr.state,
        merged: pr.merged,
        title: pr.title,
        body: pr.body ?? "",
        head: pr.head.ref,
        base: pr.base.ref,
        labels: pr.labels.map((l) => l.name),
        createdAt: pr.created_at,
        closedAt: pr.closed_at,
      };
    } catch (error) {
      if (
        isHttpError(error) &&
        error.status === 422 &&
        validationMessages(error).some((m) => /pull request already exists/i.test(m))
      ) {
        throw new PullRequestExistsError(
          `a pull request for ${repo.owner}:${input.head} already exists`,
          input.head,
        );
      }
      throw this.failure(`create a pull request in ${slug(repo)} from ${input.head}`, error);
    }
  }

  async updatePullRequest(
    repo: RepositoryRef,
    number: number,
    changes: PullRequestChanges,
  ): Promise<PullRequest> {
    const pr = await this.call(
      `update pull request #${number} of ${slug(repo)}`,
      async () => (await this.octokit.rest.pulls.update({ ...repo, pull_number: number, ...changes })).data,
    );
    return {
      number: pr.number,
      url: pr.html_url,
      state: pr.state,
      merged: pr.merged,
      title: pr.title,
      body: pr.body ?? "",
      head: pr.head.ref,
      base: pr.base.ref,
      labels: pr.labels.map((l) => l.name),
      createdAt: pr.created_at,
      closedAt: pr.closed_at,
    };
  }

  async addLabels(repo: RepositoryRef, number: number, labels: string[]): Promise<void> {
    if (labels.length === 0) return;
    await this.call(`label #${number} of ${slug(repo)}`, () =>
      this.octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels }),
    );
  }

  async listComments(repo: RepositoryRef, number: number): Promise<IssueComment[]> {
    const comments: IssueComment[] = [];
    await this.call(`read the comments of #${number} of ${slug(repo)}`, async () => {
      let pages = 0;
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
        ...repo,
        issue_number: number,
        per_page: 100,
      })) {
        for (const c of page.data)
          comments.push({ id: c.id as number, body: c.body ?? "", createdAt: c.created_at });
        if (++pages >= 10) break;
      }
    });
    return comments;
  }

  async addComment(repo: RepositoryRef, number: number, body: string): Promise<IssueComment> {
    const c = await this.call(
      `comment on #${number} of ${slug(repo)}`,
      async () =>
        (await this.octokit.rest.issues.createComment({ ...repo, issue_number: number, body })).data,
    );
    return { id: c.id as number, body: c.body ?? "", createdAt: c.created_at };
  }

  async listIssues(repo: RepositoryRef, label: string): Promise<Issue[]> {
    const items = await this.listLabelled(repo, label);
    return items.filter((item) => item.pull_request === undefined).map(toIssue);
  }

  async createIssue(repo: RepositoryRef, input: CreateIssueInput): Promise<Issue> {
    const issue = await this.call(
      `create an issue in ${slug(repo)}`,
      async () =>
        (
          await this.octokit.rest.issues.create({
            ...repo,
            title: input.title,
            body: input.body,
            labels: input.labels,
          })
        ).data,
    );
    return toIssue(issue);
  }

  async updateIssue(repo: RepositoryRef, number: number, changes: IssueChanges): Promise<Issue> {
    const issue = await this.call(
      `update issue #${number} of ${slug(repo)}`,
      async () => (await this.octokit.rest.issues.update({ ...repo, issue_number: number, ...changes })).data,
    );
    return toIssue(issue);
  }

  private async listLabelled(repo: RepositoryRef, label: string) {
    type Item = Awaited<ReturnType<ThrottledOctokit["rest"]["issues"]["listForRepo"]>>["data"][number];
    const items: Item[] = [];
    await this.call(`list the items labelled ${label} in ${slug(repo)}`, async () => {
      let pages = 0;
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.issues.listForRepo, {
        ...repo,
        labels: label,
        state: "all",
        sort: "created",
        direction: "desc",
        per_page: 100,
      })) {
        items.push(...page.data);
        if (++pages >= MAX_LABELLED_PAGES) break;
      }
    });
    return items;
  }

  private async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  private failure(what: string, error: unknown): Error {
    if (error instanceof ForgeError) return error;
    if (!isHttpError(error)) {
      const reason = error instanceof Error ? error.message : String(error);
      return new ForgeError(
        `cannot reach ${this.description} to ${what} (${reason}): check GITHUB_API_URL and the network`,
        undefined,
        {
          cause: error,
        },
      );
    }
    const status = error.status;
    this.logger.debug({ status, what }, "GitHub request failed");
    if (status === 401) {
      return new ForgeError(
        `GitHub rejected the credentials (401) to ${what}: the token is expired or revoked; set a valid GITHUB_TOKEN or check the GitHub App's private key and installation id`,
        401,
      );
    }
    if (status === 403) {
      return new ForgeError(
        `GitHub refused (403) to ${what}: the token lacks a permission (contents, pull requests and issues: write) or a rate limit was not waited out`,
        403,
      );
    }
    if (status === 404) {
      return new ForgeError(
        `GitHub answered 404 to ${what}: the repository does not exist or the token cannot see it (check the repository mapping and the token's repository access)`,
        404,
      );
    }
    if (status === 422) {
      const details = validationMessages(error).join("; ");
      return new ForgeError(`GitHub refused (422) to ${what}${details ? `: ${details}` : ""}`, 422);
    }
    return new ForgeError(`GitHub failed (${status}) to ${what} after retries: try again later`, status);
  }
}

function slug(repo: RepositoryRef): string {
  return `${repo.owner}/${repo.repo}`;
}

function labelNames(labels: readonly (string | { name?: string })[]): string[] {
  return labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((name) => name !== "");
}

function toIssue(item: {
  number: number;
  html_url: string;
  state: string;
  title: string;
  body?: string | null;
  labels: readonly (string | { name?: string })[];
  created_at: string;
}): Issue {
  return {
    number: item.number,
    url: item.html_url,
    state: item.state === "open" ? "open" : "closed",
    title: item.title,
    body: item.body ?? "",
    labels: labelNames(item.labels),
    createdAt: item.created_at,
  };
}
