import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { fileURLToPath } from "node:url";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { loadConfig } from "../../agent/config.js";
import { DEFAULT_DELIVERY_LIMITS } from "../../agent/delivery/delivery-limits.js";
import type { DeliveryLimits } from "../../agent/delivery/delivery-limits.js";
import type { DeliveryOutcome } from "../../agent/delivery/delivery-outcome.js";
import { deliver } from "../../agent/delivery/deliver.js";
import type { Forge } from "../../agent/forge/forge.js";
import { GitHubForge } from "../../agent/forge/github-forge.js";
import type { GitHubForgeOptions } from "../../agent/forge/github-forge.js";
import { remediate } from "../../agent/pipeline/remediate.js";
import type { RemediationResult } from "../../agent/pipeline/remediation-result.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import { cloneRepository } from "../../agent/workspace/clone-repository.js";
import { GITHUB_TOKEN_USERNAME } from "../../agent/workspace/git-credentials.js";
import { startGitHubDouble } from "../helpers/github-double.js";
import type { GitHubDouble } from "../helpers/github-double.js";
import { startGitHttpServer } from "../helpers/git-http-server.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";

export const TOKEN = "ghs_deliveryHarnessSecret0123456789abcdef";
export const OWNER = "acme";
export const BOT = { name: "rollout-medic[bot]", email: "rollout-medic@users.noreply.github.com" };
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures");

function readTree(dir: string, prefix = ""): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, readTree(path.join(dir, entry.name), rel));
    else if (entry.isFile()) files[rel] = readFileSync(path.join(dir, entry.name), "utf8");
  }
  return files;
}

export interface RunOptions {
  scenario?: string;
  repo?: string;
  forge?: Forge;
  limits?: DeliveryLimits;
  /** Changes the pipeline's result before delivery (a new failure, an edited body). */
  transform?: (result: RemediationResult) => RemediationResult;
  /** Inspects the clone before it is disposed. */
  inspect?: (root: string) => void;
}

export interface RunReport {
  outcome: DeliveryOutcome;
  result: RemediationResult;
}

export interface DeliveryHarness {
  git: GitHttpServer;
  github: GitHubDouble;
  logLines: string[];
  /** Whatever any run left in its temp folder, failed runs included: must stay empty. */
  leftovers: string[];
  forge(overrides?: Partial<GitHubForgeOptions>): GitHubForge;
  /** A repository on both servers with the scenario's repo/ files on main. */
  seed(repo: string, scenario: string): void;
  run(options?: RunOptions): Promise<RunReport>;
  close(): Promise<void>;
}

export async function startDeliveryHarness(): Promise<DeliveryHarness> {
  const git = await startGitHttpServer({ token: TOKEN });
  const github = await startGitHubDouble({ tokens: [TOKEN], git });
  const logLines: string[] = [];
  const leftovers: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  const config = loadConfig({});

  const forge = (overrides: Partial<GitHubForgeOptions> = {}) =>
    new GitHubForge({
      apiUrl: github.url,
      auth: { kind: "token", token: TOKEN },
      logger,
      retryBaseMs: 5,
      rateLimitBaseMs: 50,
      throttling: false,
      ...overrides,
    });

  const runOnce = async (
    scenario: ReturnType<typeof loadScenario>,
    repo: string,
    tempParent: string,
    chosen: Forge,
    options: RunOptions,
  ): Promise<RunReport> => {
    const workspace = await cloneRepository({
      url: git.repoUrl(OWNER, repo),
      credentials:
        chosen instanceof GitHubForge
          ? chosen.gitCredentials()
          : async () => ({ username: GITHUB_TOKEN_USERNAME, password: TOKEN }),
      protocols: ["http"],
      tempParent,
      logger,
    });
    try {
      let result = await remediate({
        cluster: new ScenarioCluster(scenario),
        ref: scenario.manifest.rollout,
        config,
        logger,
        workspace,
        allowPaths: scenario.manifest.repo?.allowPaths,
        version: "0.1.0-test",
      });
      if (options.transform) result = options.transform(result);
      const outcome = await deliver({
        result,
        forge: chosen,
        repo: { owner: OWNER, repo },
        workspace,
        bot: BOT,
        limits: options.limits ?? DEFAULT_DELIVERY_LIMITS,
        version: "0.1.0-test",
        logger,
        settleMs: 10,
      });
      options.inspect?.(workspace.root);
      return { outcome, result };
    } finally {
      await workspace.dispose();
    }
  };

  return {
    git,
    github,
    logLines,
    leftovers,
    forge,
    seed(repo, scenario) {
      git.createRepository(OWNER, repo, readTree(path.join(FIXTURES, scenario, "repo")));
      github.addRepository(OWNER, repo);
    },
    async run(options = {}) {
      const scenario = loadScenario(path.join(FIXTURES, options.scenario ?? "oom-killed"));
      const repo = options.repo ?? "checkout";
      const tempParent = mkdtempSync(path.join(tmpdir(), "rm-deliver-"));
      const chosen = options.forge ?? forge();
      try {
        return await runOnce(scenario, repo, tempParent, chosen, options);
      } finally {
        // Success or failure, the per-run temp folder must be empty again: afterAll checks `leftovers`.
        leftovers.push(...readdirSync(tempParent));
        rmSync(tempParent, { recursive: true, force: true });
      }
    },
    async close() {
      await github.close();
      await git.close();
    },
  };
}
