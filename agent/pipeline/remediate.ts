import type { AgentRun } from "../agent/agent-run.js";
import { tryRemediationAgent } from "../agent/try-remediation-agent.js";
import type { Cluster, RolloutRef } from "../cluster/cluster.js";
import type { Config } from "../config.js";
import { diagnose } from "../diagnosis/diagnose.js";
import type { Fix, NoFix } from "../fix/fix.js";
import { gatherIncident } from "../incident/gather-incident.js";
import type { Logger } from "../logger.js";
import type { AgentModel } from "../model/create-chat-model.js";
import { proposeFix } from "../playbooks/propose-fix.js";
import { renderIssue } from "../render/render-issue.js";
import { renderPullRequest } from "../render/render-pull-request.js";
import type { Workspace } from "../workspace/workspace.js";
import type { RemediationResult } from "./remediation-result.js";

export interface RemediateInput {
  cluster: Cluster;
  ref: RolloutRef;
  config: Config;
  logger: Logger;
  /** The repository to fix, or null when none is known: the run then ends with an issue. */
  workspace: Workspace | null;
  allowPaths?: string[];
  version: string;
  /** The chat model for the remediation agent (real, replayed or scripted); null keeps the run deterministic. */
  model?: AgentModel | null;
}

/**
 * trigger → gather → diagnose → fix → verify → render. Delivery is the caller's next step,
 * so that a dry run and a real run share every decision up to the forge.
 */
export async function remediate(input: RemediateInput): Promise<RemediationResult> {
  const { cluster, ref, config, logger } = input;
  const started = Date.now();
  const incident = await gatherIncident(cluster, ref, {
    logTokenBudget: config.gather.logTokenBudget,
    logger,
  });
  logger.debug(
    { ms: Date.now() - started, pods: incident.pods.length, logs: incident.logs.length },
    "incident gathered",
  );

  const diagnosis = diagnose(incident);
  logger.info({ category: diagnosis.category, confidence: diagnosis.confidence }, "diagnosed");

  if (diagnosis.category === "not-failed") {
    return { incident, diagnosis, fix: null, noFix: null, pullRequest: null, issue: null };
  }

  let fix: Fix | null = null;
  let noFix: NoFix | null = null;
  if (input.workspace) {
    const proposal = await proposeFix({
      workspace: input.workspace,
      incident,
      diagnosis,
      config,
      allowPaths: input.allowPaths,
    });
    fix = proposal.fix;
    noFix = proposal.noFix;
  } else {
    noFix = { reason: "no repository is known for this Rollout", rejected: [] };
  }

  // No playbook fix: the remediation agent may look for a code or configuration change.
  let agent: AgentRun | null = null;
  if (!fix && noFix && input.workspace) {
    const step = await tryRemediationAgent({
      model: input.model ?? null,
      cluster,
      incident,
      diagnosis,
      workspace: input.workspace,
      config,
      logger,
      allowPaths: input.allowPaths,
      noFix,
    });
    ({ fix, noFix } = step);
    agent = step.run;
  }
  const promptVersion = agent?.promptVersion;

  if (fix) {
    const pullRequest = await renderPullRequest({
      incident,
      diagnosis,
      fix,
      version: input.version,
      promptVersion,
    });
    return { incident, diagnosis, fix, noFix: null, pullRequest, issue: null, agent };
  }
  const issue = await renderIssue({
    incident,
    diagnosis,
    noFix: noFix ?? { reason: "no fix was proposed", rejected: [] },
    version: input.version,
    promptVersion,
  });
  return { incident, diagnosis, fix: null, noFix, pullRequest: null, issue, agent };
}
