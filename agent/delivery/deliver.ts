import type { Forge, RepositoryRef } from "../forge/forge.js";
import type { Logger } from "../logger.js";
import type { RemediationResult } from "../pipeline/remediation-result.js";
import { renderIssue } from "../render/render-issue.js";
import type { GitIdentity, RemoteWorkspace } from "../workspace/git-remote-workspace.js";
import type { DeliveryLimits } from "./delivery-limits.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { ensureIssue } from "./ensure-issue.js";
import { ensurePullRequest } from "./ensure-pull-request.js";

export interface DeliverInput {
  result: RemediationResult;
  forge: Forge;
  repo: RepositoryRef;
  /** The clone holding the verified fix; null when no repository could be cloned (then only an issue). */
  workspace: RemoteWorkspace | null;
  bot: GitIdentity;
  limits: DeliveryLimits;
  /** rollout-medic's version, for issues rendered here. */
  version: string;
  logger: Logger;
  now?: () => Date;
  settleMs?: number;
}

/**
 * The pipeline's last step: a verified fix becomes (or updates) one pull request, anything else one
 * issue per Rollout. Every decision that depends on the forge's state is made here, after the
 * pipeline's, so a dry run and a real run differ only in the Forge they were given.
 */
export async function deliver(input: DeliverInput): Promise<DeliveryOutcome> {
  const { result, forge, repo, logger } = input;
  const rollout = { namespace: result.incident.rollout.namespace, name: result.incident.rollout.name };
  if (result.diagnosis.category === "not-failed") {
    return { kind: "nothing-to-do", reason: `${rollout.namespace}/${rollout.name} is not failed` };
  }

  if (result.fix && result.pullRequest && input.workspace) {
    const fix = result.fix;
    return ensurePullRequest({
      forge,
      repo,
      workspace: input.workspace,
      pullRequest: result.pullRequest,
      rollout,
      bot: input.bot,
      limits: input.limits,
      logger,
      ...(input.now ? { now: input.now } : {}),
      ...(input.settleMs !== undefined ? { settleMs: input.settleMs } : {}),
      limitIssue: (reason) =>
        renderIssue({
          incident: result.incident,
          diagnosis: result.diagnosis,
          noFix: {
            reason: `a verified fix exists (${fix.fixer}: ${fix.files.join(", ")}), but no pull request was opened: ${reason}`,
            rejected: [],
          },
          version: input.version,
        }),
    });
  }

  const issue =
    result.issue ??
    (await renderIssue({
      incident: result.incident,
      diagnosis: result.diagnosis,
      noFix: result.noFix ?? { reason: "no fix was proposed", rejected: [] },
      version: input.version,
    }));
  const reason = result.noFix?.reason ?? "no safe fix";
  const filed = await ensureIssue({ forge, repo, issue, rollout, logger });
  if (filed.action === "respected") {
    return {
      kind: "respected",
      reason: "issue-closed",
      detail: "a person closed the issue for this failure",
      item: filed.issue,
      commented: false,
    };
  }
  return { kind: "issue", action: filed.action, issue: filed.issue!, reason };
}
