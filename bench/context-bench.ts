import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { runRemediationAgent } from "../agent/agent/run-remediation-agent.js";
import { ScenarioCluster } from "../agent/cluster/scenario-cluster.js";
import { loadConfig } from "../agent/config.js";
import { diagnose } from "../agent/diagnosis/diagnose.js";
import { gatherIncident } from "../agent/incident/gather-incident.js";
import { silentLogger } from "../agent/logger.js";
import { countTokens, estimateTokens } from "../agent/logs/count-tokens.js";
import type { AgentModel } from "../agent/model/create-chat-model.js";
import { ReplayChatModel } from "../agent/model/replay-chat-model.js";
import { REPLAY_FILE, readReplayFile } from "../agent/model/replay-file.js";
import type { ReplayFile } from "../agent/model/replay-file.js";
import { loadScenario } from "../agent/scenario/load-scenario.js";
import { createWorkspaceFromDirectory } from "../agent/workspace/create-workspace-from-directory.js";
import type { BenchContext, Benchmark, Figure } from "./benchmark.js";
import { figure } from "./benchmark.js";

const LARGEST_LOGS = "huge-logs";
const AGENT_FIXTURES = ["go-panic", "java-npe", "node-unhandled-rejection"];

/** A conversation that ends at once: the first call is all there is to measure. */
const FIRST_CALL_ONLY: ReplayFile = {
  version: 1,
  note: "benchmark: stops after the first model call",
  responses: [
    {
      content: "",
      toolCalls: [
        {
          name: "remediation_outcome",
          args: {
            decision: "nothing",
            rootCause: "benchmark",
            changeSummary: "",
            confidence: 0,
            reviewerChecks: [],
          },
        },
      ],
    },
  ],
};

/**
 * context.first_call_tokens: what the agent sends in its first model call (system prompt, task, tool
 * definitions) for the fixture with the largest logs, against the raw incident's tokens (every recorded
 * object and log) as the baseline. agent.tokens.<fixture>: input plus output tokens of a replayed run.
 */
export const contextBench: Benchmark = {
  id: "context",
  async run(ctx) {
    const figures: Figure[] = [await firstCallTokens(ctx)];
    for (const name of AGENT_FIXTURES) figures.push(await replayedRunTokens(ctx, name));
    return figures;
  },
};

async function runAgent(ctx: BenchContext, name: string, replay: ReplayFile, source: string) {
  const scenario = loadScenario(path.join(ctx.root, "fixtures", name));
  const cluster = new ScenarioCluster(scenario);
  const config = loadConfig({ LOG_LEVEL: "silent" });
  const incident = await gatherIncident(cluster, scenario.manifest.rollout, {
    logTokenBudget: config.gather.logTokenBudget,
  });
  const diagnosis = diagnose(incident);
  // A scenario without repo/ (huge-logs) gets an empty repository: the prompt then lists no files.
  const repoDir = scenario.repoDir ?? mkdtempSync(path.join(ctx.scratch, "empty-repo-"));
  const workspace = await createWorkspaceFromDirectory(repoDir, { tempParent: ctx.scratch });
  const model: AgentModel = {
    chatModel: new ReplayChatModel(replay, source),
    label: `replay:${name}`,
    kind: "replay",
    retries: 0,
  };
  try {
    return await runRemediationAgent({
      model,
      cluster,
      incident,
      diagnosis,
      workspace,
      config,
      logger: silentLogger(),
      allowPaths: scenario.manifest.repo?.allowPaths,
    });
  } finally {
    await workspace.dispose();
  }
}

async function firstCallTokens(ctx: BenchContext): Promise<Figure> {
  const run = await runAgent(ctx, LARGEST_LOGS, FIRST_CALL_ONLY, "first-call benchmark");
  // Counting 11 MB exactly takes a while: --quick estimates the baseline instead.
  const raw = rawIncidentTokens(
    path.join(ctx.root, "fixtures", LARGEST_LOGS),
    ctx.quick ? estimateTokens : countTokens,
  );
  ctx.log(`context: first call ${run.usage.inputTokens} tokens, raw incident ${raw} tokens`);
  return figure(
    "context.first_call_tokens",
    run.usage.inputTokens,
    "tokens",
    "≤ 12000",
    raw,
    `fixtures/${LARGEST_LOGS} (${run.usage.modelCalls} call, empty repository): system + task prompt + tool definitions, o200k_base; baseline: its cluster/ and logs/ as recorded`,
  );
}

async function replayedRunTokens(ctx: BenchContext, name: string): Promise<Figure> {
  const file = path.join(ctx.root, "fixtures", name, REPLAY_FILE);
  const run = await runAgent(ctx, name, readReplayFile(file), file);
  if (run.status !== "proposed")
    throw new Error(`${name}: the replayed agent run ended ${run.status}: ${run.reason}`);
  return figure(
    `agent.tokens.${name}`,
    run.usage.totalTokens,
    "tokens",
    "≤ 60000 (the default budget)",
    null,
    `${run.usage.modelCalls} model calls, ${run.usage.toolCalls} tool calls, replayed (local o200k_base count)`,
  );
}

function rawIncidentTokens(dir: string, count: (text: string) => number): number {
  let total = 0;
  for (const sub of ["cluster", "logs"])
    for (const file of filesUnder(path.join(dir, sub))) total += count(readFileSync(file, "utf8"));
  return total;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}
