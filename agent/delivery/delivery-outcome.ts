import { EXIT } from "../errors.js";
import type { DeliveryLimitName } from "./delivery-limits.js";

/** A pull request or issue on the forge, as the outcome reports it. */
export interface ForgeItemRef {
  number: number;
  url: string;
}

export type RespectReason =
  /** A person closed this failure's pull request without merging it. */
  | "closed-unmerged"
  /** This failure's pull request was merged already; the canary will re-run after the sync or build. */
  | "already-merged"
  /** Someone other than the bot committed on the bot's branch. */
  | "human-commit"
  /** A person closed this failure's issue. */
  | "issue-closed";

/** What delivery did: every path ends in exactly one of these, and each maps to one exit code. */
export type DeliveryOutcome =
  | {
      kind: "pull-request";
      action: "created" | "updated" | "unchanged";
      pullRequest: ForgeItemRef;
      branch: string;
      /** Whether this run moved the branch (false when it already held the same tree). */
      pushed: boolean;
    }
  | { kind: "issue"; action: "created" | "updated" | "unchanged"; issue: ForgeItemRef; reason: string }
  | {
      kind: "limit";
      limit: DeliveryLimitName;
      detail: string;
      issue: ForgeItemRef | null;
      issueAction: "created" | "updated" | "unchanged" | "respected";
    }
  | {
      kind: "respected";
      reason: RespectReason;
      detail: string;
      item: ForgeItemRef | null;
      commented: boolean;
    }
  | { kind: "nothing-to-do"; reason: string };

export function exitCodeForOutcome(outcome: DeliveryOutcome): number {
  switch (outcome.kind) {
    case "pull-request":
      return EXIT.pullRequest;
    case "issue":
      return EXIT.issue;
    case "limit":
      return EXIT.refusedByLimit;
    case "respected":
    case "nothing-to-do":
      return EXIT.nothingToDo;
  }
}

/** One line for a person: what happened and where. */
export function describeOutcome(outcome: DeliveryOutcome): string {
  switch (outcome.kind) {
    case "pull-request":
      return `pull request #${outcome.pullRequest.number} ${outcome.action} (${outcome.pullRequest.url}) from ${outcome.branch}`;
    case "issue":
      return `issue #${outcome.issue.number} ${outcome.action} (${outcome.issue.url}): ${outcome.reason}`;
    case "limit":
      return `no pull request: ${outcome.detail}${outcome.issue ? `; issue #${outcome.issue.number} ${outcome.issueAction} (${outcome.issue.url})` : ""}`;
    case "respected":
      return `nothing done: ${outcome.detail}${outcome.item ? ` (#${outcome.item.number} ${outcome.item.url})` : ""}`;
    case "nothing-to-do":
      return `nothing to do: ${outcome.reason}`;
  }
}
