import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceError } from "../../agent/errors.js";
import {
  normalizeWorkspaceRel,
  readWorkspaceFile,
  resolveWorkspacePath,
  writeWorkspaceFile,
} from "../../agent/workspace/resolve-workspace-path.js";

let base: string;
let root: string;
let outside: string;

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), "rm-guard-"));
  root = path.join(base, "repo");
  outside = path.join(base, "outside");
  mkdirSync(path.join(root, "deploy"), { recursive: true });
  mkdirSync(path.join(root, ".git"), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(root, "deploy", "rollout.yaml"), "kind: Rollout\n");
  writeFileSync(path.join(root, ".git", "config"), "[core]\n");
  writeFileSync(path.join(outside, "secret.txt"), "top secret\n");
  symlinkSync(path.join(outside, "secret.txt"), path.join(root, "escape.txt"));
  symlinkSync(outside, path.join(root, "escape-dir"));
  symlinkSync("deploy/rollout.yaml", path.join(root, "inside-link.yaml"));
  symlinkSync(".git", path.join(root, "git-link"));
  symlinkSync("missing-target", path.join(root, "dangling"));
  writeFileSync(path.join(root, "big.bin"), Buffer.alloc(4096, 1));
  writeFileSync(path.join(root, "nul.txt"), Buffer.from([0x61, 0x00, 0x62]));
  execFileSync("mkfifo", [path.join(root, "pipe")]);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("normalizeWorkspaceRel", () => {
  it("normalizes harmless forms", () => {
    expect(normalizeWorkspaceRel("./deploy//rollout.yaml")).toBe("deploy/rollout.yaml");
  });

  it.each([
    ["", /empty/],
    ["../etc/passwd", /\.\./],
    ["deploy/../../x", /\.\./],
    ["/etc/passwd", /absolute/],
    ["C:/Windows/win.ini", /absolute/],
    ["deploy\\rollout.yaml", /backslash/],
    ["a\0b", /NUL/],
    [".git/config", /\.git/],
    ["sub/.git/config", /\.git/],
    [".GIT/config", /\.git/],
    [".", /root/],
  ])("refuses %j", (rel, reason) => {
    expect(() => normalizeWorkspaceRel(rel)).toThrow(WorkspaceError);
    expect(() => normalizeWorkspaceRel(rel)).toThrow(reason);
  });
});

describe("resolveWorkspacePath", () => {
  it("reads a plain file and a symlink that stays inside", async () => {
    expect(await readWorkspaceFile(root, "deploy/rollout.yaml", 1024)).toBe("kind: Rollout\n");
    expect(await readWorkspaceFile(root, "inside-link.yaml", 1024)).toBe("kind: Rollout\n");
  });

  it("refuses symlinks that lead outside the root or into .git", async () => {
    await expect(resolveWorkspacePath(root, "escape.txt", "read")).rejects.toThrow(/outside the repository/);
    await expect(resolveWorkspacePath(root, "escape-dir/secret.txt", "read")).rejects.toThrow(
      /outside the repository/,
    );
    await expect(resolveWorkspacePath(root, "git-link/config", "read")).rejects.toThrow(/\.git/);
    await expect(resolveWorkspacePath(root, "dangling", "read")).rejects.toThrow(/target is missing/);
  });

  it("never writes through a symlink, so nothing outside changes", async () => {
    await expect(writeWorkspaceFile(root, "escape.txt", "pwned")).rejects.toThrow(/symbolic link/);
    await expect(writeWorkspaceFile(root, "escape-dir/new.txt", "pwned")).rejects.toThrow(/symbolic link/);
    await expect(writeWorkspaceFile(root, "inside-link.yaml", "x")).rejects.toThrow(/symbolic link/);
    expect(readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("top secret\n");
    expect(existsSync(path.join(outside, "new.txt"))).toBe(false);
  });

  it("writes new files in new folders inside the root", async () => {
    expect(await writeWorkspaceFile(root, "new/dir/file.yaml", "a: 1\n")).toBe("new/dir/file.yaml");
    expect(readFileSync(path.join(root, "new/dir/file.yaml"), "utf8")).toBe("a: 1\n");
  });

  it("refuses files over the size cap, binary files, FIFOs and folders with a clear reason", async () => {
    await expect(readWorkspaceFile(root, "big.bin", 1024)).rejects.toThrow(
      /4096 bytes, more than the 1024-byte limit/,
    );
    await expect(readWorkspaceFile(root, "nul.txt", 1024)).rejects.toThrow(/binary/);
    await expect(readWorkspaceFile(root, "pipe", 1024)).rejects.toThrow(/not a regular file/);
    await expect(readWorkspaceFile(root, "deploy", 1024)).rejects.toThrow(/not a regular file/);
  });
});
