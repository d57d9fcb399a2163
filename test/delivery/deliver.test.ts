import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeError, LimitError } from "../../agent/errors.js";
import { DryRunForge } from "../../agent/forge/dry-run-forge.js";
import { exitCodeForOutcome } from "../../agent/delivery/delivery-outcome.js";
import { parseMetadataComment, renderMetadataComment } from "../../agent/render/pr-metadata.js";
import { silentLogger } from "../../agent/logger.js";
import { BOT, OWNER, TOKEN, startDeliveryHarness } from "./delivery-harness.js";
import type { DeliveryHarness } from "./delivery-harness.js";

const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");

let h: DeliveryHarness;
let repoCounter = 0;

/** Each test gets its own repository on both servers, seeded from a scenario's repo/. */
function freshRepo(scenario = "oom-killed"): string {
  const repo = `shop-${++repoCounter}`;
  h.seed(repo, scenario);
  return repo;
}

function botBody(key: string, rollout: { namespace: string; name: string }): string {
  return `seeded by the test\n\n${renderMetadataComment({
    schema: 1,
    key,
    namespace: rollout.namespace,
    name: rollout.name,
    category: "oom-killed",
    fixer: "oom-killed",
    fixerVersion: "0.1.0",
    bodyHash: "0".repeat(64),
  })}\n`;
}

function requestsTo(repo: string, method: string, suffix: string) {
  return h.github.requests.filter(
    (r) => r.method === method && r.path === `/repos/${OWNER}/${repo}${suffix}`,
  );
}

beforeAll(async () => {
  h = await startDeliveryHarness();
});

afterAll(async () => {
  // The token never reached a log line, a forge text (bodies, titles, comments, request records) or a clone's config.
  expect(h.logLines.length).toBeGreaterThan(0);
  const logs = h.logLines.join("\n");
  expect(logs).not.toContain(TOKEN);
  expect(logs).not.toContain(BASIC);
  expect(h.github.allText()).not.toContain(TOKEN);
  // Every run, the failed ones included, removed its temporary clone.
  expect(h.leftovers).toEqual([]);
  await h.close();
});

function gitConfigHasNoToken(root: string): void {
  const config = readFileSync(path.join(root, ".git", "config"), "utf8");
  expect(config).not.toContain(TOKEN);
  expect(config).not.toContain(BASIC);
}

describe("a verified fix becomes one pull request", () => {
  it("pushes the bot's branch and opens a labelled pull request with metadata", async () => {
    const repo = freshRepo();
    const { outcome, result } = await h.run({ repo, inspect: gitConfigHasNoToken });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "created", pushed: true });
    expect(exitCodeForOutcome(outcome)).toBe(0);
    const branch = result.pullRequest!.branch;
    expect(branch).toMatch(/^rollout-medic\/shop\/checkout-/);

    const head = h.git.readBranch(OWNER, repo, branch)!;
    expect(head).toMatchObject({ authorEmail: BOT.email, committerEmail: BOT.email });
    expect(head.message).toContain(`Rollout-Medic-Key: ${branch}`);
    expect(head.parents).toEqual([h.git.readBranch(OWNER, repo, "main")!.sha]);

    const [pr, ...others] = h.github.pulls(OWNER, repo);
    expect(others).toEqual([]);
    expect(pr).toMatchObject({
      state: "open",
      title: result.pullRequest!.title,
      head: { ref: branch },
      base: { ref: "main" },
    });
    expect(pr!.labels.map((l) => l.name)).toEqual(
      expect.arrayContaining(["rollout-medic", "category/oom-killed"]),
    );
    expect(parseMetadataComment(pr!.body)).toMatchObject({
      key: branch,
      namespace: "shop",
      name: "checkout",
      attempt: 1,
    });
    expect(h.git.branches(OWNER, repo)).toEqual(expect.arrayContaining(["main", branch]));
  });

  it("a second run for the same failure touches nothing: same branch, same pull request, no edit", async () => {
    const repo = freshRepo();
    await h.run({ repo });
    const before = h.git.readBranch(
      OWNER,
      repo,
      h.git.branches(OWNER, repo).find((b) => b !== "main")!,
    )!;
    const patches = requestsTo(repo, "PATCH", `/pulls/1`).length;
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({
      kind: "pull-request",
      action: "unchanged",
      pushed: false,
      pullRequest: { number: 1 },
    });
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
    expect(requestsTo(repo, "PATCH", `/pulls/1`)).toHaveLength(patches);
    expect(
      h.git.readBranch(OWNER, repo, before.sha ? h.git.branches(OWNER, repo).find((b) => b !== "main")! : "")
        ?.sha,
    ).toBe(before.sha);
  });

  it("a re-run whose body changed edits the pull request once, and whose base moved force-pushes its own branch", async () => {
    const repo = freshRepo();
    const first = await h.run({ repo });
    const branch = first.result.pullRequest!.branch;
    const oldHead = h.git.readBranch(OWNER, repo, branch)!;
    h.git.commit(OWNER, repo, "main", { "docs/NOTES.md": "unrelated change on main\n" });

    const edited = await h.run({
      repo,
      transform: (result) => ({
        ...result,
        pullRequest: {
          ...result.pullRequest!,
          body: result.pullRequest!.body.replace(
            "Nothing changes in the cluster",
            "Nothing at all changes in the cluster",
          ),
        },
      }),
    });
    expect(edited.outcome).toMatchObject({
      kind: "pull-request",
      action: "updated",
      pushed: true,
      pullRequest: { number: 1 },
    });
    const newHead = h.git.readBranch(OWNER, repo, branch)!;
    expect(newHead.sha).not.toBe(oldHead.sha);
    expect(newHead.parents).toEqual([h.git.readBranch(OWNER, repo, "main")!.sha]);
    expect(requestsTo(repo, "PATCH", "/pulls/1")).toHaveLength(1);
    expect(h.github.pulls(OWNER, repo)[0]!.body).toContain("Nothing at all changes");
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
  });

  it("respects a pull request a person closed without merging: no new one, one comment however often it runs", async () => {
    const repo = freshRepo();
    await h.run({ repo });
    h.github.closePullRequest(OWNER, repo, 1);
    const second = await h.run({ repo });
    const third = await h.run({ repo });
    for (const { outcome } of [second, third]) {
      expect(outcome).toMatchObject({ kind: "respected", reason: "closed-unmerged", item: { number: 1 } });
      expect(exitCodeForOutcome(outcome)).toBe(3);
    }
    expect(second.outcome).toMatchObject({ commented: true });
    expect(third.outcome).toMatchObject({ commented: false });
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
    expect(h.github.comments(OWNER, repo, 1)).toHaveLength(1);
    expect(requestsTo(repo, "POST", "/pulls")).toHaveLength(1);
  });

  it("does nothing more once this failure's pull request was merged", async () => {
    const repo = freshRepo();
    await h.run({ repo });
    h.github.closePullRequest(OWNER, repo, 1, { merged: true });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "respected", reason: "already-merged" });
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
  });

  it("stops pushing when a person committed on the bot's branch, and says so once", async () => {
    const repo = freshRepo();
    const first = await h.run({ repo });
    const branch = first.result.pullRequest!.branch;
    const human = h.git.commit(OWNER, repo, branch, { "deploy/rollout.yaml": "# tuned by hand\n" });
    h.git.commit(OWNER, repo, "main", { "docs/x.md": "x\n" });
    const second = await h.run({ repo });
    const third = await h.run({ repo });
    expect(second.outcome).toMatchObject({ kind: "respected", reason: "human-commit", commented: true });
    expect(third.outcome).toMatchObject({ kind: "respected", reason: "human-commit", commented: false });
    expect(h.git.readBranch(OWNER, repo, branch)?.sha).toBe(human);
    expect(h.github.comments(OWNER, repo, 1)).toHaveLength(1);
  });

  it("two runs for the same failure at the same moment end with one pull request", async () => {
    const repo = freshRepo();
    const [a, b] = await Promise.all([h.run({ repo }), h.run({ repo })]);
    const kinds = [a.outcome, b.outcome].map((o) => (o.kind === "pull-request" ? o.action : o.kind)).sort();
    expect(kinds[0]).toBe("created");
    expect(["unchanged", "updated"]).toContain(kinds[1]);
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
    expect(h.git.branches(OWNER, repo)).toHaveLength(2);
  });

  it("converges when GitHub answers 422 'already exists' because another run opened the pull request first", async () => {
    const repo = freshRepo();
    const first = await h.run({ repo });
    // The lookup misses the open pull request (as it would for a run that looked a moment earlier).
    h.github.fault({ method: "GET", path: `/repos/${OWNER}/${repo}/pulls`, status: 200, body: [], times: 1 });
    h.git.commit(OWNER, repo, "main", { "docs/y.md": "y\n" });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "updated", pullRequest: { number: 1 } });
    const creates = requestsTo(repo, "POST", "/pulls");
    expect(creates.map((r) => r.status)).toEqual([201, 422]);
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
    expect(h.git.branches(OWNER, repo)).toContain(first.result.pullRequest!.branch);
  });

  it("refuses in code to use the base branch as the pull request's branch", async () => {
    const repo = freshRepo();
    const error = await h
      .run({
        repo,
        transform: (result) => ({ ...result, pullRequest: { ...result.pullRequest!, branch: "main" } }),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitError);
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
    expect(h.github.pulls(OWNER, repo)).toEqual([]);
  });
});

describe("limits turn a new pull request into an issue", () => {
  const other = { namespace: "shop", name: "cart" };

  it("new pull requests per hour", async () => {
    const repo = freshRepo();
    h.github.seedPullRequest(OWNER, repo, {
      head: "rollout-medic/shop/cart-1",
      body: botBody("rollout-medic/shop/cart-1", other),
    });
    h.github.seedPullRequest(OWNER, repo, {
      head: "rollout-medic/shop/cart-2",
      body: botBody("rollout-medic/shop/cart-2", other),
      state: "closed",
    });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({
      kind: "limit",
      limit: "new-pull-requests-per-hour",
      issueAction: "created",
    });
    expect(exitCodeForOutcome(outcome)).toBe(4);
    expect(h.github.pulls(OWNER, repo)).toHaveLength(2);
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
    const [issue] = h.github.issues(OWNER, repo);
    expect(issue!.body).toMatch(
      /no pull request was opened: 2 rollout-medic pull requests were opened in this repository in the last hour/,
    );
    expect(issue!.labels.map((l) => (typeof l === "string" ? l : l.name))).toContain("rollout-medic");

    // Again: the same issue, untouched; still no pull request.
    const again = await h.run({ repo });
    expect(again.outcome).toMatchObject({
      kind: "limit",
      issueAction: "unchanged",
      issue: { number: issue!.number },
    });
    expect(h.github.issues(OWNER, repo)).toHaveLength(1);
  });

  it("open bot pull requests", async () => {
    const repo = freshRepo();
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    for (let i = 0; i < 5; i++) {
      h.github.seedPullRequest(OWNER, repo, {
        head: `rollout-medic/shop/svc${i}-x`,
        body: botBody(`rollout-medic/shop/svc${i}-x`, { namespace: "shop", name: `svc${i}` }),
        createdAt: twoHoursAgo,
      });
    }
    // A person's pull request with the label does not count.
    h.github.seedPullRequest(OWNER, repo, {
      head: "feature/x",
      body: "mine",
      user: "dana",
      createdAt: twoHoursAgo,
    });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "limit", limit: "open-pull-requests" });
    expect(h.github.pulls(OWNER, repo)).toHaveLength(6);
  });

  it("attempts per rollout, counted from the metadata of its earlier pull requests", async () => {
    const repo = freshRepo();
    const longAgo = new Date(Date.now() - 48 * 3600_000).toISOString();
    for (const hash of ["aaa", "bbb", "ccc"]) {
      const key = `rollout-medic/shop/checkout-${hash}`;
      h.github.seedPullRequest(OWNER, repo, {
        head: key,
        body: botBody(key, { namespace: "shop", name: "checkout" }),
        state: "closed",
        createdAt: longAgo,
      });
    }
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "limit", limit: "attempts-per-rollout" });
    expect(h.github.issues(OWNER, repo)[0]!.body).toMatch(
      /3 pull requests were already opened for earlier failures of shop\/checkout/,
    );
  });

  it("numbers the attempt in the metadata when under the limit", async () => {
    const repo = freshRepo();
    const longAgo = new Date(Date.now() - 48 * 3600_000).toISOString();
    const key = "rollout-medic/shop/checkout-old";
    h.github.seedPullRequest(OWNER, repo, {
      head: key,
      body: botBody(key, { namespace: "shop", name: "checkout" }),
      state: "closed",
      createdAt: longAgo,
    });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "created" });
    const created = h.github.pulls(OWNER, repo).find((p) => p.state === "open")!;
    expect(parseMetadataComment(created.body)?.attempt).toBe(2);
  });
});

describe("issue mode", () => {
  it("files one issue per rollout when there is no safe fix, and leaves it alone when nothing changed", async () => {
    const repo = freshRepo("config-missing");
    const first = await h.run({ scenario: "config-missing", repo });
    expect(first.outcome).toMatchObject({ kind: "issue", action: "created" });
    expect(exitCodeForOutcome(first.outcome)).toBe(2);
    const [issue] = h.github.issues(OWNER, repo);
    expect(issue!.title).toContain("payments");
    expect(parseMetadataComment(issue!.body)).toMatchObject({
      namespace: "payments",
      name: "payments",
      fixer: "none",
    });

    const second = await h.run({ scenario: "config-missing", repo });
    expect(second.outcome).toMatchObject({
      kind: "issue",
      action: "unchanged",
      issue: { number: issue!.number },
    });
    expect(requestsTo(repo, "PATCH", `/issues/${issue!.number}`)).toHaveLength(0);
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
  });

  it("updates the same issue for a new failure of the rollout and comments once", async () => {
    const repo = freshRepo("config-missing");
    await h.run({ scenario: "config-missing", repo });
    const newFailure = (
      result: Parameters<NonNullable<Parameters<DeliveryHarness["run"]>[0]>["transform"] & object>[0],
    ) => {
      const meta = parseMetadataComment(result.issue!.body)!;
      const body = result.issue!.body.replace(
        /<!-- rollout-medic:metadata [^>]*-->/,
        renderMetadataComment({
          ...meta,
          key: `${meta.key}-next`,
          revision: "53",
          bodyHash: meta.bodyHash.replace(/^./, "f"),
        }),
      );
      return {
        ...result,
        issue: {
          ...result.issue!,
          body: body.replace("but proposes no change", "but again proposes no change"),
        },
      };
    };
    const second = await h.run({ scenario: "config-missing", repo, transform: newFailure });
    const third = await h.run({ scenario: "config-missing", repo, transform: newFailure });
    expect(second.outcome).toMatchObject({ kind: "issue", action: "updated" });
    expect(h.github.issues(OWNER, repo)).toHaveLength(1);
    expect(h.github.comments(OWNER, repo, 1)).toHaveLength(1);
    expect(h.github.comments(OWNER, repo, 1)[0]!.body).toContain("failed again (revision 53)");
    expect(third.outcome).toMatchObject({ kind: "issue" });
    expect(h.github.comments(OWNER, repo, 1)).toHaveLength(1);
  });

  it("does not reopen or refile an issue a person closed for this very failure", async () => {
    const repo = freshRepo("config-missing");
    await h.run({ scenario: "config-missing", repo });
    h.github.closeIssue(OWNER, repo, 1);
    const { outcome } = await h.run({ scenario: "config-missing", repo });
    expect(outcome).toMatchObject({ kind: "respected", reason: "issue-closed" });
    expect(h.github.issues(OWNER, repo)).toHaveLength(1);
  });
});

describe("faults", () => {
  it("502 then success: the pull request is opened once", async () => {
    const repo = freshRepo();
    h.github.fault({ method: "POST", path: `/repos/${OWNER}/${repo}/pulls`, status: 502, times: 1 });
    const { outcome } = await h.run({ repo });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "created" });
    expect(requestsTo(repo, "POST", "/pulls").map((r) => r.status)).toEqual([502, 201]);
    expect(h.github.pulls(OWNER, repo)).toHaveLength(1);
  });

  it("403 secondary rate limit with retry-after: waits, then opens the pull request once", async () => {
    const repo = freshRepo();
    h.github.fault({
      method: "POST",
      path: `/repos/${OWNER}/${repo}/pulls`,
      status: 403,
      body: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url: "https://docs.github.com/rest",
      },
      headers: { "retry-after": "2" },
    });
    const started = Date.now();
    const { outcome } = await h.run({ repo, forge: h.forge({ throttling: true, rateLimitBaseMs: 200 }) });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "created" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(requestsTo(repo, "POST", "/pulls").map((r) => r.status)).toEqual([403, 201]);
    expect(h.logLines.some((l) => l.includes("GitHub secondary rate limit reached"))).toBe(true);
  });

  it("a push the server rejects (non-fast-forward) leaves the pull request as it was", async () => {
    const repo = freshRepo();
    const first = await h.run({ repo });
    const branch = first.result.pullRequest!.branch;
    const before = h.git.readBranch(OWNER, repo, branch)!.sha;
    const body = h.github.pulls(OWNER, repo)[0]!.body;
    h.git.git(OWNER, repo, ["config", "receive.denyNonFastForwards", "true"]);
    h.git.commit(OWNER, repo, "main", { "docs/z.md": "z\n" });
    const error = await h
      .run({
        repo,
        transform: (result) => ({
          ...result,
          pullRequest: { ...result.pullRequest!, body: `${result.pullRequest!.body}\nchanged` },
        }),
      })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as Error).message).toMatch(/rejected the push/);
    expect(h.git.readBranch(OWNER, repo, branch)!.sha).toBe(before);
    expect(h.github.pulls(OWNER, repo)[0]!.body).toBe(body);
    expect(requestsTo(repo, "PATCH", "/pulls/1")).toHaveLength(0);
  });

  it("an expired token (401) stops the run before anything is pushed or opened, and never shows the token", async () => {
    const repo = freshRepo();
    const expired = "ghs_expiredDeliveryToken000000000000";
    const error = await h
      .run({ repo, forge: h.forge({ auth: { kind: "token", token: expired } }) })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).status).toBe(401);
    expect((error as Error).message).not.toContain(expired);
    expect(h.logLines.join("\n")).not.toContain(expired);
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
    expect(h.github.pulls(OWNER, repo)).toEqual([]);
  });

  it("when the pull request cannot be opened after the push, the new branch is deleted again", async () => {
    const repo = freshRepo();
    h.github.fault({ method: "POST", path: `/repos/${OWNER}/${repo}/pulls`, status: 500, times: 10 });
    const error = await h.run({ repo }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ForgeError);
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
    expect(h.github.pulls(OWNER, repo)).toEqual([]);
    h.github.fault({ method: "POST", path: `/repos/${OWNER}/${repo}/pulls`, status: 500, times: 0 });
  });
});

describe("dry run", () => {
  it("plans the first-time path, prints DRY-RUN lines and writes nothing anywhere", async () => {
    const repo = freshRepo();
    const lines: string[] = [];
    const forge = new DryRunForge(silentLogger(), (line) => lines.push(line));
    const pullsBefore = h.github.requests.length;
    const { outcome } = await h.run({ repo, forge });
    expect(outcome).toMatchObject({ kind: "pull-request", action: "created", pullRequest: { number: 0 } });
    expect(forge.actions.map((a) => a.action)).toEqual(["push-branch", "create-pull-request", "add-labels"]);
    expect(lines[0]).toMatch(
      /^DRY-RUN: would push branch rollout-medic\/shop\/checkout-.* \(1 changed file\(s\): deploy\/rollout.yaml\)/,
    );
    expect(lines[1]).toMatch(
      /^DRY-RUN: would create PR ".*" from rollout-medic\/shop\/checkout-.* into main in acme\//,
    );
    expect(h.git.branches(OWNER, repo)).toEqual(["main"]);
    expect(h.github.requests.length).toBe(pullsBefore);
  });
});
