import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import {
  WithheldLedger,
  formatConfidence,
  renderEvidence,
  renderFooter,
  renderRootCause,
  renderStepsDiagram,
  renderWhatFailed,
  rolloutRef,
} from "./body-sections.js";
import type { EvidenceBudget } from "./body-sections.js";
import { branchNameFor } from "./branch-name.js";
import { describeStepPosition, findFailedStep } from "./canary-steps.js";
import { finalizeBody } from "./finalize-body.js";
import { escapeInline, inlineCode, markdownTable } from "./markdown.js";
import { nextStepsFor } from "./next-steps.js";
import { METADATA_SCHEMA_VERSION } from "./pr-metadata.js";
import { cleanUntrusted } from "./untrusted-text.js";

export interface RenderIssueInput {
  incident: Incident;
  diagnosis: Diagnosis;
  noFix: NoFix;
  /** rollout-medic's package version, recorded in the metadata. */
  version: string;
  promptVersion?: string;
  attempt?: number;
}

export interface RenderedIssue {
  title: string;
  body: string;
  labels: string[];
}

/**
 * The issue filed when no change can be proposed: the same evidence as a pull request, why no fix
 * was made, and what a person should check first.
 */
export async function renderIssue(input: RenderIssueInput): Promise<RenderedIssue> {
  const { incident, diagnosis } = input;
  const { rollout } = incident;
  // The branch name is never pushed for an issue; it is the same idempotency key a later run looks for.
  const key = branchNameFor({
    namespace: rollout.namespace,
    rollout: rollout.name,
    canaryPodHash: rollout.canaryPodHash,
    revision: rollout.revision,
  });
  const body = await finalizeBody((budget) => renderBody(input, budget), {
    schema: METADATA_SCHEMA_VERSION,
    key,
    rolloutUid: rollout.uid,
    namespace: rollout.namespace,
    name: rollout.name,
    revision: rollout.revision,
    canaryPodHash: rollout.canaryPodHash,
    category: diagnosis.category,
    fixer: "none",
    fixerVersion: input.version,
    promptVersion: input.promptVersion,
    attempt: input.attempt,
  });
  return { title: issueTitle(incident, diagnosis), body, labels: issueLabels(diagnosis) };
}

export function issueTitle(incident: Incident, diagnosis: Diagnosis): string {
  const ref = cleanUntrusted(rolloutRef(incident)).replace(/\s+/g, " ");
  const revision = incident.rollout.revision
    ? ` (revision ${cleanUntrusted(incident.rollout.revision)})`
    : "";
  return `Canary of ${ref} failed: ${diagnosis.category}${revision}`;
}

export function issueLabels(diagnosis: Diagnosis): string[] {
  return ["rollout-medic", "canary-failure", `category/${diagnosis.category}`, "needs-human"];
}

function renderBody(input: RenderIssueInput, budget: EvidenceBudget): string {
  const { incident, diagnosis, noFix } = input;
  const ledger = new WithheldLedger(incident);
  const failed = findFailedStep(incident);
  const position = describeStepPosition(incident, failed);
  const revision = incident.rollout.revision ? ` (revision ${escapeInline(incident.rollout.revision)})` : "";
  const lead = [
    `The canary of ${inlineCode(rolloutRef(incident))}${revision} failed${position ? ` at ${escapeInline(position)}` : ""}.`,
    `rollout-medic diagnosed ${inlineCode(diagnosis.category)} (confidence ${formatConfidence(diagnosis.confidence)})`,
    "but proposes no change, so a person needs to look. The sections below say why and where to start.",
  ].join(" ");
  const sections = [
    lead,
    renderWhatFailed(incident, failed, ledger),
    renderRootCause(diagnosis, ledger),
    renderWhyNoFix(noFix, ledger),
    renderNextSteps(input),
    renderStepsDiagram(incident, failed),
    renderEvidence(incident, budget, ledger),
    renderFooter(input.version, [
      ...(input.promptVersion ? [`prompt ${inlineCode(input.promptVersion)}`] : []),
      ...(input.attempt !== undefined ? [`attempt ${input.attempt}`] : []),
      "re-runs for the same canary update this issue instead of opening another",
    ]),
  ];
  return sections.filter((s) => s !== "").join("\n\n");
}

function renderWhyNoFix(noFix: NoFix, ledger: WithheldLedger): string {
  const lines = ["### Why no change is proposed", "", ledger.inline("no-fix reason", noFix.reason, 1000)];
  if (noFix.rejected.length > 0) {
    lines.push(
      "",
      "These fixes were produced but refused by verification:",
      "",
      markdownTable(
        ["Fixer", "Refused because"],
        noFix.rejected.map((r) => [
          inlineCode(ledger.clean("rejected fix", r.fixer)),
          ledger.inline("rejected fix", r.reason, 500),
        ]),
      ),
    );
  }
  return lines.join("\n");
}

function renderNextSteps(input: RenderIssueInput): string {
  const steps = nextStepsFor(input.diagnosis.category, input.incident);
  const rows = steps.map((s) => [s.action, s.command ? inlineCode(cleanUntrusted(s.command)) : ""]);
  return ["### What to do next", "", markdownTable(["Check", "How"], rows)].join("\n");
}
