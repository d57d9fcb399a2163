import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { GuardedWorkspace } from "../../agent/agent/guarded-workspace.js";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { loadConfig } from "../../agent/config.js";
import type { Config, EnvInput } from "../../agent/config.js";
import { diagnose } from "../../agent/diagnosis/diagnose.js";
import type { Diagnosis } from "../../agent/diagnosis/diagnosis.js";
import { gatherIncident } from "../../agent/incident/gather-incident.js";
import type { Incident } from "../../agent/incident/incident.js";
import type { Logger } from "../../agent/logger.js";
import { PLAYBOOKS } from "../../agent/playbooks/run-playbooks.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import type { Scenario } from "../../agent/scenario/load-scenario.js";
import { createWorkspaceFromDirectory } from "../../agent/workspace/create-workspace-from-directory.js";
import type { Workspace } from "../../agent/workspace/workspace.js";
import type { ToolContext } from "../../tools/tool-context.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export function fixtureDir(name: string): string {
  return path.join(ROOT, "fixtures", name);
}

export interface CapturedLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
}

/** A pino logger whose lines are kept as objects, to assert on the one-line-per-step log. */
export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

export interface AgentFixture {
  scenario: Scenario;
  cluster: ScenarioCluster;
  incident: Incident;
  diagnosis: Diagnosis;
  workspace: Workspace;
  config: Config;
  logger: Logger;
  logs: Record<string, unknown>[];
  allowPaths?: string[];
  dispose(): Promise<void>;
}

/**
 * A scenario ready for the agent: gathered, diagnosed, with a fresh git workspace of its repo/.
 * `prepareRepo` changes a copy of repo/ before it becomes the failing revision (symlinks, extra files).
 */
export async function loadAgentFixture(
  name: string,
  env: EnvInput = {},
  options: { prepareRepo?: (dir: string) => Promise<void> } = {},
): Promise<AgentFixture> {
  const scenario = loadScenario(fixtureDir(name));
  const cluster = new ScenarioCluster(scenario);
  const incident = await gatherIncident(cluster, scenario.manifest.rollout, {});
  const diagnosis = diagnose(incident);
  if (!scenario.repoDir) throw new Error(`${name} has no repo/`);
  let source = scenario.repoDir;
  let copy: string | null = null;
  if (options.prepareRepo) {
    copy = await mkdtemp(path.join(tmpdir(), "medic-fixture-"));
    source = path.join(copy, "repo");
    await cp(scenario.repoDir, source, { recursive: true, verbatimSymlinks: true });
    await options.prepareRepo(source);
  }
  const workspace = await createWorkspaceFromDirectory(source);
  if (copy) await rm(copy, { recursive: true, force: true });
  const { logger, lines } = captureLogger();
  return {
    scenario,
    cluster,
    incident,
    diagnosis,
    workspace,
    config: loadConfig(env),
    logger,
    logs: lines,
    allowPaths: scenario.manifest.repo?.allowPaths,
    dispose: () => workspace.dispose(),
  };
}

export function toolContextOf(fixture: AgentFixture, outputTokens = 2000): ToolContext {
  return {
    cluster: fixture.cluster,
    incident: fixture.incident,
    diagnosis: fixture.diagnosis,
    workspace: new GuardedWorkspace(
      fixture.workspace,
      { allowPaths: fixture.allowPaths },
      fixture.config.policy.maxDiffLines,
    ),
    config: fixture.config,
    playbooks: PLAYBOOKS,
    outputTokens,
  };
}
