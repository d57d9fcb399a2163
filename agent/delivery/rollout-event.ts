import type { RolloutEventInput } from "../jobs/record-rollout-event.js";
import type { Logger } from "../logger.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";

export type { RolloutEventInput };

/**
 * Records what a run did as a Kubernetes Event on the Rollout, as Argo Rollouts records its own. Chosen once
 * in the run command: the Kubernetes API, or with `--dry-run` the DryRunEventRecorder.
 */
export interface RolloutEventRecorder {
  record(event: RolloutEventInput): Promise<void>;
}

/** The recorder of `--dry-run`: logs and prints `DRY-RUN: would record Event …`, writes nothing. */
export class DryRunEventRecorder implements RolloutEventRecorder {
  constructor(
    private readonly logger: Logger,
    private readonly print?: (line: string) => void,
  ) {}

  async record(event: RolloutEventInput): Promise<void> {
    const rollout = `${event.rollout.namespace}/${event.rollout.name}`;
    this.logger.info(
      { rollout, type: event.type, reason: event.reason, message: event.message },
      "DRY-RUN: would record Event",
    );
    this.print?.(
      `DRY-RUN: would record Event ${event.reason} (${event.type}) on Rollout ${rollout}: ${event.message}`,
    );
  }
}

export interface OutcomeEventContext {
  rollout: { namespace: string; name: string; uid?: string };
  /** The diagnosis category ("oom-killed", …). */
  category: string;
  revision: string | null;
}

/**
 * The one Event a delivery outcome is worth: Normal for a pull request, Warning for an issue or a refusal;
 * none when nothing was opened (a person's decision was respected, or there was nothing to do).
 */
export function rolloutEventFor(
  outcome: DeliveryOutcome,
  context: OutcomeEventContext,
): RolloutEventInput | null {
  const about = `diagnosis ${context.category}${context.revision ? `, revision ${context.revision}` : ""}`;
  const base = { rollout: context.rollout };
  switch (outcome.kind) {
    case "pull-request": {
      const pr = `pull request #${outcome.pullRequest.number} ${outcome.pullRequest.url}`;
      if (outcome.action === "created") {
        return {
          ...base,
          type: "Normal",
          reason: "RemediationPullRequestOpened",
          action: "Open",
          message: `rollout-medic opened ${pr} (${about})`,
        };
      }
      return {
        ...base,
        type: "Normal",
        reason:
          outcome.action === "updated" ? "RemediationPullRequestUpdated" : "RemediationPullRequestUnchanged",
        action: "Update",
        message: `rollout-medic ${outcome.action === "updated" ? "updated" : "found up to date"} ${pr} (${about})`,
      };
    }
    case "issue": {
      const issue = `issue #${outcome.issue.number} ${outcome.issue.url}`;
      return {
        ...base,
        type: "Warning",
        reason: outcome.action === "created" ? "RemediationIssueFiled" : "RemediationIssueUpdated",
        action: outcome.action === "created" ? "File" : "Update",
        message: `rollout-medic ${outcome.action === "created" ? "filed" : outcome.action === "updated" ? "updated" : "found up to date"} ${issue} (${about}): ${outcome.reason}`,
      };
    }
    case "limit":
      return {
        ...base,
        type: "Warning",
        reason: "RemediationRefused",
        action: "Refuse",
        message:
          `rollout-medic opened no pull request (${about}): ${outcome.detail}` +
          (outcome.issue
            ? `; issue #${outcome.issue.number} ${outcome.issue.url} ${outcome.issueAction}`
            : ""),
      };
    case "respected":
    case "nothing-to-do":
      return null;
  }
}

/** Records the outcome's Event; a failure is logged and never fails the run: the Event only tells people. */
export async function recordOutcomeEvent(
  recorder: RolloutEventRecorder,
  outcome: DeliveryOutcome,
  context: OutcomeEventContext,
  logger: Logger,
): Promise<void> {
  const event = rolloutEventFor(outcome, context);
  if (!event) return;
  try {
    await recorder.record(event);
  } catch (error) {
    logger.warn({ err: error, reason: event.reason }, "rollout event not recorded");
  }
}
