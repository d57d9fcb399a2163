import type { Cluster } from "../cluster/cluster.js";
import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import type { Logger } from "../logger.js";
import type { AgentModel } from "../model/create-chat-model.js";
import type { Workspace } from "../workspace/workspace.js";
import type { AgentRun } from "./agent-run.js";
import { agentApplies } from "./render-agent-prompts.js";

export interface TryAgentInput {
  model: AgentModel | null;
  cluster: Cluster;
  incident: Incident;
  diagnosis: Diagnosis;
  workspace: Workspace;
  config: Config;
  logger: Logger;
  allowPaths?: string[];
  /** Why the playbooks proposed nothing; kept, and extended with the agent's own conclusion. */
  noFix: NoFix;
}

export interface AgentStep {
  fix: Fix | null;
  noFix: NoFix | null;
  run: AgentRun | null;
}

export const ENABLE_AGENT_HINT =
  "The remediation agent could look for a code or configuration fix: enable it with --model provider:name (or ROLLOUT_MEDIC_MODEL), e.g. --model openai:gpt-4.1 with OPENAI_API_KEY, or any OpenAI-compatible server with OPENAI_BASE_URL (docs/agent.md).";

/**
 * The pipeline's agent step, after the playbooks proposed nothing: runs the agent for the categories
 * where a repository change can help, and otherwise says how to enable it. LangChain is loaded only
 * when a model is configured, so a deterministic run never pays for it.
 */
export async function tryRemediationAgent(input: TryAgentInput): Promise<AgentStep> {
  const { noFix, diagnosis } = input;
  if (!agentApplies(diagnosis)) return { fix: null, noFix, run: null };
  if (!input.model)
    return {
      fix: null,
      noFix: { ...noFix, reason: `${withStop(noFix.reason)} ${ENABLE_AGENT_HINT}` },
      run: null,
    };
  const { runRemediationAgent } = await import("./run-remediation-agent.js");
  const run = await runRemediationAgent({
    model: input.model,
    cluster: input.cluster,
    incident: input.incident,
    diagnosis,
    workspace: input.workspace,
    config: input.config,
    logger: input.logger,
    allowPaths: input.allowPaths,
  });
  if (run.fix) return { fix: run.fix, noFix: null, run };
  const reason = `${withStop(noFix.reason)} ${capitalize(withStop(run.reason ?? "the remediation agent proposed no change"))}`;
  const refused = run.status === "stopped" || run.status === "rejected";
  return {
    fix: null,
    noFix: {
      reason,
      rejected: [
        ...noFix.rejected,
        ...(refused ? [{ fixer: "agent", reason: run.reason ?? run.status }] : []),
        ...run.refusals.slice(0, 5).map((r) => ({ fixer: `agent ${r.tool}`, reason: r.reason })),
      ],
    },
    run,
  };
}

function withStop(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
