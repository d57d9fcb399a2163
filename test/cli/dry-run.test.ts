import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CATEGORIES } from "../../agent/diagnosis/diagnosis.js";
import { ROOT, errorLines, runCli } from "./run-cli.js";

const FIXTURES = path.join(ROOT, "fixtures");
const scenarios = readdirSync(FIXTURES).filter((name) =>
  existsSync(path.join(FIXTURES, name, "expect.yaml")),
);

interface ContentCheck {
  path: string;
  pattern: string;
}

interface Expectation {
  category: string;
  fix?: { strategy: string; files?: string[]; contains?: ContentCheck[]; absent?: ContentCheck[] };
}

function readExpectation(name: string): Expectation {
  return parse(readFileSync(path.join(FIXTURES, name, "expect.yaml"), "utf8")) as Expectation;
}

/** Applies the printed diff to a copy of the scenario's repository, as a reviewer would with `git apply`. */
function applyToCopy(name: string, diff: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `medic-apply-${name}-`));
  cpSync(path.join(FIXTURES, name, "repo"), dir, { recursive: true, verbatimSymlinks: true });
  writeFileSync(path.join(dir, ".fix.patch"), diff);
  execFileSync("git", ["apply", "--whitespace=nowarn", ".fix.patch"], { cwd: dir });
  rmSync(path.join(dir, ".fix.patch"));
  return dir;
}

function assertFixMatches(name: string, fix: { strategy: string; files: string[]; diff: string }): void {
  const expected = readExpectation(name).fix!;
  expect(fix.strategy).toBe(expected.strategy);
  expect(fix.files).toEqual(expect.arrayContaining(expected.files ?? []));
  const dir = applyToCopy(name, fix.diff);
  try {
    for (const check of expected.contains ?? []) {
      expect(readFileSync(path.join(dir, check.path), "utf8"), `${check.path} ~ ${check.pattern}`).toMatch(
        new RegExp(check.pattern, "m"),
      );
    }
    for (const check of expected.absent ?? []) {
      expect(
        readFileSync(path.join(dir, check.path), "utf8"),
        `${check.path} !~ ${check.pattern}`,
      ).not.toMatch(new RegExp(check.pattern, "m"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const playbookScenarios = scenarios.filter((name) => readExpectation(name).fix?.strategy === "playbook");

describe("rollout-medic dry-run --json on every fixture", () => {
  it("covers every failure category of the spec with at least 12 scenarios", () => {
    const categories = new Set(
      scenarios.map(
        (name) =>
          (parse(readFileSync(path.join(FIXTURES, name, "expect.yaml"), "utf8")) as Expectation).category,
      ),
    );
    expect(scenarios.length).toBeGreaterThanOrEqual(12);
    expect([...CATEGORIES].filter((c) => !categories.has(c))).toEqual([]);
  });

  it.each(scenarios)(
    "%s: the diagnosis matches expect.yaml and the JSON keeps the spec's contract",
    async (name) => {
      const expectation = parse(
        readFileSync(path.join(FIXTURES, name, "expect.yaml"), "utf8"),
      ) as Expectation;
      const result = await runCli(["dry-run", `fixtures/${name}`, "--json"]);

      expect(result.stderr).not.toMatch(/rollout-medic: /);
      expect(result.code).toBe(0);
      const answer = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(answer)).toEqual(
        expect.arrayContaining(["rollout", "diagnosis", "fix", "pullRequest", "issue"]),
      );
      const diagnosis = answer["diagnosis"] as {
        category: string;
        summary: string;
        confidence: number;
        evidence: unknown[];
      };
      expect(diagnosis.category).toBe(expectation.category);
      expect(diagnosis.summary.length).toBeGreaterThan(0);
      expect(diagnosis.confidence).toBeGreaterThan(0);
      expect(diagnosis.confidence).toBeLessThanOrEqual(1);
      // Exactly one of: a PR with a fix, an issue, or nothing for a healthy rollout.
      if (answer["pullRequest"]) {
        expect(answer["fix"]).not.toBeNull();
        expect(answer["issue"]).toBeNull();
      } else if (expectation.category !== "not-failed") {
        expect(answer["issue"]).not.toBeNull();
      }
    },
  );
});

describe("rollout-medic dry-run proposes the expected playbook fix", () => {
  it("has kustomize overlay and Helm values fixtures among the playbook ones", () => {
    expect(playbookScenarios).toEqual(expect.arrayContaining(["oom-killed-kustomize", "image-pull-helm"]));
  });

  it.each(playbookScenarios)(
    "%s: the diff touches the expected files and passes the content checks",
    async (name) => {
      const result = await runCli(["dry-run", `fixtures/${name}`, "--json"]);
      expect(result.code).toBe(0);
      const answer = JSON.parse(result.stdout) as {
        fix: { strategy: string; files: string[]; diff: string } | null;
      };
      expect(answer.fix).not.toBeNull();
      assertFixMatches(name, answer.fix!);
    },
  );
});

describe("rollout-medic dry-run with bad input", () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), "medic-cli-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function copyFixture(name: string): string {
    const dir = path.join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
    cpSync(path.join(FIXTURES, name), dir, { recursive: true });
    return dir;
  }

  it("names a missing folder in one line and exits non-zero", async () => {
    const result = await runCli(["dry-run", path.join(scratch, "nope"), "--json"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/scenario folder .*nope does not exist/),
    ]);
  });

  it("names the file and line of unparsable YAML", async () => {
    const dir = copyFixture("crash-loop");
    writeFileSync(
      path.join(dir, "cluster", "broken.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
    );
    const result = await runCli(["dry-run", dir, "--json"]);
    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/cluster\/broken\.yaml:\d+: invalid YAML/),
    ]);
  });

  it("says which Rollout is absent from the scenario", async () => {
    const dir = copyFixture("crash-loop");
    for (const file of readdirSync(path.join(dir, "cluster"))) {
      const text = readFileSync(path.join(dir, "cluster", file), "utf8");
      if (/^kind: Rollout$/m.test(text)) rmSync(path.join(dir, "cluster", file));
    }
    const result = await runCli(["dry-run", dir, "--json"]);
    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/no Rollout pricing\/pricing in cluster/),
    ]);
  });

  it("refuses a scenario.yaml without the rollout reference", async () => {
    const dir = copyFixture("crash-loop");
    writeFileSync(path.join(dir, "scenario.yaml"), "name: broken\n");
    const result = await runCli(["dry-run", dir, "--json"]);
    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/scenario\.yaml: rollout: /)]);
  });

  it("refuses a folder that is not a scenario", async () => {
    const result = await runCli(["dry-run", path.join(ROOT, "agent"), "--json"]);
    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/has no scenario\.yaml/)]);
  });

  it("refuses a YAML alias bomb in recorded objects without expanding it", async () => {
    const dir = copyFixture("crash-loop");
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(",")}]`,
      );
    writeFileSync(
      path.join(dir, "cluster", "bomb.yaml"),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n${levels.map((l) => `  ${l}`).join("\n")}\n`,
    );
    const result = await runCli(["dry-run", dir, "--json"]);
    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/bomb\.yaml: expands to more than \d+ nodes through aliases/),
    ]);
  });

  it("rejects an unknown option with a usage error", async () => {
    const result = await runCli(["dry-run", "fixtures/oom-killed", "--jsn"]);
    expect(result.code).toBe(64);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/unknown option '--jsn'/)]);
  });

  it("rejects an unknown command with a usage error", async () => {
    const result = await runCli(["heal"]);
    expect(result.code).toBe(64);
    expect(errorLines(result.stderr)).toHaveLength(1);
  });
});

describe("rollout-medic dry-run --out", () => {
  it("writes the patch, the pull request and the incident for review", async () => {
    const out = mkdtempSync(path.join(tmpdir(), "medic-out-"));
    try {
      const result = await runCli(["dry-run", "fixtures/oom-killed", "--out", out]);
      expect(result.code).toBe(0);
      expect(readdirSync(out).sort()).toEqual(["fix.patch", "incident.json", "pull-request.md"]);
      expect(readFileSync(path.join(out, "fix.patch"), "utf8")).toMatch(
        /^diff --git a\/deploy\/rollout\.yaml/,
      );
      expect(JSON.parse(readFileSync(path.join(out, "incident.json"), "utf8")).rollout.name).toBe("checkout");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("prints the human report without colour when stdout is not a terminal", async () => {
    const result = await runCli(["dry-run", "fixtures/oom-killed"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Diagnosis/);
    expect(result.stdout.includes("\u001b[")).toBe(false);
  });
});
