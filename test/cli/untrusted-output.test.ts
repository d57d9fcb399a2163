import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./run-cli.js";

function plantedLines(file: string): string[] {
  return readFileSync(path.join(ROOT, file), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length >= 8);
}

async function everyOutput(scenario: string): Promise<string> {
  const out = mkdtempSync(path.join(tmpdir(), "medic-untrusted-"));
  try {
    const json = await runCli(["dry-run", scenario, "--json", "--out", out]);
    const report = await runCli(["dry-run", scenario]);
    expect(json.code).toBe(0);
    expect(report.code).toBe(0);
    const files = readdirSync(out).map((f) => readFileSync(path.join(out, f), "utf8"));
    return [json.stdout, json.stderr, report.stdout, report.stderr, ...files].join("\n");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe("what the dry run prints and writes", () => {
  it("contains none of the secrets planted in logs, env and annotations", async () => {
    const output = await everyOutput("fixtures/secrets-in-logs");
    const leaked = plantedLines("fixtures/secrets-in-logs/secrets.txt").filter((secret) =>
      output.includes(secret),
    );
    expect(leaked).toEqual([]);
    expect(output).toMatch(/\[REDACTED:/);
  });

  it("never quotes text that tries to instruct an AI, and says it was withheld", async () => {
    const result = await runCli(["dry-run", "fixtures/prompt-injection", "--json"]);
    const answer = JSON.parse(result.stdout) as {
      issue: { body: string } | null;
      pullRequest: { body: string } | null;
      quarantined: unknown[];
    };
    const bodies = [answer.issue?.body ?? "", answer.pullRequest?.body ?? ""].join("\n");
    const quoted = plantedLines("fixtures/prompt-injection/injection.txt").filter((sentence) =>
      bodies.includes(sentence),
    );
    expect(quoted).toEqual([]);
    expect(bodies).toMatch(/withheld/i);
    expect(answer.quarantined.length).toBeGreaterThan(0);
  });
});
