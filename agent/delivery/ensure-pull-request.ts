import { setTimeout as sleep } from "node:timers/promises";
import { ForgeError, WorkspaceError } from "../errors.js";
import { PullRequestExistsError } from "../forge/forge.js";
import type { BranchHead, Forge, PullRequest, RepositoryRef } from "../forge/forge.js";
import type { Logger } from "../logger.js";
import type { RenderedIssue, RenderedPullRequest } from "../pipeline/remediation-result.js";
import {
  hashBody,
  parseMetadataComment,
  renderMetadataComment,
  stripMetadataComment,
} from "../render/pr-metadata.js";
import { assertBotBranch } from "../workspace/git-remote-workspace.js";
import type { GitIdentity, LocalCommit, RemoteWorkspace } from "../workspace/git-remote-workspace.js";
import { attemptNumber, checkPullRequestLimits } from "./delivery-limits.js";
import type { DeliveryLimits } from "./delivery-limits.js";
import type { DeliveryOutcome, ForgeItemRef } from "./delivery-outcome.js";
import { ensureComment } from "./ensure-comment.js";
import { BOT_LABEL, ensureIssue } from "./ensure-issue.js";

export interface EnsurePullRequestInput {
  forge: Forge;
  repo: RepositoryRef;
  /** The clone the verified fix was written into. */
  workspace: RemoteWorkspace;
  pullRequest: RenderedPullRequest;
  rollout: { namespace: string; name: string };
  /** Commits are made as, and the branch is recognised as the bot's by, this identity. */
  bot: GitIdentity;
  limits: DeliveryLimits;
  /** Renders the issue filed instead when a limit forbids the pull request. */
  limitIssue: (reason: string) => Promise<RenderedIssue>;
  logger: Logger;
  now?: () => Date;
  /** Pause before re-asking GitHub, which can take a moment to see a just-pushed branch. */
  settleMs?: number;
}

const MAX_PUSH_ROUNDS = 3;

function ref(pr: PullRequest): ForgeItemRef {
  return { number: pr.number, url: pr.url };
}

function sameIdentity(a: { email: string }, b: GitIdentity): boolean {
  return a.email.toLowerCase() === b.email.toLowerCase();
}

/** A branch the bot may still move: its head commit is the bot's, as author and as committer. */
export function isBotCommit(head: BranchHead, bot: GitIdentity): boolean {
  return sameIdentity(head.author, bot) && sameIdentity(head.committer, bot);
}

/** Records the attempt number in the metadata comment; the visible body, and so its hash, stay as rendered. */
function withAttempt(body: string, attempt: number): string {
  const meta = parseMetadataComment(body);
  if (!meta || meta.attempt === attempt) return body;
  return `${stripMetadataComment(body).trimEnd()}\n\n${renderMetadataComment({ ...meta, attempt })}\n`;
}

function bodyHashOf(body: string): string {
  return parseMetadataComment(body)?.bodyHash ?? hashBody(body);
}

type Publication =
  | { status: "published"; sha: string; pushed: boolean; createdBranch: boolean }
  | { status: "human"; head: BranchHead };

/**
 * Opens or updates the one pull request for this failure. The branch name is the idempotency key and the
 * forge is the only state: a re-run updates the same branch and pull request, a closed pull request or a
 * person's commit stops the bot, and the repository's limits turn a new pull request into an issue.
 * Two runs for the same failure at once converge on one branch and one pull request.
 */
export async function ensurePullRequest(input: EnsurePullRequestInput): Promise<DeliveryOutcome> {
  const { forge, repo, workspace, pullRequest, logger, bot } = input;
  const branch = pullRequest.branch;
  const base = workspace.remote.baseBranch;
  assertBotBranch(branch, workspace.remote);
  const labels = [...new Set([BOT_LABEL, ...pullRequest.labels])];

  const existing = await forge.listPullRequestsForBranch(repo, branch);
  const open = existing.find((pr) => pr.state === "open");
  if (!open) {
    const merged = existing.find((pr) => pr.merged);
    if (merged) {
      return {
        kind: "respected",
        reason: "already-merged",
        detail: `the pull request for this failure was merged; the canary re-runs once the change is synced or built`,
        item: ref(merged),
        commented: false,
      };
    }
    const closed = existing.find((pr) => pr.state === "closed");
    if (closed) {
      const commented = await ensureComment(
        forge,
        repo,
        closed.number,
        "closed-respected",
        `This canary failed again for the same pod template. This pull request was closed without merging, so rollout-medic will not open another one for this failure; reopen it if you want the change after all.`,
      );
      logger.info({ pullRequest: closed.number, commented }, "closed pull request respected");
      return {
        kind: "respected",
        reason: "closed-unmerged",
        detail: `a person closed the pull request for this failure without merging it`,
        item: ref(closed),
        commented,
      };
    }
  }

  const commit = await workspace.commitChanges({
    message: `${pullRequest.title}\n\nRollout-Medic-Key: ${branch}`,
    author: bot,
  });
  if (!commit) throw new WorkspaceError("the fix left no change in the working copy: nothing to commit");

  if (open) return updateExisting(input, open, commit, labels);

  const botPullRequests = await forge.listBotPullRequests(repo, BOT_LABEL);
  const now = (input.now ?? (() => new Date()))();
  const verdict = checkPullRequestLimits({
    botPullRequests,
    rollout: input.rollout,
    key: branch,
    limits: input.limits,
    now,
  });
  if (verdict) {
    logger.warn({ limit: verdict.limit, used: verdict.used, max: verdict.max }, "pull request limit reached");
    const filed = await ensureIssue({
      forge,
      repo,
      issue: await input.limitIssue(verdict.detail),
      rollout: input.rollout,
      logger,
    });
    return {
      kind: "limit",
      limit: verdict.limit,
      detail: verdict.detail,
      issue: filed.issue,
      issueAction: filed.action,
    };
  }

  const attempt = attemptNumber({ botPullRequests, rollout: input.rollout, key: branch });
  const body = withAttempt(pullRequest.body, attempt);
  const published = await publish(input, commit);
  if (published.status === "human") {
    return {
      kind: "respected",
      reason: "human-commit",
      detail: `someone other than rollout-medic committed on ${branch} (${published.head.author.email}); the bot no longer pushes there`,
      item: null,
      commented: false,
    };
  }

  let created: PullRequest;
  try {
    created = await createWithSettling(input, { head: branch, base, title: pullRequest.title, body });
  } catch (error) {
    if (error instanceof PullRequestExistsError) {
      // Another run for the same failure opened it between our lookup and our create: update that one.
      const winner = (await forge.listPullRequestsForBranch(repo, branch)).find((pr) => pr.state === "open");
      if (winner) {
        logger.info({ pullRequest: winner.number }, "pull request opened concurrently; updating it");
        return updateExisting(input, winner, commit, labels, published);
      }
    }
    if (published.createdBranch) {
      // No pull request, so no branch either: only a converging run may leave a branch behind.
      await forge
        .deleteBranch({ repo, workspace, branch, expectedRemoteSha: published.sha })
        .catch((cleanup: unknown) =>
          logger.warn({ err: cleanup, branch }, "could not delete the branch of a failed pull request"),
        );
    }
    throw error;
  }
  await addLabelsBestEffort(input, created.number, labels);
  logger.info({ pullRequest: created.number, branch }, "pull request created");
  return {
    kind: "pull-request",
    action: "created",
    pullRequest: ref(created),
    branch,
    pushed: published.pushed,
  };
}

async function updateExisting(
  input: EnsurePullRequestInput,
  open: PullRequest,
  commit: LocalCommit,
  labels: string[],
  /** The branch as this run already published it, when it did before finding the pull request. */
  publishedEarlier?: Publication,
): Promise<DeliveryOutcome> {
  const { forge, repo, pullRequest, logger } = input;
  const published = publishedEarlier ?? (await publish(input, commit));
  if (published.status === "human") {
    const commented = await ensureComment(
      forge,
      repo,
      open.number,
      "human-commit",
      `Someone other than rollout-medic pushed to \`${pullRequest.branch}\`, so rollout-medic will not push to this pull request again. It keeps the pull request open and leaves the rest to you.`,
    );
    logger.info({ pullRequest: open.number, commented }, "human commit on the bot branch respected");
    return {
      kind: "respected",
      reason: "human-commit",
      detail: `someone other than rollout-medic committed on ${pullRequest.branch} (${published.head.author.email}); the bot no longer pushes there`,
      item: ref(open),
      commented,
    };
  }
  const previousAttempt = parseMetadataComment(open.body)?.attempt;
  const body =
    previousAttempt === undefined ? pullRequest.body : withAttempt(pullRequest.body, previousAttempt);
  const changes: { title?: string; body?: string } = {};
  if (open.title !== pullRequest.title) changes.title = pullRequest.title;
  // What the bot last wrote (its metadata) against what it would write now: a person's edits alone do not count.
  if (bodyHashOf(open.body) !== hashBody(body)) changes.body = body;
  if (Object.keys(changes).length > 0) await forge.updatePullRequest(repo, open.number, changes);
  const missing = labels.filter((l) => !open.labels.includes(l));
  if (missing.length > 0) await addLabelsBestEffort(input, open.number, missing);
  const changed = published.pushed || Object.keys(changes).length > 0;
  logger.info(
    { pullRequest: open.number, pushed: published.pushed, edited: Object.keys(changes) },
    "pull request ensured",
  );
  return {
    kind: "pull-request",
    action: changed ? "updated" : "unchanged",
    pullRequest: ref(open),
    branch: pullRequest.branch,
    pushed: published.pushed,
  };
}

/**
 * Puts `commit` on the bot's branch with force-with-lease on what was last seen there. A branch that
 * already holds the same tree is left alone (a concurrent run pushed the same fix); a lost lease means
 * someone pushed meanwhile, so the branch is read again; a head the bot did not author stops it.
 */
async function publish(input: EnsurePullRequestInput, commit: LocalCommit): Promise<Publication> {
  const { forge, repo, workspace, pullRequest, bot, logger } = input;
  const branch = pullRequest.branch;
  for (let round = 0; round < MAX_PUSH_ROUNDS; round++) {
    const head = await forge.findBranch(repo, branch);
    if (head && !isBotCommit(head, bot)) return { status: "human", head };
    if (head && head.tree === commit.tree)
      return { status: "published", sha: head.sha, pushed: false, createdBranch: false };
    const result = await forge.pushBranch({
      repo,
      workspace,
      branch,
      commit,
      expectedRemoteSha: head?.sha ?? null,
    });
    if (result.status === "pushed") {
      return { status: "published", sha: commit.sha, pushed: true, createdBranch: head === null };
    }
    if (result.status === "rejected") {
      throw new ForgeError(
        `the git server rejected the push to ${branch} (${result.detail}): is the branch protected?`,
      );
    }
    logger.info({ branch, round }, "branch moved while pushing; reading it again");
  }
  throw new ForgeError(
    `${branch} kept moving while rollout-medic pushed to it: another process is writing to it`,
  );
}

async function createWithSettling(
  input: EnsurePullRequestInput,
  request: { head: string; base: string; title: string; body: string },
): Promise<PullRequest> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await input.forge.createPullRequest(input.repo, request);
    } catch (error) {
      // GitHub may answer "head invalid" for a branch pushed a moment ago; it sees it shortly after.
      const headNotSeen =
        error instanceof ForgeError &&
        error.status === 422 &&
        !(error instanceof PullRequestExistsError) &&
        /head/i.test(error.message);
      if (!headNotSeen || attempt >= 3) throw error;
      await sleep(input.settleMs ?? 1000);
    }
  }
}

async function addLabelsBestEffort(
  input: EnsurePullRequestInput,
  number: number,
  labels: string[],
): Promise<void> {
  try {
    await input.forge.addLabels(input.repo, number, labels);
  } catch (error) {
    // The pull request is what matters; the next run adds the labels it finds missing.
    input.logger.warn({ err: error, pullRequest: number }, "could not label the pull request");
  }
}
