import { HumanMessage } from "@langchain/core/messages";
import { createAgent, toolStrategy } from "langchain";
import type { Cluster } from "../cluster/cluster.js";
import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import type { Logger } from "../logger.js";
import { countTokens } from "../logs/count-tokens.js";
import type { AgentModel } from "../model/create-chat-model.js";
import type { Playbook } from "../playbooks/playbook.js";
import { readRepositoryPolicy } from "../playbooks/propose-fix.js";
import { PLAYBOOKS } from "../playbooks/run-playbooks.js";
import { promptVersion } from "../prompts/render-prompt.js";
import { redactText } from "../redaction/redact-secrets.js";
import type { PathPolicy } from "../verify/path-policy.js";
import { verifyFix } from "../verify/verify-fix.js";
import type { Workspace } from "../workspace/workspace.js";
import { createTools } from "../../tools/index.js";
import type { ToolContext } from "../../tools/tool-context.js";
import { AgentGuard } from "./agent-guard.js";
import type { AgentRun, AgentUsage } from "./agent-run.js";
import { GuardStop } from "./guard-stop.js";
import { GuardedWorkspace } from "./guarded-workspace.js";
import { RemediationOutcome } from "./remediation-outcome.js";
import { renderSystemPrompt, renderTaskPrompt } from "./render-agent-prompts.js";

export interface RunAgentInput {
  model: AgentModel;
  cluster: Cluster;
  incident: Incident;
  diagnosis: Diagnosis;
  workspace: Workspace;
  config: Config;
  logger: Logger;
  /** The scenario's (or operator's) allowPaths; the repository's own `.rollout-medic.yaml` narrows them. */
  allowPaths?: string[];
  playbooks?: readonly Playbook[];
}

/**
 * One agent run: investigate with read-only cluster tools, change the repository through the guarded
 * workspace, answer with a structured outcome. The outcome's word is not enough for a pull request: the
 * workspace's diff must pass the same verification as a playbook's. Anything else leaves the workspace
 * as it was, so no partial change is ever proposed.
 */
export async function runRemediationAgent(input: RunAgentInput): Promise<AgentRun> {
  const { model, incident, diagnosis, workspace, config, logger } = input;
  const policy = await pathPolicyFor(workspace, input.allowPaths);
  const guarded = new GuardedWorkspace(workspace, policy, config.policy.maxDiffLines);
  const context: ToolContext = {
    cluster: input.cluster,
    incident,
    diagnosis,
    workspace: guarded,
    config,
    playbooks: input.playbooks ?? PLAYBOOKS,
    outputTokens: config.agent.toolOutputTokens,
  };
  const tools = createTools(context);
  const responseFormat = toolStrategy(RemediationOutcome);
  const guard = new AgentGuard({
    limits: config.agent,
    logger,
    modelLabel: model.label,
    retries: model.retries,
    generation: () => guarded.generation,
    extraToolTokens: responseFormat.reduce((n, s) => n + countTokens(JSON.stringify(s.tool)), 0),
    recorder: model.recorder,
  });
  const agent = createAgent({
    model: model.chatModel,
    tools,
    systemPrompt: renderSystemPrompt(incident, diagnosis, config.agent),
    responseFormat,
    middleware: [guard.middleware()],
  });
  const task = renderTaskPrompt({
    incident,
    diagnosis,
    files: await workspace.listFiles(),
    policy,
    maxDiffLines: config.policy.maxDiffLines,
  });

  const base = { refusals: guard.refusals, promptVersion: promptVersion() };
  logger.info({ model: model.label, tools: tools.length, category: diagnosis.category }, "agent started");
  guard.start(tools.map((t) => t.name));
  let outcome: RemediationOutcome | null;
  try {
    const state = await agent.invoke(
      { messages: [new HumanMessage(task)] },
      {
        signal: guard.signal,
        recursionLimit: (config.agent.maxModelCalls + config.agent.maxToolCalls) * 3 + 25,
      },
    );
    outcome = RemediationOutcome.safeParse(state.structuredResponse).data ?? null;
  } catch (error) {
    // Tool calls of the same turn may still be writing: undo only once they are done.
    await guard.settled();
    await workspace.reset();
    const explained = guard.explain(error);
    if (explained instanceof GuardStop) {
      logger.warn(
        { limit: explained.stop.limit, used: explained.stop.used, max: explained.stop.max },
        "agent stopped by a guardrail",
      );
      return {
        ...base,
        status: "stopped",
        outcome: null,
        fix: null,
        reason: `the remediation agent was stopped and its changes discarded: ${explained.stop.detail}`,
        stop: explained.stop,
        usage: usageOf(guard, model, config),
      };
    }
    throw explained;
  } finally {
    guard.finish();
    const saved = model.recorder?.save();
    if (saved) logger.info({ file: saved, responses: model.recorder?.size }, "model conversation recorded");
  }

  const usage = usageOf(guard, model, config);
  logger.info({ ...usage, decision: outcome?.decision ?? null }, "agent finished");
  if (!outcome) {
    await workspace.reset();
    return {
      ...base,
      status: "rejected",
      outcome: null,
      fix: null,
      reason: "the remediation agent ended without calling remediation_outcome",
      stop: null,
      usage,
    };
  }
  if (outcome.decision !== "pull-request") {
    await workspace.reset();
    const verdict = outcome.decision === "issue" ? "a person must act" : "nothing needs to change";
    return {
      ...base,
      status: "declined",
      outcome,
      fix: null,
      reason: `the remediation agent concluded that ${verdict}. Root cause it found: ${redactText(outcome.rootCause)}`,
      stop: null,
      usage,
    };
  }
  const verdict = await verifyFix(workspace, { policy, maxDiffLines: config.policy.maxDiffLines });
  if (!verdict.ok) {
    await workspace.reset();
    return {
      ...base,
      status: "rejected",
      outcome,
      fix: null,
      reason: `the remediation agent's change was refused by verification: ${verdict.reason}. Root cause it found: ${redactText(outcome.rootCause)}`,
      stop: null,
      usage,
    };
  }
  const fix = toAgentFix(
    outcome,
    diagnosis,
    verdict.diff,
    verdict.files,
    model.label,
    base.promptVersion,
    verdict.notes,
  );
  return { ...base, status: "proposed", outcome, fix, reason: null, stop: null, usage };
}

/** The same composition as the playbooks' verification: the scenario's allowPaths, narrowed by the repository's. */
async function pathPolicyFor(workspace: Workspace, allowPaths: string[] | undefined): Promise<PathPolicy> {
  const repository = await readRepositoryPolicy(workspace);
  return {
    ...(allowPaths && allowPaths.length > 0 ? { allowPaths } : {}),
    ...(repository.allowPaths ? { alsoAllowPaths: repository.allowPaths } : {}),
  };
}

function usageOf(guard: AgentGuard, model: AgentModel, config: Config): AgentUsage {
  const price = config.model.pricePer1k;
  const cost = (guard.inputTokens / 1000) * price.input + (guard.outputTokens / 1000) * price.output;
  return {
    model: model.label,
    modelCalls: guard.modelCalls,
    toolCalls: guard.toolCalls,
    inputTokens: guard.inputTokens,
    outputTokens: guard.outputTokens,
    totalTokens: guard.inputTokens + guard.outputTokens,
    costUsd: Math.round(cost * 1_000_000) / 1_000_000,
    durationMs: guard.elapsedMs,
    tokensEstimated: guard.tokensEstimated,
  };
}

/**
 * The model's texts are redacted here already, before the renderers redact the whole body again: a
 * secret it copied from a log must not survive in any field of the Fix.
 */
export function toAgentFix(
  outcome: RemediationOutcome,
  diagnosis: Diagnosis,
  diff: string,
  files: string[],
  modelLabel: string,
  prompts: string,
  notes: string[] = [],
): Fix {
  const manifestsOnly = files.every((f) => /\.(ya?ml|json)$/i.test(f));
  return {
    strategy: "agent",
    fixer: "agent",
    category: diagnosis.category,
    files,
    diff,
    changes: changesOf(diff),
    rationale: redactText(
      [
        outcome.changeSummary.trim(),
        `Root cause: ${outcome.rootCause.trim()}`,
        ...notes.map((n) => `Verification: ${n}.`),
      ]
        .filter((s) => s !== "")
        .join("\n\n"),
    ),
    reviewerChecklist: [
      ...outcome.reviewerChecks.map((c) => redactText(c)),
      `This change was written by an AI agent (${modelLabel}, prompts ${prompts}): read the whole diff before merging.`,
    ],
    ...(manifestsOnly
      ? {}
      : {
          rolloutNote:
            "This changes application code. A new canary starts once your CI builds an image from the merge and the Rollout's image is updated (by your image updater or release pipeline); until then the stable version keeps serving.",
        }),
    confidence: Math.max(0, Math.min(1, outcome.confidence)),
  };
}

/** One row per changed hunk: where, the first removed line and the first added line. */
function changesOf(diff: string): FixChange[] {
  const changes: FixChange[] = [];
  let file = "";
  let current: FixChange | null = null;
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) {
      file = line.replace(/^\+\+\+ (b\/)?/, "");
      continue;
    }
    if (line.startsWith("--- ")) continue;
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      current = { file, location: `lines ${start}-${start + Math.max(count, 1) - 1}`, from: "", to: "" };
      changes.push(current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith("-") && current.from === "") current.from = line.slice(1).trim();
    if (line.startsWith("+") && current.to === "") current.to = line.slice(1).trim();
  }
  for (const change of changes) {
    if (change.from === "") change.from = "(nothing: lines added)";
    if (change.to === "") change.to = "(nothing: lines removed)";
  }
  return changes.slice(0, 20);
}
