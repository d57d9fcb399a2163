import { z } from "zod";

/** The structured-output tool's name: the model ends its run by calling it. */
export const OUTCOME_TOOL_NAME = "remediation_outcome";

/**
 * The agent's final answer. Only the decision and texts come from the model; whether a change is
 * proposed is decided afterwards from the workspace's verified diff, never from the model's word.
 */
export const RemediationOutcome = z
  .object({
    decision: z
      .enum(["pull-request", "issue", "nothing"])
      .describe(
        "pull-request: you changed the repository and the change fixes the root cause; issue: a person must act (no safe change in this repository); nothing: the canary failure needs no action",
      ),
    rootCause: z
      .string()
      .min(1)
      .max(2000)
      .describe("The root cause in two or three sentences, citing the evidence (log line, file and line)."),
    changeSummary: z
      .string()
      .max(2000)
      .describe("What your change does and why it fixes the root cause; empty when you changed nothing."),
    confidence: z
      .number()
      .min(0)
      .max(1)
      .describe("How sure you are that the change fixes the failure, 0 to 1."),
    reviewerChecks: z
      .array(z.string().min(1).max(300))
      .max(8)
      .describe("What a reviewer should check before merging, one short item each."),
  })
  .meta({
    title: OUTCOME_TOOL_NAME,
    description: "Finish the run: call this exactly once, after your last edit, with your conclusion.",
  });
export type RemediationOutcome = z.infer<typeof RemediationOutcome>;
