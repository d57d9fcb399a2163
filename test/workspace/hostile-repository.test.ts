import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../agent/config.js";
import { proposeFix } from "../../agent/playbooks/propose-fix.js";
import { createWorkspaceFromDirectory } from "../../agent/workspace/create-workspace-from-directory.js";
import { locateWorkload } from "../../agent/workspace/locate-workload.js";
import type { Workspace } from "../../agent/workspace/workspace.js";
import { diagnosisOf, incidentOf, oomPods } from "../playbooks/incident-factory.js";
import { rolloutYaml } from "./repo-builder.js";

const config = loadConfig({});

function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const name = String.fromCharCode(97 + i);
    lines.push(
      `${name}: &${name} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(",")}]`,
    );
  }
  return `apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: app\n${lines.join("\n")}\n`;
}

let base: string;
let repo: string;
let outside: string;
let workspace: Workspace | null = null;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), "rm-hostile-"));
  repo = path.join(base, "repo");
  outside = path.join(base, "outside");
  mkdirSync(path.join(repo, "deploy"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(
    path.join(repo, "deploy", "rollout.yaml"),
    rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
  );
  // A symlink out of the repository, to a file that would even match the Rollout.
  writeFileSync(
    path.join(outside, "rollout.yaml"),
    rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
  );
  symlinkSync(path.join(outside, "rollout.yaml"), path.join(repo, "deploy", "linked-rollout.yaml"));
  symlinkSync(outside, path.join(repo, "deploy", "linked-dir"));
  // A link inside the repository: its target is the candidate, never the (unwritable) link.
  symlinkSync("rollout.yaml", path.join(repo, "deploy", "alias.yaml"));
  // A 50 MB file, sparse so the test stays fast.
  writeFileSync(path.join(repo, "deploy", "huge.yaml"), "");
  truncateSync(path.join(repo, "deploy", "huge.yaml"), 50 * 1024 * 1024);
  writeFileSync(path.join(repo, "deploy", "bomb.yaml"), aliasBomb());
  writeFileSync(
    path.join(repo, "deploy", "db-secret.yaml"),
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n",
  );
  writeFileSync(path.join(repo, "deploy", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
});

afterEach(async () => {
  await workspace?.dispose();
  workspace = null;
  rmSync(base, { recursive: true, force: true });
});

const incident = () =>
  incidentOf({
    containers: [{ name: "app", image: "x/app:2", limits: { memory: "256Mi" } }],
    pods: oomPods(),
  });

describe("a hostile repository", () => {
  it("refuses each hostile file with a clear reason and still locates the real Rollout", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    const result = await locateWorkload(workspace, incident().rollout);
    expect(result.workload?.root).toBe("deploy/rollout.yaml");
    const notes = result.notes.join("\n");
    expect(notes).toMatch(/deploy\/linked-rollout\.yaml: skipped: .*symbolic link.*outside the repository/);
    expect(notes).toMatch(/deploy\/huge\.yaml: skipped: .*52428800 bytes, more than the 2097152-byte limit/);
    expect(notes).toMatch(/deploy\/bomb\.yaml: skipped: .*alias/i);
    expect(notes).toMatch(/deploy\/alias\.yaml: skipped: symbolic link inside the repository/);
    await expect(workspace.readFile("deploy/linked-dir/rollout.yaml")).rejects.toThrow(
      /outside the repository/,
    );
  });

  it("fixes the real Rollout and writes nothing outside the workspace", async () => {
    const before = readFileSync(path.join(outside, "rollout.yaml"), "utf8");
    workspace = await createWorkspaceFromDirectory(repo);
    const { fix, noFix } = await proposeFix({
      workspace,
      incident: incident(),
      diagnosis: diagnosisOf("oom-killed"),
      config,
    });
    expect(noFix).toBeNull();
    expect(fix?.files).toEqual(["deploy/rollout.yaml"]);
    await expect(workspace.writeFile("deploy/linked-rollout.yaml", "x")).rejects.toThrow(/symbolic link/);
    await expect(workspace.writeFile("deploy/linked-dir/new.yaml", "x")).rejects.toThrow(/symbolic link/);
    expect(readFileSync(path.join(outside, "rollout.yaml"), "utf8")).toBe(before);
    expect(readFileSync(path.join(repo, "deploy", "rollout.yaml"), "utf8")).toContain("memory: 256Mi");
  });

  it("refuses a fix whose file is named like a secret, and undoes it", async () => {
    rmSync(path.join(repo, "deploy", "rollout.yaml"));
    writeFileSync(
      path.join(repo, "deploy", "app-secrets.yaml"),
      rolloutYaml({ name: "app", namespace: "shop", image: "x/app:2" }),
    );
    workspace = await createWorkspaceFromDirectory(repo);
    const { fix, noFix } = await proposeFix({
      workspace,
      incident: incident(),
      diagnosis: diagnosisOf("oom-killed"),
      config,
    });
    expect(fix).toBeNull();
    expect(noFix?.rejected).toEqual([
      {
        fixer: "oom-killed",
        reason:
          "deploy/app-secrets.yaml is on the built-in deny list: the file looks like it holds secrets or credentials",
      },
    ]);
    expect(await workspace.diff()).toBe("");
  });

  it("refuses to read a 50 MB file", async () => {
    workspace = await createWorkspaceFromDirectory(repo);
    await expect(workspace.readFile("deploy/huge.yaml")).rejects.toThrow(
      'refused path "deploy/huge.yaml": file is 52428800 bytes, more than the 2097152-byte limit (ROLLOUT_MEDIC_MAX_FILE_BYTES): too large to edit safely',
    );
  });
});
