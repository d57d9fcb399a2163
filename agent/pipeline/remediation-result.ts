import type { AgentRun } from "../agent/agent-run.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";

export interface RenderedPullRequest {
  title: string;
  branch: string;
  labels: string[];
  body: string;
}

export interface RenderedIssue {
  title: string;
  body: string;
  labels: string[];
}

/** What one pass through the pipeline concluded, before delivery. */
export interface RemediationResult {
  incident: Incident;
  diagnosis: Diagnosis;
  fix: Fix | null;
  noFix: NoFix | null;
  pullRequest: RenderedPullRequest | null;
  issue: RenderedIssue | null;
  /** The remediation agent's run, when one ran. */
  agent?: AgentRun | null;
}

/** The `dry-run --json` contract of shared/spec/scenario-format.md, with optional extensions after the spec's fields. */
export function toDryRunJson(result: RemediationResult): Record<string, unknown> {
  const { incident, diagnosis, fix } = result;
  return {
    rollout: {
      namespace: incident.rollout.namespace,
      name: incident.rollout.name,
      revision: incident.rollout.revision ?? null,
    },
    diagnosis: {
      category: diagnosis.category,
      summary: diagnosis.summary,
      confidence: diagnosis.confidence,
      evidence: diagnosis.evidence,
    },
    fix: fix
      ? { strategy: fix.strategy, files: fix.files, diff: fix.diff, fixer: fix.fixer, changes: fix.changes }
      : null,
    pullRequest: result.pullRequest,
    issue: result.issue,
    noFix: result.noFix,
    warnings: incident.warnings,
    quarantined: incident.quarantined,
    usage: result.agent?.usage ?? null,
    agent: result.agent
      ? {
          status: result.agent.status,
          decision: result.agent.outcome?.decision ?? null,
          reason: result.agent.reason,
          stop: result.agent.stop,
          refusals: result.agent.refusals,
          promptVersion: result.agent.promptVersion,
        }
      : null,
  };
}
