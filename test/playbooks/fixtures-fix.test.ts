import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../agent/config.js";
import { proposeFix } from "../../agent/playbooks/propose-fix.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import { createWorkspaceFromDirectory } from "../../agent/workspace/create-workspace-from-directory.js";
import type { Workspace } from "../../agent/workspace/workspace.js";
import { diagnosisFor, FIXTURES, incidentFor, playbookScenarios } from "./scenario-incident.js";

const config = loadConfig({});

/** The diff must apply with `git apply` to the repository at the failing revision. */
function expectAppliesTo(repoDir: string, diff: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), "rm-apply-"));
  try {
    cpSync(repoDir, path.join(dir, "repo"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(dir, "fix.patch"), diff);
    execFileSync("git", ["apply", "--check", path.join(dir, "fix.patch")], {
      cwd: path.join(dir, "repo"),
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
let workspace: Workspace | null = null;

afterEach(async () => {
  await workspace?.dispose();
  workspace = null;
});

describe("playbook fixes of every fixture", () => {
  it.each(playbookScenarios())("%s", async (name) => {
    const scenario = loadScenario(path.join(FIXTURES, name));
    const expected = scenario.expectation?.fix;
    if (!expected || !scenario.repoDir) throw new Error(`${name}: no expected fix or repo/`);
    const incident = await incidentFor(scenario);
    const diagnosis = diagnosisFor(incident);
    expect(diagnosis.category).toBe(scenario.expectation?.category);
    workspace = await createWorkspaceFromDirectory(scenario.repoDir);
    const { fix, noFix } = await proposeFix({
      workspace,
      incident,
      diagnosis,
      config,
      allowPaths: scenario.manifest.repo?.allowPaths,
    });
    expect(noFix?.reason ?? null).toBeNull();
    if (!fix) throw new Error("no fix");
    for (const file of expected.files) {
      expect(fix.files).toContain(file);
      expect(fix.diff).toContain(`--- a/${file}\n+++ b/${file}\n`);
    }
    for (const check of expected.contains) {
      expect(await workspace.readFile(check.path), check.pattern).toMatch(new RegExp(check.pattern));
    }
    for (const check of expected.absent) {
      expect(await workspace.readFile(check.path), check.pattern).not.toMatch(new RegExp(check.pattern));
    }
    // Minimal: each change rewrites at most one existing line, and the rationale says why.
    const removed = fix.diff.split("\n").filter((l) => l.startsWith("-") && !l.startsWith("--- "));
    expect(removed.length).toBeLessThanOrEqual(fix.changes.length);
    expect(fix.rationale.length).toBeGreaterThan(100);
    expect(fix.reviewerChecklist.length).toBeGreaterThan(0);
    expectAppliesTo(scenario.repoDir, fix.diff);
  });
});

describe("the oom-killed fixture's comment-heavy manifest", () => {
  it("changes exactly the two memory values and nothing else", async () => {
    const scenario = loadScenario(path.join(FIXTURES, "oom-killed"));
    if (!scenario.repoDir) throw new Error("no repo");
    const incident = await incidentFor(scenario);
    workspace = await createWorkspaceFromDirectory(scenario.repoDir);
    const { fix } = await proposeFix({
      workspace,
      incident,
      diagnosis: diagnosisFor(incident),
      config,
    });
    const lines = (fix?.diff ?? "").split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l));
    expect(lines).toEqual([
      "-              memory: 256Mi",
      "+              memory: 384Mi",
      "-              memory: 256Mi",
      "+              memory: 384Mi",
    ]);
  });
});
