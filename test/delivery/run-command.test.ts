import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../agent/cli/run-command.js";
import type { RunOptions } from "../../agent/cli/run-command.js";
import type { KubeObject } from "../../agent/cluster/kube-object.js";
import { loadConfig } from "../../agent/config.js";
import { ConfigError, EXIT } from "../../agent/errors.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import { startGitHubDouble } from "../helpers/github-double.js";
import type { GitHubDouble } from "../helpers/github-double.js";
import { startGitHttpServer } from "../helpers/git-http-server.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { startKubeApiDouble } from "../helpers/kube-api-double.js";
import type { KubeApiDouble } from "../helpers/kube-api-double.js";
import { FIXTURES, OWNER, TOKEN } from "./delivery-harness.js";

/**
 * `rollout-medic run` end to end: the real KubernetesCluster against the Kubernetes API double, the real
 * GitHubForge against the GitHub double, and real git through the double's host (API under /api/v3 and
 * git beside it, as on GitHub Enterprise Server).
 */

let git: GitHttpServer;
let github: GitHubDouble;
let kube: KubeApiDouble;

function readTree(dir: string, prefix = ""): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, readTree(path.join(dir, entry.name), rel));
    else files[rel] = readFileSync(path.join(dir, entry.name), "utf8");
  }
  return files;
}

function annotate(double: KubeApiDouble, annotations: Record<string, string | null>): void {
  const type = double.store.typeOf("argoproj.io", "rollouts")!;
  const rollout = double.store.get(type, "shop", "checkout")!;
  const current = { ...(rollout.metadata.annotations as Record<string, string> | undefined) };
  for (const [key, value] of Object.entries(annotations)) {
    if (value === null) delete current[key];
    else current[key] = value;
  }
  double.store.put({ ...rollout, metadata: { ...rollout.metadata, annotations: current } } as KubeObject);
}

const EVENTS_PATH = "/api/v1/namespaces/shop/events";

/** The Events the run asked the Kubernetes API to create since request number `since`. */
function eventPosts(since: number): { body: Record<string, unknown> }[] {
  return kube.requests
    .slice(since)
    .filter((r) => r.method === "POST" && r.path === EVENTS_PATH)
    .map((r) => ({ body: r.body as Record<string, unknown> }));
}

function rolloutUid(): string | undefined {
  const type = kube.store.typeOf("argoproj.io", "rollouts")!;
  return kube.store.get(type, "shop", "checkout")!.metadata.uid;
}

function repoUrl(repo: string): string {
  return `${github.url.replace(/\/api\/v3$/, "")}/${OWNER}/${repo}.git`;
}

async function run(
  options: Partial<RunOptions> & { kube?: KubeApiDouble } = {},
  env: Record<string, string> = {},
) {
  const out: string[] = [];
  const config = loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, LOG_LEVEL: "silent", ...env });
  const code = await runCommand(
    {
      namespace: "shop",
      rollout: "checkout",
      kubeconfig: (options.kube ?? kube).kubeconfigPath,
      json: true,
      ...options,
    },
    config,
    { print: (text) => out.push(text) },
  );
  return {
    code,
    summary: JSON.parse(out.join("")) as Record<string, unknown> & {
      outcome: Record<string, unknown>;
      actions: string[];
    },
  };
}

beforeAll(async () => {
  git = await startGitHttpServer({ token: TOKEN });
  github = await startGitHubDouble({ tokens: [TOKEN], git, pathPrefix: "/api/v3", proxyGit: true });
  for (const repo of ["checkout", "dry", "other"]) {
    git.createRepository(OWNER, repo, readTree(path.join(FIXTURES, "oom-killed", "repo")));
    github.addRepository(OWNER, repo);
  }
  kube = await startKubeApiDouble({ scenarioDir: path.join(FIXTURES, "oom-killed") });
});

afterAll(async () => {
  await kube.close();
  await github.close();
  await git.close();
});

describe("rollout-medic run", () => {
  it("opens the pull request, then finds it unchanged on a second run (exit 0 both times)", async () => {
    annotate(kube, { "rollout-medic.dev/repo": repoUrl("checkout"), "rollout-medic.dev/paths": "deploy/**" });
    const before = kube.requests.length;
    const first = await run();
    expect(first.code).toBe(EXIT.pullRequest);
    expect(first.summary).toMatchObject({
      rollout: { namespace: "shop", name: "checkout", revision: "7" },
      dryRun: false,
      repository: { url: repoUrl("checkout"), source: "annotation" },
      diagnosis: { category: "oom-killed" },
      fix: { strategy: "playbook", files: ["deploy/rollout.yaml"] },
      outcome: { kind: "pull-request", action: "created" },
      exitCode: 0,
    });
    expect(github.pulls(OWNER, "checkout")).toHaveLength(1);
    const events = eventPosts(before);
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toMatchObject({
      type: "Normal",
      reason: "RemediationPullRequestOpened",
      reportingComponent: "rollout-medic",
      involvedObject: {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        namespace: "shop",
        name: "checkout",
        uid: rolloutUid(),
      },
    });
    expect(rolloutUid()).toEqual(expect.any(String));
    const pullUrl = (first.summary.outcome["pullRequest"] as { url: string }).url;
    expect(events[0]!.body["message"]).toContain(pullUrl);
    expect(events[0]!.body["message"]).toContain("oom-killed");

    const second = await run();
    expect(second.code).toBe(0);
    expect(second.summary.outcome).toMatchObject({ kind: "pull-request", action: "unchanged" });
    expect(github.pulls(OWNER, "checkout")).toHaveLength(1);
  });

  it("--dry-run prints what it would do and writes nothing", async () => {
    annotate(kube, { "rollout-medic.dev/repo": repoUrl("dry") });
    const requests = github.requests.length;
    const kubeRequests = kube.requests.length;
    const { code, summary } = await run({ dryRun: true });
    expect(code).toBe(0);
    expect(summary).toMatchObject({ dryRun: true, outcome: { kind: "pull-request", action: "created" } });
    expect(summary.actions.map((line) => line.replace(/ \(.*$|".*"/g, ""))).toEqual([
      expect.stringMatching(/^DRY-RUN: would push branch rollout-medic\/shop\/checkout-/),
      expect.stringMatching(/^DRY-RUN: would create PR/),
      expect.stringMatching(/^DRY-RUN: would label #0/),
      "DRY-RUN: would record Event RemediationPullRequestOpened",
    ]);
    expect(summary.actions.at(-1)).toMatch(
      /^DRY-RUN: would record Event RemediationPullRequestOpened \(Normal\) on Rollout shop\/checkout: .*oom-killed/,
    );
    expect(eventPosts(kubeRequests)).toEqual([]);
    expect(kube.requests.slice(kubeRequests).filter((r) => r.method !== "GET")).toEqual([]);
    expect(git.branches(OWNER, "dry")).toEqual(["main"]);
    expect(github.requests.slice(requests).filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("prints one human line without --json", async () => {
    annotate(kube, { "rollout-medic.dev/repo": repoUrl("checkout") });
    const out: string[] = [];
    const code = await runCommand(
      { namespace: "shop", rollout: "checkout", kubeconfig: kube.kubeconfigPath },
      loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, LOG_LEVEL: "silent" }),
      { print: (text) => out.push(text) },
    );
    expect(code).toBe(0);
    expect(out.join("")).toMatch(
      /^shop\/checkout: pull request #1 unchanged \(.*\/pull\/1\) from rollout-medic\/shop\/checkout-\S+\n$/,
    );
  });

  it("still exits with the delivery's code when the Event is refused (403)", async () => {
    annotate(kube, { "rollout-medic.dev/repo": repoUrl("checkout") });
    const before = kube.requests.length;
    kube.setFault(EVENTS_PATH, { status: 403 }, { method: "POST" });
    try {
      const { code, summary } = await run();
      expect(code).toBe(EXIT.pullRequest);
      expect(summary.outcome).toMatchObject({ kind: "pull-request", action: "unchanged" });
      expect(eventPosts(before)).toHaveLength(1);
    } finally {
      kube.clearFaults();
    }
  });

  it("exits quietly with 3 when the Rollout opted out", async () => {
    annotate(kube, { "rollout-medic.dev/enabled": "false" });
    try {
      const { code, summary } = await run();
      expect(code).toBe(EXIT.nothingToDo);
      expect(summary.outcome).toMatchObject({
        kind: "nothing-to-do",
        reason: expect.stringContaining("rollout-medic.dev/enabled"),
      });
    } finally {
      annotate(kube, { "rollout-medic.dev/enabled": null });
    }
  });

  it("exits with 3 when the Rollout moved on to another revision", async () => {
    const { code, summary } = await run({ revision: "6" });
    expect(code).toBe(3);
    expect(summary.outcome).toMatchObject({ reason: "the Rollout is at revision 7 now, not 6" });
  });

  it("exits with 3 when the Rollout is not failed any more", async () => {
    const healthy = await startKubeApiDouble({ scenarioDir: path.join(FIXTURES, "not-failed") });
    try {
      const { namespace: ns, name } = loadScenario(path.join(FIXTURES, "not-failed")).manifest.rollout;
      const out: string[] = [];
      const code = await runCommand(
        { namespace: ns, rollout: name, kubeconfig: healthy.kubeconfigPath, json: true },
        loadConfig({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, LOG_LEVEL: "silent" }),
        { print: (text) => out.push(text) },
      );
      expect(code).toBe(3);
      expect(JSON.parse(out.join("")).outcome).toMatchObject({ kind: "nothing-to-do" });
    } finally {
      await healthy.close();
    }
  });

  it("refuses to guess an unknown repository (exit 78) and needs credentials unless --dry-run", async () => {
    annotate(kube, { "rollout-medic.dev/repo": null });
    await expect(run()).rejects.toThrow(ConfigError);
    await expect(run()).rejects.toThrow(/no repository is known for shop\/checkout.*tried/);
    annotate(kube, { "rollout-medic.dev/repo": repoUrl("other") });
    const config = loadConfig({ GITHUB_API_URL: github.url, LOG_LEVEL: "silent" });
    await expect(
      runCommand({ namespace: "shop", rollout: "checkout", kubeconfig: kube.kubeconfigPath }, config, {
        print: () => undefined,
      }),
    ).rejects.toThrow(/no GitHub credentials/);
    expect(github.pulls(OWNER, "other")).toEqual([]);
  });
});
