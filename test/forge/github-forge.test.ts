import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeError } from "../../agent/errors.js";
import { PullRequestExistsError } from "../../agent/forge/forge.js";
import { GitHubForge, gitHostForApi } from "../../agent/forge/github-forge.js";
import type { GitHubForgeOptions } from "../../agent/forge/github-forge.js";
import { startGitHubDouble } from "../helpers/github-double.js";
import type { GitHubDouble } from "../helpers/github-double.js";
import { startGitHttpServer } from "../helpers/git-http-server.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";

const TOKEN = "ghp_forgeContractToken0123456789";
const REPO = { owner: "acme", repo: "shop" };
const BOT = { name: "rollout-medic[bot]", email: "rollout-medic@users.noreply.github.com" };

let git: GitHttpServer;
let double: GitHubDouble;

function capture(): { logger: pino.Logger; lines: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines: () => lines };
}

function forge(overrides: Partial<GitHubForgeOptions> = {}, logger = capture().logger): GitHubForge {
  return new GitHubForge({
    apiUrl: double.url,
    auth: { kind: "token", token: TOKEN },
    logger,
    retryBaseMs: 5,
    rateLimitBaseMs: 20,
    throttling: false,
    ...overrides,
  });
}

beforeAll(async () => {
  git = await startGitHttpServer({ token: TOKEN });
  git.createRepository("acme", "shop", { "deploy/rollout.yaml": "kind: Rollout\n" });
  git.commit(
    "acme",
    "shop",
    "rollout-medic/shop/checkout-aaa",
    { "deploy/rollout.yaml": "kind: Rollout\n# fix\n" },
    {
      identity: BOT,
      message: "fix",
    },
  );
  double = await startGitHubDouble({ tokens: [TOKEN], git });
  double.addRepository("acme", "shop");
});

afterAll(async () => {
  await double.close();
  await git.close();
});

describe("GitHubForge against the GitHub double", () => {
  it("reads a branch head from the git server through the git/ref and git/commits endpoints", async () => {
    const head = await forge().findBranch(REPO, "rollout-medic/shop/checkout-aaa");
    const expected = git.readBranch("acme", "shop", "rollout-medic/shop/checkout-aaa")!;
    expect(head).toEqual({
      branch: "rollout-medic/shop/checkout-aaa",
      sha: expected.sha,
      tree: expected.tree,
      parents: expected.parents,
      author: BOT,
      committer: BOT,
      message: "fix",
    });
    expect(await forge().findBranch(REPO, "rollout-medic/none")).toBeNull();
  });

  it("creates, finds by head (state=all), updates and labels a pull request", async () => {
    const f = forge();
    const pr = await f.createPullRequest(REPO, {
      head: "rollout-medic/shop/checkout-aaa",
      base: "main",
      title: "fix(checkout): raise memory",
      body: "body one",
    });
    expect(pr).toMatchObject({
      state: "open",
      merged: false,
      head: "rollout-medic/shop/checkout-aaa",
      base: "main",
    });
    await f.addLabels(REPO, pr.number, ["rollout-medic", "category/oom-killed"]);
    const updated = await f.updatePullRequest(REPO, pr.number, { body: "body two" });
    expect(updated.body).toBe("body two");
    const listRequest = double.requests.findLast((r) => r.method === "GET" && r.path.endsWith("/pulls"));
    const found = await f.listPullRequestsForBranch(REPO, "rollout-medic/shop/checkout-aaa");
    expect(found.map((p) => p.number)).toEqual([pr.number]);
    expect(found[0]?.labels).toEqual(["rollout-medic", "category/oom-killed"]);
    const last = double.requests.findLast((r) => r.method === "GET" && r.path.endsWith("/pulls"));
    expect(last).not.toBe(listRequest);
    expect(last?.query).toMatchObject({ head: "acme:rollout-medic/shop/checkout-aaa", state: "all" });

    const bot = await f.listBotPullRequests(REPO, "rollout-medic");
    expect(bot.map((p) => p.number)).toContain(pr.number);
    expect(bot.find((p) => p.number === pr.number)).toMatchObject({
      merged: false,
      state: "open",
      head: null,
    });
  });

  it("turns 422 'A pull request already exists' into PullRequestExistsError", async () => {
    const error = await forge()
      .createPullRequest(REPO, {
        head: "rollout-medic/shop/checkout-aaa",
        base: "main",
        title: "again",
        body: "x",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullRequestExistsError);
    expect((error as PullRequestExistsError).status).toBe(422);
  });

  it("files, lists, updates and comments on issues; issue listing leaves pull requests out", async () => {
    const f = forge();
    const issue = await f.createIssue(REPO, {
      title: "Canary failed",
      body: "why",
      labels: ["rollout-medic", "needs-human"],
    });
    await f.updateIssue(REPO, issue.number, { body: "why, updated" });
    await f.addComment(REPO, issue.number, "failed again");
    const issues = await f.listIssues(REPO, "rollout-medic");
    expect(issues.map((i) => i.number)).toEqual([issue.number]);
    expect(issues[0]).toMatchObject({
      body: "why, updated",
      state: "open",
      labels: ["rollout-medic", "needs-human"],
    });
    expect((await f.listComments(REPO, issue.number)).map((c) => c.body)).toEqual(["failed again"]);
  });

  it("pages through labelled items with the Link header", async () => {
    double.addRepository("acme", "busy");
    for (let i = 0; i < 120; i++)
      double.seedIssue("acme", "busy", { title: `t${i}`, body: "b", labels: ["rollout-medic"] });
    const issues = await forge().listIssues({ owner: "acme", repo: "busy" }, "rollout-medic");
    expect(issues).toHaveLength(120);
    expect(issues[0]?.title).toBe("t119");
  });

  it("retries a 502 and succeeds", async () => {
    double.fault({ method: "GET", path: "/repos/acme/shop/pulls", status: 502, times: 1 });
    const before = double.requests.length;
    const found = await forge().listPullRequestsForBranch(REPO, "rollout-medic/shop/checkout-aaa");
    expect(found).toHaveLength(1);
    expect(double.requests.slice(before).map((r) => r.status)).toEqual([502, 200]);
  });

  it("gives up after the retries with a ForgeError that says to retry later", async () => {
    double.fault({ method: "GET", path: "/repos/acme/shop/issues", status: 503, times: 10 });
    const error = await forge({ retries: 2 })
      .listIssues(REPO, "rollout-medic")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as Error).message).toMatch(/GitHub failed \(503\).*try again later/);
    double.fault({ method: "GET", path: "/repos/acme/shop/issues", status: 200, times: 0 });
  });

  it("waits out a 403 secondary rate limit for its retry-after, then succeeds", async () => {
    const { logger, lines } = capture();
    double.fault({
      method: "POST",
      path: "/repos/acme/shop/issues",
      status: 403,
      body: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url: "https://docs.github.com/rest",
      },
      headers: { "retry-after": "3" },
    });
    const before = double.requests.length;
    const started = Date.now();
    const issue = await forge({ throttling: true, rateLimitBaseMs: 100 }, logger).createIssue(REPO, {
      title: "after a secondary limit",
      body: "b",
      labels: [],
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(issue.title).toBe("after a secondary limit");
    expect(double.requests.slice(before).map((r) => r.status)).toEqual([403, 201]);
    expect(lines().some((l) => l.includes("GitHub secondary rate limit reached"))).toBe(true);
  });

  it("reports an expired token (401) as a ForgeError naming GITHUB_TOKEN, never the token", async () => {
    const { logger, lines } = capture();
    const error = (await forge({ auth: { kind: "token", token: "ghp_expired000000000000" } }, logger)
      .listPullRequestsForBranch(REPO, "x")
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).status).toBe(401);
    expect(error.message).toMatch(/expired or revoked.*GITHUB_TOKEN/);
    expect(error.message).not.toContain("ghp_expired");
    expect(lines().join("\n")).not.toContain("ghp_expired");
  });

  it("answers 404 for an unknown repository with a hint about the mapping", async () => {
    const error = (await forge()
      .listIssues({ owner: "acme", repo: "nope" }, "rollout-medic")
      .catch((e: unknown) => e)) as Error;
    expect((error as ForgeError).status).toBe(404);
    expect(error.message).toMatch(/repository mapping/);
  });
});

describe("GitHub Enterprise and GitHub App authentication", () => {
  it("derives the git host from the API URL", () => {
    expect(gitHostForApi("https://api.github.com")).toBe("github.com");
    expect(gitHostForApi("https://ghe.example.com/api/v3")).toBe("ghe.example.com");
  });

  it("talks to an /api/v3 base URL as a GitHub App installation, and hands git the installation token", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const installationToken = "ghs_installationToken0123456789abcdef";
    const ghe = await startGitHubDouble({
      tokens: [],
      git,
      pathPrefix: "/api/v3",
      app: {
        appId: "4321",
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        installationId: 99,
        installationToken,
      },
    });
    try {
      ghe.addRepository("acme", "shop");
      const f = new GitHubForge({
        apiUrl: ghe.url,
        auth: {
          kind: "app",
          appId: "4321",
          privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          installationId: 99,
        },
        logger: capture().logger,
        throttling: false,
      });
      expect(f.description).toBe(`GitHub ${ghe.url}`);
      const issue = await f.createIssue(REPO, { title: "via app", body: "b", labels: ["rollout-medic"] });
      expect(issue.title).toBe("via app");
      expect(ghe.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        "POST /api/v3/app/installations/99/access_tokens 201",
        "POST /api/v3/repos/acme/shop/issues 201",
      ]);
      expect(await f.gitCredentials()()).toEqual({ username: "x-access-token", password: installationToken });
    } finally {
      await ghe.close();
    }
  });

  it("rejects an app whose key the server does not know with a 401 ForgeError", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ghe = await startGitHubDouble({
      tokens: [],
      git,
      app: {
        appId: "1",
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        installationId: 5,
        installationToken: "ghs_x1234567890",
      },
    });
    try {
      ghe.addRepository("acme", "shop");
      const f = new GitHubForge({
        apiUrl: ghe.url,
        auth: {
          kind: "app",
          appId: "1",
          privateKey: other.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          installationId: 5,
        },
        logger: capture().logger,
        throttling: false,
      });
      const error = await f.listIssues(REPO, "rollout-medic").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgeError);
      expect((error as ForgeError).status).toBe(401);
    } finally {
      await ghe.close();
    }
  });
});
