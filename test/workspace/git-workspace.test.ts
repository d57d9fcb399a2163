import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LimitError } from "../../agent/errors.js";
import { createWorkspaceFromDirectory } from "../../agent/workspace/create-workspace-from-directory.js";
import type { Workspace } from "../../agent/workspace/workspace.js";

const GIT_ENV = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

let base: string;
let repo: string;
let workspace: Workspace | null;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), "rm-ws-"));
  repo = path.join(base, "repo");
  mkdirSync(path.join(repo, "deploy"), { recursive: true });
  mkdirSync(path.join(repo, ".git"), { recursive: true });
  writeFileSync(path.join(repo, ".git", "HEAD"), "not a real repository\n");
  writeFileSync(
    path.join(repo, "deploy", "rollout.yaml"),
    "# comment\nkind: Rollout\nspec:\n  replicas: 2\n",
  );
  writeFileSync(path.join(repo, "README.md"), "# app\n");
  writeFileSync(path.join(repo, ".gitignore"), "*.log\n");
  writeFileSync(path.join(repo, "debug.log"), "ignored\n");
  writeFileSync(path.join(base, "outside.txt"), "outside\n");
  symlinkSync("../outside.txt", path.join(repo, "link-out"));
  workspace = null;
});

afterEach(async () => {
  await workspace?.dispose();
  rmSync(base, { recursive: true, force: true });
});

describe("createWorkspaceFromDirectory", () => {
  it("copies the tree into a fresh git working copy, links as links, without the source's .git", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    expect(workspace.root).not.toBe(repo);
    expect(workspace.baseRevision).toMatch(/^[0-9a-f]{40}$/);
    const link = path.join(workspace.root, "link-out");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("../outside.txt");
    expect(readFileSync(path.join(workspace.root, ".git", "HEAD"), "utf8")).toMatch(
      /^ref: refs\/heads\/main/,
    );
    const log = execFileSync("git", ["log", "--format=%an <%ae>|%s"], {
      cwd: workspace.root,
      env: GIT_ENV,
    }).toString();
    expect(log).toMatch(
      /^rollout-medic\[bot\] <rollout-medic@users\.noreply\.github\.com>\|rollout-medic: failing revision/,
    );
  });

  it("lists repository files, filtered by globs, never .git or ignored files", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    const all = await workspace.listFiles();
    expect(all).toEqual([".gitignore", "README.md", "deploy/rollout.yaml", "link-out"]);
    expect(await workspace.listFiles(["**/*.yaml"])).toEqual(["deploy/rollout.yaml"]);
  });

  it("reads and writes through the guard", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    expect(await workspace.readFile("deploy/rollout.yaml")).toContain("replicas: 2");
    await expect(workspace.readFile("link-out")).rejects.toThrow(/outside the repository/);
    await expect(workspace.writeFile("../escape.txt", "x")).rejects.toThrow(/\.\./);
    await expect(workspace.writeFile(".git/config", "x")).rejects.toThrow(/\.git/);
    expect(await workspace.exists("deploy/rollout.yaml")).toBe(true);
    expect(await workspace.exists("link-out")).toBe(false);
    expect(await workspace.exists("nope.yaml")).toBe(false);
  });

  it("diffs like git diff, and the diff applies to the original repository", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    expect(await workspace.diff()).toBe("");
    await workspace.writeFile("deploy/rollout.yaml", "# comment\nkind: Rollout\nspec:\n  replicas: 3\n");
    await workspace.writeFile("deploy/new.yaml", "a: 1\n");
    const diff = await workspace.diff();
    expect(diff).toContain("diff --git a/deploy/rollout.yaml b/deploy/rollout.yaml\n");
    expect(diff).toContain("--- a/deploy/rollout.yaml\n+++ b/deploy/rollout.yaml\n");
    expect(diff).toContain("-  replicas: 2\n+  replicas: 3\n");
    expect(diff).toContain("--- /dev/null\n+++ b/deploy/new.yaml\n");
    expect(await workspace.changedFiles()).toEqual(["deploy/new.yaml", "deploy/rollout.yaml"]);
    expect(await workspace.readBaseFile("deploy/rollout.yaml")).toContain("replicas: 2");
    expect(await workspace.readBaseFile("deploy/new.yaml")).toBeNull();

    // `git apply` on a pristine copy of the original reproduces the change.
    const check = path.join(base, "check");
    mkdirSync(check);
    execFileSync("cp", ["-a", `${repo}/.`, check]);
    rmSync(path.join(check, ".git"), { recursive: true });
    writeFileSync(path.join(base, "fix.patch"), diff);
    execFileSync("git", ["apply", "--check", path.join(base, "fix.patch")], { cwd: check, env: GIT_ENV });
    execFileSync("git", ["apply", path.join(base, "fix.patch")], { cwd: check, env: GIT_ENV });
    expect(readFileSync(path.join(check, "deploy/rollout.yaml"), "utf8")).toContain("replicas: 3");
  });

  it("counts a written file even where .gitignore would hide it", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    await workspace.writeFile("notes.log", "kept\n");
    expect(await workspace.changedFiles()).toEqual(["notes.log"]);
  });

  it("resets to the failing revision and disposes of its folder", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    await workspace.writeFile("deploy/rollout.yaml", "changed\n");
    await workspace.writeFile("deploy/extra.yaml", "x: 1\n");
    await workspace.reset();
    expect(await workspace.diff()).toBe("");
    expect(await workspace.exists("deploy/extra.yaml")).toBe(false);
    const root = workspace.root;
    await workspace.dispose();
    await workspace.dispose();
    expect(existsSync(root)).toBe(false);
    await expect(workspace.readFile("README.md")).rejects.toThrow(/disposed/);
    workspace = null;
  });

  it("consults the write guard before every write", async () => {
    workspace = await createWorkspaceFromDirectory(repo, {
      writeGuard: (rel) =>
        rel.startsWith("deploy/") ? { ok: true } : { ok: false, reason: "outside deploy/" },
    });
    await workspace.writeFile("deploy/rollout.yaml", "ok: true\n");
    await expect(workspace.writeFile("README.md", "x")).rejects.toThrow(LimitError);
    expect(await workspace.changedFiles()).toEqual(["deploy/rollout.yaml"]);
  });

  it("refuses a path that is not a folder", async () => {
    await expect(createWorkspaceFromDirectory(path.join(base, "outside.txt"))).rejects.toThrow(
      /not a folder/,
    );
  });
});
