import type { PullRequest } from "../forge/forge.js";
import { parseMetadataComment } from "../render/pr-metadata.js";

/** How much a bot may do to one repository; exceeding any of these files an issue instead of a PR. */
export interface DeliveryLimits {
  /** New pull requests opened in the last hour, per repository. */
  maxNewPullRequestsPerHour: number;
  /** Open pull requests of the bot, per repository. */
  maxOpenPullRequests: number;
  /** Pull requests ever opened for one Rollout (distinct failures), counted from their metadata. */
  maxAttemptsPerRollout: number;
}

export const DEFAULT_DELIVERY_LIMITS: DeliveryLimits = {
  maxNewPullRequestsPerHour: 2,
  maxOpenPullRequests: 5,
  maxAttemptsPerRollout: 3,
};

export type DeliveryLimitName = "new-pull-requests-per-hour" | "open-pull-requests" | "attempts-per-rollout";

export interface LimitVerdict {
  limit: DeliveryLimitName;
  used: number;
  max: number;
  detail: string;
}

export interface LimitCheckInput {
  /** The bot's labelled pull requests of the repository, any state. */
  botPullRequests: PullRequest[];
  rollout: { namespace: string; name: string };
  /** The idempotency key (branch) of the pull request about to be opened. */
  key: string;
  limits: DeliveryLimits;
  now: Date;
}

/** Only pull requests whose metadata the bot can read count: a person's PR with the label does not. */
function ownPullRequests(prs: PullRequest[]) {
  return prs.flatMap((pr) => {
    const meta = parseMetadataComment(pr.body);
    return meta ? [{ pr, meta }] : [];
  });
}

/** The other failures of this Rollout that already got a pull request. */
function earlierAttempts(input: Omit<LimitCheckInput, "limits" | "now">): Set<string> {
  const keys = new Set<string>();
  for (const { meta } of ownPullRequests(input.botPullRequests)) {
    if (
      meta.namespace === input.rollout.namespace &&
      meta.name === input.rollout.name &&
      meta.key !== input.key
    ) {
      keys.add(meta.key);
    }
  }
  return keys;
}

/** 1 for the first pull request of a Rollout, 2 for the next failure's, … */
export function attemptNumber(input: Omit<LimitCheckInput, "limits" | "now">): number {
  return earlierAttempts(input).size + 1;
}

/** The first limit a new pull request would exceed, or null when it may be opened. */
export function checkPullRequestLimits(input: LimitCheckInput): LimitVerdict | null {
  const own = ownPullRequests(input.botPullRequests);
  const { limits } = input;
  const repoWide = `rollout-medic's limit for this repository`;

  const attempts = earlierAttempts(input).size;
  if (attempts >= limits.maxAttemptsPerRollout) {
    return {
      limit: "attempts-per-rollout",
      used: attempts,
      max: limits.maxAttemptsPerRollout,
      detail: `${attempts} pull requests were already opened for earlier failures of ${input.rollout.namespace}/${input.rollout.name} (limit ${limits.maxAttemptsPerRollout}, ROLLOUT_MEDIC_MAX_ATTEMPTS_PER_ROLLOUT): a person should look at this Rollout`,
    };
  }
  const open = own.filter(({ pr }) => pr.state === "open").length;
  if (open >= limits.maxOpenPullRequests) {
    return {
      limit: "open-pull-requests",
      used: open,
      max: limits.maxOpenPullRequests,
      detail: `${open} rollout-medic pull requests are open in this repository, ${repoWide} (${limits.maxOpenPullRequests}, ROLLOUT_MEDIC_MAX_OPEN_PRS): merge or close some first`,
    };
  }
  const hourAgo = input.now.getTime() - 3600_000;
  const recent = own.filter(({ pr }) => Date.parse(pr.createdAt) > hourAgo).length;
  if (recent >= limits.maxNewPullRequestsPerHour) {
    return {
      limit: "new-pull-requests-per-hour",
      used: recent,
      max: limits.maxNewPullRequestsPerHour,
      detail: `${recent} rollout-medic pull requests were opened in this repository in the last hour, ${repoWide} (${limits.maxNewPullRequestsPerHour}, ROLLOUT_MEDIC_MAX_NEW_PRS_PER_HOUR)`,
    };
  }
  return null;
}
