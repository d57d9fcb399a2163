import type { Forge, Issue, RepositoryRef } from "../forge/forge.js";
import type { Logger } from "../logger.js";
import type { RenderedIssue } from "../pipeline/remediation-result.js";
import { hashBody, parseMetadataComment } from "../render/pr-metadata.js";
import type { ForgeItemRef } from "./delivery-outcome.js";
import { ensureComment } from "./ensure-comment.js";

/** The label every rollout-medic pull request and issue carries; lookups start from it. */
export const BOT_LABEL = "rollout-medic";

export interface EnsureIssueInput {
  forge: Forge;
  repo: RepositoryRef;
  issue: RenderedIssue;
  rollout: { namespace: string; name: string };
  logger: Logger;
}

export interface EnsureIssueResult {
  action: "created" | "updated" | "unchanged" | "respected";
  issue: ForgeItemRef | null;
}

function ref(issue: Issue): ForgeItemRef {
  return { number: issue.number, url: issue.url };
}

/**
 * One issue per Rollout, found by the bot's label and the metadata's namespace and name: a new
 * failure of the same Rollout updates the open issue (and says so in one comment) instead of filing
 * another; an unchanged body is left alone; an issue a person closed for this very failure stays closed.
 */
export async function ensureIssue(input: EnsureIssueInput): Promise<EnsureIssueResult> {
  const { forge, repo, issue, rollout, logger } = input;
  const wanted = parseMetadataComment(issue.body);
  const mine = (await forge.listIssues(repo, BOT_LABEL)).flatMap((candidate) => {
    const meta = parseMetadataComment(candidate.body);
    return meta && meta.namespace === rollout.namespace && meta.name === rollout.name
      ? [{ candidate, meta }]
      : [];
  });
  const labels = [...new Set([BOT_LABEL, ...issue.labels])];

  const open = mine.find(({ candidate }) => candidate.state === "open");
  if (open) {
    const { candidate, meta } = open;
    const missing = labels.filter((l) => !candidate.labels.includes(l));
    const sameBody = meta.bodyHash === hashBody(issue.body);
    if (sameBody && candidate.title === issue.title) {
      if (missing.length > 0) await forge.addLabels(repo, candidate.number, missing);
      logger.info({ issue: candidate.number }, "issue unchanged");
      return { action: "unchanged", issue: ref(candidate) };
    }
    await forge.updateIssue(repo, candidate.number, { title: issue.title, body: issue.body });
    if (missing.length > 0) await forge.addLabels(repo, candidate.number, missing);
    if (wanted && wanted.key !== meta.key) {
      const revision = wanted.revision ? ` (revision ${wanted.revision})` : "";
      await ensureComment(
        forge,
        repo,
        candidate.number,
        `failed-again:${wanted.key}`,
        `The canary of \`${rollout.namespace}/${rollout.name}\` failed again${revision}: \`${wanted.category}\`. The description above now shows this failure.`,
      );
    }
    logger.info({ issue: candidate.number }, "issue updated");
    return { action: "updated", issue: ref(candidate) };
  }

  const closedForThisFailure = wanted
    ? mine.find(({ candidate, meta }) => candidate.state === "closed" && meta.key === wanted.key)
    : undefined;
  if (closedForThisFailure) {
    logger.info(
      { issue: closedForThisFailure.candidate.number },
      "issue for this failure was closed by a person",
    );
    return { action: "respected", issue: ref(closedForThisFailure.candidate) };
  }

  const created = await forge.createIssue(repo, { title: issue.title, body: issue.body, labels });
  logger.info({ issue: created.number }, "issue created");
  return { action: "created", issue: ref(created) };
}
