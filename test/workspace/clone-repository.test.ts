import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ForgeError, LimitError, WorkspaceError } from "../../agent/errors.js";
import { cloneRepository, staticCredentials } from "../../agent/workspace/clone-repository.js";
import type { CloneRepositoryOptions } from "../../agent/workspace/clone-repository.js";
import { GITHUB_TOKEN_USERNAME } from "../../agent/workspace/git-credentials.js";
import type { RemoteWorkspace } from "../../agent/workspace/git-remote-workspace.js";
import { DEFAULT_GIT_PATH } from "../../agent/workspace/git-workspace.js";
import { createGitArgvRecorder, startGitHttpServer } from "../helpers/git-http-server.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";

const TOKEN = "ghs_cloneTestToken0123456789abcdefXYZ";
const BASIC = Buffer.from(`${GITHUB_TOKEN_USERNAME}:${TOKEN}`).toString("base64");
const BOT = { name: "rollout-medic[bot]", email: "rollout-medic@users.noreply.github.com" };
const ROLLOUT = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: checkout\n";

let server: GitHttpServer;
let tempParent: string;
const opened: RemoteWorkspace[] = [];

beforeAll(async () => {
  server = await startGitHttpServer({ token: TOKEN });
  server.createRepository("acme", "shop", { "deploy/rollout.yaml": ROLLOUT, "README.md": "shop\n" });
  // Enough history for --depth to matter.
  for (let i = 1; i <= 5; i++) server.commit("acme", "shop", "main", { [`docs/${i}.md`]: `${i}\n` });
  server.commit(
    "acme",
    "shop",
    "release",
    { "deploy/rollout.yaml": `${ROLLOUT}# release\n` },
    { from: "main" },
  );
  server.git("acme", "shop", ["tag", "v1.0.0", "main"]);
});

afterAll(async () => {
  await server.close();
});

afterEach(async () => {
  for (const workspace of opened.splice(0)) await workspace.dispose();
  if (tempParent) rmSync(tempParent, { recursive: true, force: true });
});

function newTempParent(): string {
  tempParent = mkdtempSync(path.join(tmpdir(), "rm-clone-parent-"));
  return tempParent;
}

async function clone(overrides: Partial<CloneRepositoryOptions> = {}): Promise<RemoteWorkspace> {
  const workspace = await cloneRepository({
    url: server.repoUrl("acme", "shop"),
    credentials: staticCredentials({ username: GITHUB_TOKEN_USERNAME, password: TOKEN }),
    protocols: ["http"],
    tempParent: newTempParent(),
    ...overrides,
  });
  opened.push(workspace);
  return workspace;
}

function git(root: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd: root,
    env: { PATH: DEFAULT_GIT_PATH, HOME: root, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    encoding: "utf8",
  }).trim();
}

describe("cloneRepository", () => {
  it("makes a partial, shallow clone of the default branch over smart HTTP with the token", async () => {
    const workspace = await clone({ depth: 2 });
    expect(workspace.remote).toEqual({
      url: server.repoUrl("acme", "shop"),
      baseBranch: "main",
      defaultBranch: "main",
    });
    expect(await workspace.readFile("deploy/rollout.yaml")).toBe(ROLLOUT);
    expect(git(workspace.root, ["rev-parse", "--is-shallow-repository"])).toBe("true");
    expect(git(workspace.root, ["config", "remote.origin.partialclonefilter"])).toBe("blob:none");
    expect(Number(git(workspace.root, ["rev-list", "--count", "HEAD"]))).toBe(2);
    expect(workspace.baseRevision).toBe(server.readBranch("acme", "shop", "main")?.sha);
    const used = server.requests.filter((r) => r.service === "git-upload-pack");
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((r) => r.authenticated)).toBe(true);
  });

  it("keeps the token out of .git/config, the remote URL and every spawned argv", async () => {
    const recorder = createGitArgvRecorder();
    try {
      const workspace = await clone({ gitPath: `${recorder.dir}:${DEFAULT_GIT_PATH}` });
      const config = readFileSync(path.join(workspace.root, ".git", "config"), "utf8");
      expect(config).not.toContain(TOKEN);
      expect(config).not.toContain(BASIC);
      expect(config.toLowerCase()).not.toContain("extraheader");
      expect(git(workspace.root, ["remote", "get-url", "origin"])).toBe(server.repoUrl("acme", "shop"));

      await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}# fixed\n`);
      const commit = await workspace.commitChanges({ message: "fix", author: BOT });
      expect(
        await workspace.pushBranch({
          branch: "rollout-medic/shop/argv",
          commit: commit!,
          expectedRemoteSha: null,
        }),
      ).toEqual({
        status: "pushed",
        sha: commit!.sha,
      });

      const calls = recorder.calls();
      expect(calls.map((argv) => argv[0])).toEqual(expect.arrayContaining(["clone", "push"]));
      for (const argv of calls) {
        const joined = argv.join(" ");
        expect(joined).not.toContain(TOKEN);
        expect(joined).not.toContain(BASIC);
      }
      expect(readFileSync(path.join(workspace.root, ".git", "config"), "utf8")).not.toContain(TOKEN);
    } finally {
      recorder.cleanup();
    }
  });

  it("clones a named base branch, and refuses a base that is a tag or missing", async () => {
    const workspace = await clone({ baseBranch: "release" });
    expect(workspace.remote.baseBranch).toBe("release");
    expect(workspace.remote.defaultBranch).toBe("main");
    expect(await workspace.readFile("deploy/rollout.yaml")).toContain("# release");

    for (const base of ["v1.0.0", "nope"]) {
      const parent = newTempParent();
      await expect(
        cloneRepository({
          url: server.repoUrl("acme", "shop"),
          baseBranch: base,
          credentials: staticCredentials({ username: GITHUB_TOKEN_USERNAME, password: TOKEN }),
          protocols: ["http"],
          tempParent: parent,
        }),
      ).rejects.toThrow(/has no branch .*the base must be a branch/);
      expect(readdirSync(parent)).toEqual([]);
    }
  });

  it("makes a full clone on request", async () => {
    const workspace = await clone({ mode: "full" });
    expect(git(workspace.root, ["rev-parse", "--is-shallow-repository"])).toBe("false");
    expect(() => git(workspace.root, ["config", "remote.origin.partialclonefilter"])).toThrow();
    expect(Number(git(workspace.root, ["rev-list", "--count", "HEAD"]))).toBe(6);
  });

  it.each([
    ["without a token", null],
    ["with a wrong token", { username: GITHUB_TOKEN_USERNAME, password: "ghs_wrongToken" }],
  ])(
    "answers 401 %s: a ForgeError naming the fix, no token in it, the temp folder removed",
    async (_label, credentials) => {
      const parent = newTempParent();
      const before = server.requests.length;
      const error = await cloneRepository({
        url: server.repoUrl("acme", "shop"),
        credentials: staticCredentials(credentials),
        protocols: ["http"],
        tempParent: parent,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgeError);
      expect((error as ForgeError).status).toBe(401);
      expect((error as Error).message).toMatch(/rejected the credentials.*GITHUB_TOKEN/);
      expect((error as Error).message).not.toContain("ghs_wrongToken");
      expect(server.requests.slice(before).some((r) => r.status === 401)).toBe(true);
      expect(readdirSync(parent)).toEqual([]);
    },
  );

  it("refuses URLs with credentials in them and plain http unless allowed", async () => {
    await expect(
      cloneRepository({
        url: `http://x-access-token:${TOKEN}@127.0.0.1:1/acme/shop.git`,
        protocols: ["http"],
      }),
    ).rejects.toThrow(WorkspaceError);
    const error = (await cloneRepository({
      url: `http://x-access-token:${TOKEN}@127.0.0.1:1/a/b.git`,
      protocols: ["http"],
    }).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(TOKEN);
    await expect(cloneRepository({ url: server.repoUrl("acme", "shop") })).rejects.toThrow(
      /only https URLs are allowed/,
    );
  });

  it("falls back to a blob-less clone without --depth when the server breaks shallow fetches", async () => {
    server.createRepository("acme", "refinwant", { "a.yaml": "a: 1\n" });
    server.git("acme", "refinwant", ["config", "uploadpack.allowRefInWant", "true"]);
    const workspace = await clone({ url: server.repoUrl("acme", "refinwant"), depth: 1 });
    expect(await workspace.readFile("a.yaml")).toBe("a: 1\n");
    expect(git(workspace.root, ["rev-parse", "--is-shallow-repository"])).toBe("false");
  });

  it("removes the temporary folder on dispose", async () => {
    const workspace = await clone();
    const root = workspace.root;
    expect(existsSync(root)).toBe(true);
    await workspace.dispose();
    await workspace.dispose();
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(tempParent)).toEqual([]);
  });
});

describe("pushing a bot branch", () => {
  it("commits as the bot without moving HEAD, and pushes with a lease", async () => {
    const workspace = await clone();
    expect(await workspace.commitChanges({ message: "nothing", author: BOT })).toBeNull();
    await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}# memory 512Mi\n`);
    const commit = await workspace.commitChanges({ message: "fix(checkout): raise memory", author: BOT });
    expect(commit).not.toBeNull();
    expect(git(workspace.root, ["rev-parse", "HEAD"])).toBe(workspace.baseRevision);
    expect(await workspace.diff()).toContain("+# memory 512Mi");

    const branch = "rollout-medic/shop/checkout-abc123";
    expect(await workspace.pushBranch({ branch, commit: commit!, expectedRemoteSha: null })).toEqual({
      status: "pushed",
      sha: commit!.sha,
    });
    const remote = server.readBranch("acme", "shop", branch)!;
    expect(remote).toMatchObject({
      sha: commit!.sha,
      tree: commit!.tree,
      authorEmail: BOT.email,
      committerEmail: BOT.email,
    });
    expect(remote.parents).toEqual([workspace.baseRevision]);

    // Pushing the same commit again is a no-op; another commit expecting no branch loses the lease.
    expect(await workspace.pushBranch({ branch, commit: commit!, expectedRemoteSha: null })).toMatchObject({
      status: "pushed",
    });
    await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}# memory 640Mi\n`);
    const other = (await workspace.commitChanges({ message: "other run", author: BOT }))!;
    expect(await workspace.pushBranch({ branch, commit: other, expectedRemoteSha: null })).toMatchObject({
      status: "stale",
    });
    expect(server.readBranch("acme", "shop", branch)?.sha).toBe(commit!.sha);

    // With the right lease the bot replaces its own commit (a forced update).
    await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}# memory 768Mi\n`);
    const second = await workspace.commitChanges({
      message: "fix(checkout): raise memory more",
      author: BOT,
    });
    expect(await workspace.pushBranch({ branch, commit: second!, expectedRemoteSha: commit!.sha })).toEqual({
      status: "pushed",
      sha: second!.sha,
    });
    expect(server.readBranch("acme", "shop", branch)?.sha).toBe(second!.sha);

    expect(await workspace.deleteRemoteBranch({ branch, expectedRemoteSha: commit!.sha })).toMatchObject({
      status: "stale",
    });
    expect(await workspace.deleteRemoteBranch({ branch, expectedRemoteSha: second!.sha })).toMatchObject({
      status: "pushed",
    });
    expect(server.branches("acme", "shop")).not.toContain(branch);
  });

  it("refuses the base branch, the default branch and foreign branches before git runs", async () => {
    const recorder = createGitArgvRecorder();
    try {
      const workspace = await clone({
        baseBranch: "release",
        gitPath: `${recorder.dir}:${DEFAULT_GIT_PATH}`,
      });
      await workspace.writeFile("x.yaml", "x: 1\n");
      const commit = (await workspace.commitChanges({ message: "x", author: BOT }))!;
      for (const branch of [
        "release",
        "main",
        "feature/x",
        "rollout-medic/",
        "rollout-medic/--force",
        "rollout-medic/a..b",
      ]) {
        const attempt = workspace.pushBranch({ branch, commit, expectedRemoteSha: null });
        if (branch === "rollout-medic/--force") {
          // A leading dash inside a path segment is harmless to git but still not a name rollout-medic makes.
          await attempt.catch(() => undefined);
          continue;
        }
        await expect(attempt).rejects.toBeInstanceOf(LimitError);
      }
      expect(
        recorder
          .calls()
          .filter(
            (argv) =>
              argv[0] === "push" &&
              !argv.join(" ").includes("--force-with-lease=refs/heads/rollout-medic/--force"),
          ),
      ).toEqual([]);
      expect(server.readBranch("acme", "shop", "release")?.message).not.toBe("x");
    } finally {
      recorder.cleanup();
    }
  });

  it("reports a push the server rejects (non-fast-forward policy) as rejected", async () => {
    server.createRepository("acme", "strict", { "a.yaml": "a: 1\n" });
    server.git("acme", "strict", ["config", "receive.denyNonFastForwards", "true"]);
    const workspace = await clone({ url: server.repoUrl("acme", "strict") });
    await workspace.writeFile("a.yaml", "a: 2\n");
    const first = (await workspace.commitChanges({ message: "one", author: BOT }))!;
    const branch = "rollout-medic/ns/strict-1";
    expect((await workspace.pushBranch({ branch, commit: first, expectedRemoteSha: null })).status).toBe(
      "pushed",
    );
    await workspace.writeFile("a.yaml", "a: 3\n");
    const second = (await workspace.commitChanges({ message: "two", author: BOT }))!;
    const result = await workspace.pushBranch({ branch, commit: second, expectedRemoteSha: first.sha });
    expect(result.status).toBe("rejected");
    expect(server.readBranch("acme", "strict", branch)?.sha).toBe(first.sha);
  });

  it("turns an expired token at push time into a ForgeError without the token", async () => {
    let token = TOKEN;
    const workspace = await clone({
      credentials: async () => ({ username: GITHUB_TOKEN_USERNAME, password: token }),
    });
    await workspace.writeFile("deploy/rollout.yaml", `${ROLLOUT}# y\n`);
    const commit = (await workspace.commitChanges({ message: "y", author: BOT }))!;
    token = "ghs_expiredToken0000000000";
    const error = (await workspace
      .pushBranch({ branch: "rollout-medic/shop/expired", commit, expectedRemoteSha: null })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ForgeError);
    expect(error.message).toMatch(/rejected the credentials/);
    expect(error.message).not.toContain(token);
    expect(server.branches("acme", "shop")).not.toContain("rollout-medic/shop/expired");
  });
});
