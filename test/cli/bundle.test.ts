import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { errorLines, runCli } from "./run-cli.js";

// The bin is an esbuild bundle with split chunks: each command's chunk must load and run from it.
describe("the bundled command", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "medic-bundle-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("prints its version and lists every command", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await runCli(["--help"]);
    for (const command of ["dry-run", "diagnose", "snapshot", "run", "serve"])
      expect(help.stdout).toContain(command);
  });

  it("loads the Kubernetes client for a live command and says which server it could not reach", async () => {
    const kubeconfig = path.join(scratch, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9', insecure-skip-tls-verify: true}}]",
        "users: [{name: u, user: {token: not-a-real-token}}]",
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
        "current-context: x",
      ].join("\n"),
    );
    const result = await runCli(["diagnose", "-n", "shop", "-r", "checkout", "--kubeconfig", kubeconfig]);
    expect(result.code).toBe(69);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:9/),
    ]);
    expect(result.stderr).not.toContain("not-a-real-token");
  });

  it("loads the receiver and refuses an invalid configuration with exit 78", async () => {
    const result = await runCli(["serve", "--port", "0"], { ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES: "tiny" });
    expect(result.code).toBe(78);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES/),
    ]);
  });

  it("loads the agent and replays a recorded model conversation", async () => {
    const result = await runCli(["dry-run", "fixtures/go-panic", "--model", "replay", "--json"]);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { fix: { strategy: string; files: string[] } | null };
    expect(answer.fix?.strategy).toBe("agent");
    expect(answer.fix?.files).toContain("internal/handler/handler.go");
  });
});
