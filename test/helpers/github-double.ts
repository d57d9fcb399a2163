import { createPublicKey, verify } from "node:crypto";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { components, operations } from "@octokit/openapi-types";
import { z } from "zod";
import type { GitHttpServer } from "./git-http-server.js";

/**
 * A stateful local double of the GitHub REST endpoints rollout-medic calls, on 127.0.0.1.
 *
 * Shapes are GitHub's, not guessed:
 * - every response body is built as the schema type GitHub publishes for that endpoint
 *   (`components["schemas"]["pull-request"]`, `["issue"]`, … from @octokit/openapi-types 29.0.1, which is
 *   generated from github/rest-api-description, openapi-version 23.0.1), so tsc rejects a missing or
 *   mistyped field;
 * - every request body and query is parsed with a strict zod schema written as a subset of that same
 *   description; the `Within<…>` checks below stop compiling if a schema allows a field or value that
 *   GitHub's description does not, and a request with an unknown field is answered 422, so a client typo
 *   fails the test instead of being ignored.
 *
 * State (pull requests, issues, labels, comments) lives here; branches and commits are read from the
 * git server, so what rollout-medic pushed is what the API reports.
 */

type Schemas = components["schemas"];
type PullRequestSchema = Schemas["pull-request"];
type PullRequestSimple = Schemas["pull-request-simple"];
type IssueSchema = Schemas["issue"];
type IssueComment = Schemas["issue-comment"];
type Label = Schemas["label"];
type Repository = Schemas["repository"];
type SimpleUser = Schemas["simple-user"];
type GitRef = Schemas["git-ref"];
type GitCommit = Schemas["git-commit"];
type InstallationToken = Schemas["installation-token"];
type ValidationError = Schemas["validation-error"];
type BasicError = Schemas["basic-error"];

type JsonBody<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** Compiles only when every value the runtime schema accepts is one GitHub's description accepts. */
type Within<Ours, Theirs> = [Ours] extends [Theirs] ? true : never;
/** Query strings arrive as text: compare the keys and the enumerated values only. */
type QueryWithin<Ours, Theirs> = [keyof Ours] extends [keyof Theirs] ? true : never;

const PullsCreateBody = z
  .object({
    title: z.string(),
    head: z.string().min(1),
    base: z.string().min(1),
    body: z.string().optional(),
    draft: z.boolean().optional(),
    maintainer_can_modify: z.boolean().optional(),
  })
  .strict();
const PullsUpdateBody = z
  .object({
    title: z.string().optional(),
    body: z.string().optional(),
    state: z.enum(["open", "closed"]).optional(),
  })
  .strict();
const IssuesCreateBody = z
  .object({ title: z.string().min(1), body: z.string().optional(), labels: z.array(z.string()).optional() })
  .strict();
const IssuesUpdateBody = z
  .object({
    title: z.string().optional(),
    body: z.string().optional(),
    state: z.enum(["open", "closed"]).optional(),
    labels: z.array(z.string()).optional(),
  })
  .strict();
const CreateCommentBody = z.object({ body: z.string().min(1) }).strict();
const AddLabelsBody = z.object({ labels: z.array(z.string().min(1)).min(1) }).strict();

const PullsListQuery = z
  .object({
    state: z.enum(["open", "closed", "all"]).optional(),
    head: z.string().optional(),
    base: z.string().optional(),
    sort: z.enum(["created", "updated", "popularity", "long-running"]).optional(),
    direction: z.enum(["asc", "desc"]).optional(),
    per_page: z.string().regex(/^\d+$/).optional(),
    page: z.string().regex(/^\d+$/).optional(),
  })
  .strict();
const IssuesListQuery = z
  .object({
    state: z.enum(["open", "closed", "all"]).optional(),
    labels: z.string().optional(),
    sort: z.enum(["created", "updated", "comments"]).optional(),
    direction: z.enum(["asc", "desc"]).optional(),
    per_page: z.string().regex(/^\d+$/).optional(),
    page: z.string().regex(/^\d+$/).optional(),
  })
  .strict();
const CommentsListQuery = z
  .object({ per_page: z.string().regex(/^\d+$/).optional(), page: z.string().regex(/^\d+$/).optional() })
  .strict();

// The compile-time checks against the published description (see the file comment).
export const SCHEMA_CHECKS: [
  Within<z.infer<typeof PullsCreateBody>, JsonBody<operations["pulls/create"]>>,
  Within<z.infer<typeof PullsUpdateBody>, JsonBody<operations["pulls/update"]>>,
  Within<z.infer<typeof IssuesCreateBody>, JsonBody<operations["issues/create"]>>,
  Within<z.infer<typeof IssuesUpdateBody>, JsonBody<operations["issues/update"]>>,
  Within<z.infer<typeof CreateCommentBody>, JsonBody<operations["issues/create-comment"]>>,
  Within<z.infer<typeof AddLabelsBody>, JsonBody<operations["issues/add-labels"]>>,
  QueryWithin<z.infer<typeof PullsListQuery>, Query<operations["pulls/list"]>>,
  Within<z.infer<typeof PullsListQuery>["state"], Query<operations["pulls/list"]>["state"]>,
  Within<z.infer<typeof PullsListQuery>["sort"], Query<operations["pulls/list"]>["sort"]>,
  QueryWithin<z.infer<typeof IssuesListQuery>, Query<operations["issues/list-for-repo"]>>,
  Within<z.infer<typeof IssuesListQuery>["state"], Query<operations["issues/list-for-repo"]>["state"]>,
  Within<z.infer<typeof IssuesListQuery>["sort"], Query<operations["issues/list-for-repo"]>["sort"]>,
  QueryWithin<z.infer<typeof CommentsListQuery>, Query<operations["issues/list-comments"]>>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];

export interface GitHubDoubleOptions {
  /** Tokens accepted as `Authorization: token …` / `Bearer …`. */
  tokens: string[];
  /** Where branches and commits come from. */
  git: GitHttpServer;
  /** `/api/v3` to look like GitHub Enterprise Server. */
  pathPrefix?: string;
  /** A GitHub App the double can issue installation tokens for (JWT checked with `publicKeyPem`). */
  app?: { appId: string; publicKeyPem: string; installationId: number; installationToken: string };
  /** The login pull requests and issues are created by. */
  botLogin?: string;
  /**
   * Forward every path outside `pathPrefix` to the git server, so that API and git share one host as on
   * GitHub Enterprise Server (`https://HOST/api/v3` and `https://HOST/owner/repo.git`). Needs a prefix.
   */
  proxyGit?: boolean;
}

export interface RecordedApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export interface GitHubFault {
  method: string;
  /** The path without the prefix, e.g. `/repos/acme/shop/pulls`. */
  path: string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer the fault this many times, then serve normally. Default 1. */
  times?: number;
}

interface Item {
  number: number;
  kind: "pull" | "issue";
  owner: string;
  repo: string;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  head: string | null;
  base: string | null;
  draft: boolean;
}

interface StoredComment {
  id: number;
  item: number;
  owner: string;
  repo: string;
  body: string;
  user: string;
  createdAt: string;
}

export interface SeedPullRequest {
  title?: string;
  body: string;
  head: string;
  base?: string;
  labels?: string[];
  state?: "open" | "closed";
  merged?: boolean;
  createdAt?: string;
  user?: string;
}

const DOCS = "https://docs.github.com/rest";

export interface GitHubDouble {
  /** The API base URL to give Octokit (with the prefix). */
  readonly url: string;
  readonly requests: RecordedApiRequest[];
  addRepository(owner: string, repo: string): void;
  fault(fault: GitHubFault): void;
  pulls(owner: string, repo: string): PullRequestSchema[];
  issues(owner: string, repo: string): IssueSchema[];
  comments(owner: string, repo: string, number: number): IssueComment[];
  seedPullRequest(owner: string, repo: string, seed: SeedPullRequest): number;
  seedIssue(
    owner: string,
    repo: string,
    seed: { title: string; body: string; labels: string[]; state?: "open" | "closed" },
  ): number;
  /** A person closes (or merges) a pull request in the web UI. */
  closePullRequest(owner: string, repo: string, number: number, options?: { merged?: boolean }): void;
  closeIssue(owner: string, repo: string, number: number): void;
  /** Every text the double ever stored or sent: bodies, titles, comments. */
  allText(): string;
  close(): Promise<void>;
}

export async function startGitHubDouble(options: GitHubDoubleOptions): Promise<GitHubDouble> {
  const prefix = options.pathPrefix ?? "";
  const botLogin = options.botLogin ?? "rollout-medic[bot]";
  const repos = new Set<string>();
  const items: Item[] = [];
  const comments: StoredComment[] = [];
  const labels = new Map<string, Label[]>();
  const faults: (GitHubFault & { left: number })[] = [];
  const requests: RecordedApiRequest[] = [];
  const numbers = new Map<string, number>();
  let nextId = 1000;
  let base = "";

  const key = (owner: string, repo: string) => `${owner}/${repo}`.toLowerCase();
  const now = () => new Date().toISOString();

  function user(login: string): SimpleUser {
    return {
      login,
      id: login.length * 1000 + 7,
      node_id: `U_${login}`,
      avatar_url: `${base}/avatars/${login}`,
      gravatar_id: "",
      url: `${base}/users/${login}`,
      html_url: `${base}/${login}`,
      followers_url: `${base}/users/${login}/followers`,
      following_url: `${base}/users/${login}/following{/other_user}`,
      gists_url: `${base}/users/${login}/gists{/gist_id}`,
      starred_url: `${base}/users/${login}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/users/${login}/subscriptions`,
      organizations_url: `${base}/users/${login}/orgs`,
      repos_url: `${base}/users/${login}/repos`,
      events_url: `${base}/users/${login}/events{/privacy}`,
      received_events_url: `${base}/users/${login}/received_events`,
      type: login.endsWith("[bot]") ? "Bot" : "User",
      site_admin: false,
    };
  }

  function repository(owner: string, repo: string): Repository {
    const api = `${base}/repos/${owner}/${repo}`;
    return {
      id: 4242,
      node_id: `R_${owner}_${repo}`,
      name: repo,
      full_name: `${owner}/${repo}`,
      license: null,
      forks: 0,
      owner: user(owner),
      private: true,
      html_url: `${base}/${owner}/${repo}`,
      description: null,
      fork: false,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: options.git.repoUrl(owner, repo),
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@127.0.0.1:${owner}/${repo}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: options.git.repoUrl(owner, repo),
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: `${base}/${owner}/${repo}`,
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 1,
      default_branch: "main",
      open_issues_count: items.filter((i) => key(i.owner, i.repo) === key(owner, repo) && i.state === "open")
        .length,
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: false,
      archived: false,
      disabled: false,
      pushed_at: now(),
      created_at: "2024-01-01T00:00:00Z",
      updated_at: now(),
      open_issues: 0,
      watchers: 0,
    };
  }

  function labelObjects(owner: string, repo: string, names: string[]): Label[] {
    const known = labels.get(key(owner, repo)) ?? [];
    return names.map((name) => {
      let label = known.find((l) => l.name === name);
      if (!label) {
        label = {
          id: nextId++,
          node_id: `LA_${name}`,
          url: `${base}/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`,
          name,
          description: null,
          color: "ededed",
          default: false,
        };
        known.push(label);
        labels.set(key(owner, repo), known);
      }
      return label;
    });
  }

  function headSha(item: Item): string {
    const branch = item.head ? options.git.readBranch(item.owner, item.repo, item.head) : null;
    return branch?.sha ?? "0000000000000000000000000000000000000000";
  }

  function links(item: Item) {
    const api = `${base}/repos/${item.owner}/${item.repo}`;
    const link = (href: string) => ({ href });
    return {
      comments: link(`${api}/issues/${item.number}/comments`),
      commits: link(`${api}/pulls/${item.number}/commits`),
      statuses: link(`${api}/statuses/${headSha(item)}`),
      html: link(`${base}/${item.owner}/${item.repo}/pull/${item.number}`),
      issue: link(`${api}/issues/${item.number}`),
      review_comments: link(`${api}/pulls/${item.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      self: link(`${api}/pulls/${item.number}`),
    };
  }

  function pullSimple(item: Item): PullRequestSimple {
    const api = `${base}/repos/${item.owner}/${item.repo}`;
    const repo = repository(item.owner, item.repo);
    const owner = user(item.owner);
    return {
      url: `${api}/pulls/${item.number}`,
      id: 500_000 + item.number,
      node_id: `PR_${item.number}`,
      html_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}`,
      diff_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}.diff`,
      patch_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}.patch`,
      issue_url: `${api}/issues/${item.number}`,
      commits_url: `${api}/pulls/${item.number}/commits`,
      review_comments_url: `${api}/pulls/${item.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${item.number}/comments`,
      statuses_url: `${api}/statuses/${headSha(item)}`,
      number: item.number,
      state: item.state,
      locked: false,
      title: item.title,
      user: user(item.user),
      body: item.body,
      labels: labelObjects(item.owner, item.repo, item.labels).map((l) => ({
        ...l,
        description: l.description ?? "",
      })),
      milestone: null,
      created_at: item.createdAt,
      updated_at: item.updatedAt,
      closed_at: item.closedAt,
      merged_at: item.mergedAt,
      merge_commit_sha: null,
      assignee: null,
      head: {
        label: `${item.owner}:${item.head ?? ""}`,
        ref: item.head ?? "",
        repo,
        sha: headSha(item),
        user: owner,
      },
      base: {
        label: `${item.owner}:${item.base ?? "main"}`,
        ref: item.base ?? "main",
        repo,
        sha: options.git.readBranch(item.owner, item.repo, item.base ?? "main")?.sha ?? "",
        user: owner,
      },
      _links: links(item),
      author_association: "NONE",
      auto_merge: null,
      draft: item.draft,
    };
  }

  function pullFull(item: Item): PullRequestSchema {
    const simple = pullSimple(item);
    return {
      ...simple,
      state: item.state,
      user: user(item.user),
      labels: labelObjects(item.owner, item.repo, item.labels),
      head: { ...simple.head, user: user(item.owner) },
      base: { ...simple.base, user: user(item.owner) },
      merged: item.mergedAt !== null,
      mergeable: null,
      mergeable_state: "unknown",
      merged_by: null,
      comments: comments.filter(
        (c) => c.item === item.number && key(c.owner, c.repo) === key(item.owner, item.repo),
      ).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 1,
      changed_files: 1,
    };
  }

  function issue(item: Item): IssueSchema {
    const api = `${base}/repos/${item.owner}/${item.repo}`;
    return {
      id: 700_000 + item.number,
      node_id: `I_${item.number}`,
      url: `${api}/issues/${item.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${item.number}/labels{/name}`,
      comments_url: `${api}/issues/${item.number}/comments`,
      events_url: `${api}/issues/${item.number}/events`,
      html_url: `${base}/${item.owner}/${item.repo}/${item.kind === "pull" ? "pull" : "issues"}/${item.number}`,
      number: item.number,
      state: item.state,
      title: item.title,
      body: item.body,
      user: user(item.user),
      labels: labelObjects(item.owner, item.repo, item.labels),
      assignee: null,
      milestone: null,
      locked: false,
      comments: comments.filter(
        (c) => c.item === item.number && key(c.owner, c.repo) === key(item.owner, item.repo),
      ).length,
      closed_at: item.closedAt,
      created_at: item.createdAt,
      updated_at: item.updatedAt,
      ...(item.kind === "pull"
        ? {
            pull_request: {
              merged_at: item.mergedAt,
              diff_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}.diff`,
              html_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}`,
              patch_url: `${base}/${item.owner}/${item.repo}/pull/${item.number}.patch`,
              url: `${api}/pulls/${item.number}`,
            },
          }
        : {}),
    };
  }

  function comment(c: StoredComment): IssueComment {
    const api = `${base}/repos/${c.owner}/${c.repo}`;
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${api}/issues/comments/${c.id}`,
      body: c.body,
      html_url: `${base}/${c.owner}/${c.repo}/issues/${c.item}#issuecomment-${c.id}`,
      user: user(c.user),
      created_at: c.createdAt,
      updated_at: c.createdAt,
      issue_url: `${api}/issues/${c.item}`,
      author_association: "NONE",
    };
  }

  function newItem(owner: string, repo: string, fields: Omit<Item, "number" | "owner" | "repo">): Item {
    const k = key(owner, repo);
    const number = (numbers.get(k) ?? 0) + 1;
    numbers.set(k, number);
    const item: Item = { number, owner, repo, ...fields };
    items.push(item);
    return item;
  }

  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    response.end(
      body === undefined
        ? ""
        : JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)),
    );
  };
  const notFound = (): BasicError => ({ message: "Not Found", documentation_url: DOCS, status: "404" });
  const invalid = (message: string, errors: ValidationError["errors"] = []): ValidationError => ({
    message,
    documentation_url: DOCS,
    errors,
  });

  function paginate<T>(
    all: T[],
    query: Record<string, string>,
    path: string,
  ): { page: T[]; link: string | null } {
    const perPage = Math.min(Number(query["per_page"] ?? 30), 100);
    const page = Number(query["page"] ?? 1);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    if (page * perPage >= all.length) return { page: slice, link: null };
    const next = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries({ ...query, page: String(page + 1) })) next.searchParams.set(k, v);
    return { page: slice, link: `<${next.toString()}>; rel="next"` };
  }

  function authenticate(request: IncomingMessage, path: string): boolean {
    const header = request.headers.authorization ?? "";
    const match = /^(token|bearer)\s+(\S+)$/i.exec(header);
    if (!match?.[2]) return false;
    if (path.startsWith("/app/")) return options.app ? verifyJwt(match[2], options.app) : false;
    return options.tokens.includes(match[2]) || match[2] === options.app?.installationToken;
  }

  type Handler = (args: { params: string[]; query: Record<string, string>; body: unknown; path: string }) => {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  };

  const parse = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> | ValidationError => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    return invalid(
      "Invalid request.",
      result.error.issues.map((i) => ({ code: "invalid", field: i.path.join("."), message: i.message })),
    );
  };
  const isError = (value: unknown): value is ValidationError =>
    typeof value === "object" &&
    value !== null &&
    (value as { message?: unknown }).message === "Invalid request.";

  const findItem = (owner: string, repo: string, number: string, kind?: Item["kind"]) =>
    items.find(
      (i) =>
        key(i.owner, i.repo) === key(owner, repo) &&
        i.number === Number(number) &&
        (!kind || i.kind === kind),
    );

  const routes: [string, RegExp, Handler][] = [
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/git\/ref\/(.+)$/,
      ({ params: [owner, repo, ref] }) => {
        const name = decodeURIComponent(ref!);
        if (!name.startsWith("heads/")) return { status: 404, body: notFound() };
        const commit = options.git.readBranch(owner!, repo!, name.slice("heads/".length));
        if (!commit) return { status: 404, body: notFound() };
        const body: GitRef = {
          ref: `refs/${name}`,
          node_id: `REF_${commit.sha}`,
          url: `${base}/repos/${owner}/${repo}/git/refs/${name}`,
          object: {
            type: "commit",
            sha: commit.sha,
            url: `${base}/repos/${owner}/${repo}/git/commits/${commit.sha}`,
          },
        };
        return { status: 200, body };
      },
    ],
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/git\/commits\/([0-9a-f]{40})$/,
      ({ params: [owner, repo, sha] }) => {
        const commit = options.git.readCommit(owner!, repo!, sha!);
        if (!commit) return { status: 404, body: notFound() };
        const body: GitCommit = {
          sha: commit.sha,
          node_id: `C_${commit.sha}`,
          url: `${base}/repos/${owner}/${repo}/git/commits/${commit.sha}`,
          author: { date: commit.authorDate, email: commit.authorEmail, name: commit.authorName },
          committer: { date: commit.committerDate, email: commit.committerEmail, name: commit.committerName },
          message: commit.message,
          tree: { sha: commit.tree, url: `${base}/repos/${owner}/${repo}/git/trees/${commit.tree}` },
          parents: commit.parents.map((p) => ({
            sha: p,
            url: `${base}/repos/${owner}/${repo}/git/commits/${p}`,
            html_url: `${base}/${owner}/${repo}/commit/${p}`,
          })),
          verification: {
            verified: false,
            reason: "unsigned",
            signature: null,
            payload: null,
            verified_at: null,
          },
          html_url: `${base}/${owner}/${repo}/commit/${commit.sha}`,
        };
        return { status: 200, body };
      },
    ],
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/pulls$/,
      ({ params: [owner, repo], query, path }) => {
        const q = parse(PullsListQuery, query);
        if (isError(q)) return { status: 422, body: q };
        const state = q.state ?? "open";
        let list = items.filter((i) => i.kind === "pull" && key(i.owner, i.repo) === key(owner!, repo!));
        if (state !== "all") list = list.filter((i) => i.state === state);
        if (q.head) {
          const [headOwner, ...rest] = q.head.split(":");
          const ref = rest.join(":");
          list = list.filter((i) => headOwner?.toLowerCase() === i.owner.toLowerCase() && i.head === ref);
        }
        if (q.base) list = list.filter((i) => i.base === q.base);
        list.sort(
          (a, b) =>
            (q.direction === "asc" ? 1 : -1) *
            (a.createdAt.localeCompare(b.createdAt) || a.number - b.number),
        );
        const { page, link } = paginate(list.map(pullSimple), query, path);
        return { status: 200, body: page satisfies PullRequestSimple[], headers: linkHeader(link) };
      },
    ],
    [
      "POST",
      /^\/repos\/([^/]+)\/([^/]+)\/pulls$/,
      ({ params: [owner, repo], body }) => {
        const input = parse(PullsCreateBody, body);
        if (isError(input)) return { status: 422, body: input };
        const head = input.head.includes(":") ? input.head.split(":").slice(1).join(":") : input.head;
        if (!options.git.readBranch(owner!, repo!, head)) {
          return {
            status: 422,
            body: invalid("Validation Failed", [{ resource: "PullRequest", field: "head", code: "invalid" }]),
          };
        }
        if (!options.git.readBranch(owner!, repo!, input.base)) {
          return {
            status: 422,
            body: invalid("Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]),
          };
        }
        const existing = items.find(
          (i) =>
            i.kind === "pull" &&
            key(i.owner, i.repo) === key(owner!, repo!) &&
            i.state === "open" &&
            i.head === head &&
            i.base === input.base,
        );
        if (existing) {
          return {
            status: 422,
            body: invalid("Validation Failed", [
              {
                resource: "PullRequest",
                code: "custom",
                message: `A pull request already exists for ${owner}:${head}.`,
              },
            ]),
          };
        }
        const at = now();
        const item = newItem(owner!, repo!, {
          kind: "pull",
          title: input.title,
          body: input.body ?? "",
          state: "open",
          labels: [],
          user: botLogin,
          createdAt: at,
          updatedAt: at,
          closedAt: null,
          mergedAt: null,
          head,
          base: input.base,
          draft: input.draft ?? false,
        });
        return { status: 201, body: pullFull(item) };
      },
    ],
    [
      "PATCH",
      /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/,
      ({ params: [owner, repo, number], body }) => {
        const item = findItem(owner!, repo!, number!, "pull");
        if (!item) return { status: 404, body: notFound() };
        const input = parse(PullsUpdateBody, body);
        if (isError(input)) return { status: 422, body: input };
        if (input.title !== undefined) item.title = input.title;
        if (input.body !== undefined) item.body = input.body;
        if (input.state !== undefined) {
          item.state = input.state;
          item.closedAt = input.state === "closed" ? now() : null;
        }
        item.updatedAt = now();
        return { status: 200, body: pullFull(item) };
      },
    ],
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/issues$/,
      ({ params: [owner, repo], query, path }) => {
        const q = parse(IssuesListQuery, query);
        if (isError(q)) return { status: 422, body: q };
        const state = q.state ?? "open";
        const wanted = (q.labels ?? "")
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean);
        let list = items.filter((i) => key(i.owner, i.repo) === key(owner!, repo!));
        if (state !== "all") list = list.filter((i) => i.state === state);
        list = list.filter((i) => wanted.every((l) => i.labels.includes(l)));
        const field = q.sort === "updated" ? "updatedAt" : "createdAt";
        list.sort(
          (a, b) =>
            (q.direction === "asc" ? 1 : -1) * (a[field].localeCompare(b[field]) || a.number - b.number),
        );
        const { page, link } = paginate(list.map(issue), query, path);
        return { status: 200, body: page satisfies IssueSchema[], headers: linkHeader(link) };
      },
    ],
    [
      "POST",
      /^\/repos\/([^/]+)\/([^/]+)\/issues$/,
      ({ params: [owner, repo], body }) => {
        const input = parse(IssuesCreateBody, body);
        if (isError(input)) return { status: 422, body: input };
        const at = now();
        const item = newItem(owner!, repo!, {
          kind: "issue",
          title: input.title,
          body: input.body ?? "",
          state: "open",
          labels: [...new Set(input.labels ?? [])],
          user: botLogin,
          createdAt: at,
          updatedAt: at,
          closedAt: null,
          mergedAt: null,
          head: null,
          base: null,
          draft: false,
        });
        return { status: 201, body: issue(item) };
      },
    ],
    [
      "PATCH",
      /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/,
      ({ params: [owner, repo, number], body }) => {
        const item = findItem(owner!, repo!, number!);
        if (!item) return { status: 404, body: notFound() };
        const input = parse(IssuesUpdateBody, body);
        if (isError(input)) return { status: 422, body: input };
        if (input.title !== undefined) item.title = input.title;
        if (input.body !== undefined) item.body = input.body;
        if (input.labels !== undefined) item.labels = [...new Set(input.labels)];
        if (input.state !== undefined) {
          item.state = input.state;
          item.closedAt = input.state === "closed" ? now() : null;
        }
        item.updatedAt = now();
        return { status: 200, body: issue(item) };
      },
    ],
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      ({ params: [owner, repo, number], query, path }) => {
        if (!findItem(owner!, repo!, number!)) return { status: 404, body: notFound() };
        const q = parse(CommentsListQuery, query);
        if (isError(q)) return { status: 422, body: q };
        const list = comments
          .filter((c) => key(c.owner, c.repo) === key(owner!, repo!) && c.item === Number(number))
          .map(comment);
        const { page, link } = paginate(list, query, path);
        return { status: 200, body: page, headers: linkHeader(link) };
      },
    ],
    [
      "POST",
      /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      ({ params: [owner, repo, number], body }) => {
        const item = findItem(owner!, repo!, number!);
        if (!item) return { status: 404, body: notFound() };
        const input = parse(CreateCommentBody, body);
        if (isError(input)) return { status: 422, body: input };
        const stored: StoredComment = {
          id: nextId++,
          item: item.number,
          owner: owner!,
          repo: repo!,
          body: input.body,
          user: botLogin,
          createdAt: now(),
        };
        comments.push(stored);
        return { status: 201, body: comment(stored) };
      },
    ],
    [
      "POST",
      /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/,
      ({ params: [owner, repo, number], body }) => {
        const item = findItem(owner!, repo!, number!);
        if (!item) return { status: 404, body: notFound() };
        const input = parse(AddLabelsBody, body);
        if (isError(input)) return { status: 422, body: input };
        item.labels = [...new Set([...item.labels, ...input.labels])];
        return { status: 200, body: labelObjects(owner!, repo!, item.labels) satisfies Label[] };
      },
    ],
    [
      "POST",
      /^\/app\/installations\/(\d+)\/access_tokens$/,
      ({ params: [id] }) => {
        if (!options.app || Number(id) !== options.app.installationId)
          return { status: 404, body: notFound() };
        const body: InstallationToken = {
          token: options.app.installationToken,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          repository_selection: "all",
        };
        return { status: 201, body };
      },
    ],
  ];

  const server = http.createServer((request, response) => {
    if (options.proxyGit && prefix !== "" && !(request.url ?? "/").startsWith(`${prefix}/`)) {
      const target = new URL(request.url ?? "/", options.git.url);
      const upstream = http.request(target, { method: request.method, headers: request.headers }, (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      });
      upstream.on("error", () => response.destroy());
      request.pipe(upstream);
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const method = request.method ?? "GET";
      const query = Object.fromEntries(url.searchParams.entries());
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const record: RecordedApiRequest = { method, path: url.pathname, query, body, status: 0 };
      requests.push(record);
      const reply = (status: number, payload: unknown, headers?: Record<string, string>) => {
        record.status = status;
        send(response, status, payload, headers);
      };
      if (!url.pathname.startsWith(`${prefix}/`)) return reply(404, notFound());
      const path = url.pathname.slice(prefix.length);
      if (!authenticate(request, path)) {
        return reply(401, {
          message: "Bad credentials",
          documentation_url: DOCS,
          status: "401",
        } satisfies BasicError);
      }
      const fault = faults.find((f) => f.left > 0 && f.method === method && f.path === path);
      if (fault) {
        fault.left -= 1;
        return reply(fault.status, fault.body ?? { message: "injected fault" }, fault.headers);
      }
      for (const [routeMethod, pattern, handler] of routes) {
        if (routeMethod !== method) continue;
        const match = pattern.exec(path);
        if (!match) continue;
        const [, owner, repo] = match;
        if (owner && repo && path.startsWith("/repos/") && !repos.has(key(owner, repo)))
          return reply(404, notFound());
        const result = handler({ params: match.slice(1), query, body, path: url.pathname });
        return reply(result.status, result.body, result.headers);
      }
      return reply(404, notFound());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: `${base}${prefix}`,
    requests,
    addRepository: (owner, repo) => void repos.add(key(owner, repo)),
    fault: (fault) => void faults.push({ ...fault, left: fault.times ?? 1 }),
    pulls: (owner, repo) =>
      items.filter((i) => i.kind === "pull" && key(i.owner, i.repo) === key(owner, repo)).map(pullFull),
    issues: (owner, repo) =>
      items.filter((i) => i.kind === "issue" && key(i.owner, i.repo) === key(owner, repo)).map(issue),
    comments: (owner, repo, number) =>
      comments.filter((c) => key(c.owner, c.repo) === key(owner, repo) && c.item === number).map(comment),
    seedPullRequest(owner, repo, seed) {
      const at = seed.createdAt ?? now();
      const closed = seed.state === "closed" || seed.merged === true;
      return newItem(owner, repo, {
        kind: "pull",
        title: seed.title ?? "seeded pull request",
        body: seed.body,
        state: closed ? "closed" : "open",
        labels: seed.labels ?? ["rollout-medic"],
        user: seed.user ?? botLogin,
        createdAt: at,
        updatedAt: at,
        closedAt: closed ? at : null,
        mergedAt: seed.merged ? at : null,
        head: seed.head,
        base: seed.base ?? "main",
        draft: false,
      }).number;
    },
    seedIssue(owner, repo, seed) {
      const at = now();
      return newItem(owner, repo, {
        kind: "issue",
        title: seed.title,
        body: seed.body,
        state: seed.state ?? "open",
        labels: seed.labels,
        user: botLogin,
        createdAt: at,
        updatedAt: at,
        closedAt: seed.state === "closed" ? at : null,
        mergedAt: null,
        head: null,
        base: null,
        draft: false,
      }).number;
    },
    closePullRequest(owner, repo, number, closeOptions = {}) {
      const item = findItem(owner, repo, String(number), "pull");
      if (!item) throw new Error(`no pull request #${number}`);
      item.state = "closed";
      item.closedAt = now();
      if (closeOptions.merged) item.mergedAt = item.closedAt;
    },
    closeIssue(owner, repo, number) {
      const item = findItem(owner, repo, String(number), "issue");
      if (!item) throw new Error(`no issue #${number}`);
      item.state = "closed";
      item.closedAt = now();
    },
    allText: () =>
      [
        ...items.flatMap((i) => [i.title, i.body, ...i.labels]),
        ...comments.map((c) => c.body),
        ...requests.map((r) => JSON.stringify(r)),
      ].join("\n"),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function linkHeader(link: string | null): Record<string, string> {
  return link ? { link } : {};
}

/** RS256 JWT as a GitHub App signs it: `iss` is the app id, valid for at most ten minutes. */
function verifyJwt(token: string, app: { appId: string; publicKeyPem: string }): boolean {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return false;
  const ok = verify(
    "RSA-SHA256",
    Buffer.from(`${header}.${payload}`),
    createPublicKey(app.publicKeyPem),
    Buffer.from(signature, "base64url"),
  );
  if (!ok) return false;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
    iss?: unknown;
    exp?: unknown;
    iat?: unknown;
  };
  const now = Math.floor(Date.now() / 1000);
  return (
    String(claims.iss) === app.appId &&
    typeof claims.exp === "number" &&
    claims.exp > now &&
    claims.exp - now <= 660
  );
}
