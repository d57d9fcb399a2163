import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ScenarioCluster } from "../cluster/scenario-cluster.js";
import type { Config } from "../config.js";
import { EXIT, ScenarioError } from "../errors.js";
import { createLogger } from "../logger.js";
import { packageInfo } from "../package-root.js";
import { remediate } from "../pipeline/remediate.js";
import { toDryRunJson } from "../pipeline/remediation-result.js";
import { renderReport } from "../render/render-report.js";
import { loadScenario } from "../scenario/load-scenario.js";
import { createWorkspaceFromDirectory } from "../workspace/create-workspace-from-directory.js";
import { createAgentModel } from "./model-option.js";
import type { ModelOptions } from "./model-option.js";

export interface DryRunOptions extends ModelOptions {
  scenario: string;
  json?: boolean;
  out?: string;
}

/** Offline: the scenario folder is the cluster and the repository; nothing is written outside a temp folder or --out. */
export async function dryRunCommand(options: DryRunOptions, config: Config): Promise<number> {
  const scenario = loadScenario(options.scenario);
  const ref = scenario.manifest.rollout;
  const logger = createLogger(config.logLevel, { rollout: `${ref.namespace}/${ref.name}`, mode: "dry-run" });
  const cluster = new ScenarioCluster(scenario);
  if (!(await cluster.findRollout(ref))) {
    throw new ScenarioError(
      `${options.scenario}: no Rollout ${ref.namespace}/${ref.name} in cluster/*.yaml (scenario.yaml names it): record it with kubectl get rollout -o yaml`,
    );
  }
  // The model seam is chosen here, once: nothing after this line knows whether it is real or replayed.
  const model = await createAgentModel(config, options, { scenarioDir: scenario.dir });
  const workspace = scenario.repoDir ? await createWorkspaceFromDirectory(scenario.repoDir) : null;
  try {
    const result = await remediate({
      cluster,
      ref,
      config,
      logger,
      workspace,
      allowPaths: scenario.manifest.repo?.allowPaths,
      version: packageInfo().version,
      model,
    });
    if (options.out) writeReviewFiles(options.out, result);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(toDryRunJson(result), null, 2)}\n`);
    } else {
      const color = config.color === "always" || (config.color === "auto" && process.stdout.isTTY === true);
      process.stdout.write(`${renderReport({ ...result, color })}\n`);
    }
    return EXIT.ok;
  } finally {
    await workspace?.dispose();
  }
}

function writeReviewFiles(dir: string, result: Awaited<ReturnType<typeof remediate>>): void {
  const abs = path.resolve(dir);
  mkdirSync(abs, { recursive: true });
  writeFileSync(path.join(abs, "incident.json"), `${JSON.stringify(result.incident, null, 2)}\n`);
  if (result.fix) writeFileSync(path.join(abs, "fix.patch"), result.fix.diff);
  if (result.pullRequest) {
    const pr = result.pullRequest;
    writeFileSync(
      path.join(abs, "pull-request.md"),
      `# ${pr.title}\n\nBranch: \`${pr.branch}\`  \nLabels: ${pr.labels.join(", ")}\n\n${pr.body}\n`,
    );
  }
  if (result.issue) {
    writeFileSync(
      path.join(abs, "issue.md"),
      `# ${result.issue.title}\n\nLabels: ${result.issue.labels.join(", ")}\n\n${result.issue.body}\n`,
    );
  }
}
