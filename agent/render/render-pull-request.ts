import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix } from "../fix/fix.js";
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
import { summarizeDiff } from "./diff-summary.js";
import { finalizeBody } from "./finalize-body.js";
import {
  codeBlock,
  detailsBlock,
  escapeInline,
  inlineCode,
  markdownTable,
  plural,
  truncate,
} from "./markdown.js";
import { METADATA_SCHEMA_VERSION } from "./pr-metadata.js";
import { pullRequestTitle } from "./pull-request-title.js";

export interface RenderPullRequestInput {
  incident: Incident;
  diagnosis: Diagnosis;
  fix: Fix;
  /** rollout-medic's package version, recorded in the metadata. */
  version: string;
  promptVersion?: string;
  attempt?: number;
}

export interface RenderedPullRequest {
  title: string;
  branch: string;
  labels: string[];
  body: string;
}

const MAX_DIFF_CHARS = 20_000;

/** Title, branch, labels and body of the one pull request proposed for a failed canary. */
export async function renderPullRequest(input: RenderPullRequestInput): Promise<RenderedPullRequest> {
  const { incident, diagnosis, fix } = input;
  const { rollout } = incident;
  const branch = branchNameFor({
    namespace: rollout.namespace,
    rollout: rollout.name,
    canaryPodHash: rollout.canaryPodHash,
    revision: rollout.revision,
  });
  const body = await finalizeBody((budget) => renderBody(input, budget), {
    schema: METADATA_SCHEMA_VERSION,
    key: branch,
    rolloutUid: rollout.uid,
    namespace: rollout.namespace,
    name: rollout.name,
    revision: rollout.revision,
    canaryPodHash: rollout.canaryPodHash,
    category: diagnosis.category,
    fixer: fix.fixer,
    fixerVersion: input.version,
    promptVersion: input.promptVersion,
    attempt: input.attempt,
  });
  return {
    title: pullRequestTitle(incident, diagnosis, fix),
    branch,
    labels: pullRequestLabels(diagnosis, fix),
    body,
  };
}

export function pullRequestLabels(diagnosis: Diagnosis, fix: Fix): string[] {
  return ["rollout-medic", "canary-failure", `category/${diagnosis.category}`, `fixer/${fix.strategy}`];
}

function renderBody(input: RenderPullRequestInput, budget: EvidenceBudget): string {
  const { incident, diagnosis, fix } = input;
  // A fresh ledger per attempt: a trimmed render must not report lines it no longer shows as its own.
  const ledger = new WithheldLedger(incident);
  const failed = findFailedStep(incident);
  const sections = [
    renderLead(incident, diagnosis, fix, describeStepPosition(incident, failed)),
    renderWhatFailed(incident, failed, ledger),
    renderRootCause(diagnosis, ledger),
    renderChange(fix, ledger),
    renderRolloutNote(incident, fix, ledger),
    renderChecklist(fix, ledger),
    renderStepsDiagram(incident, failed),
    renderEvidence(incident, budget, ledger),
    renderFullDiff(fix, budget, ledger),
    renderFooter(input.version, footerParts(input)),
  ];
  return sections.filter((s) => s !== "").join("\n\n");
}

function renderLead(incident: Incident, diagnosis: Diagnosis, fix: Fix, position: string | null): string {
  const { rollout } = incident;
  const revision = rollout.revision ? ` (revision ${escapeInline(rollout.revision)})` : "";
  const where = position ? ` at ${escapeInline(position)}` : "";
  const outcome = rollout.aborted ? " and was aborted" : "";
  return [
    `The canary of ${inlineCode(rolloutRef(incident))}${revision} failed${where}${outcome}.`,
    `rollout-medic diagnosed ${inlineCode(diagnosis.category)} (confidence ${formatConfidence(diagnosis.confidence)})`,
    `and proposes the change below (${fix.strategy} ${inlineCode(fix.fixer)}, confidence ${formatConfidence(fix.confidence)}).`,
    "Nothing changes in the cluster until this pull request is merged.",
  ].join(" ");
}

function renderChange(fix: Fix, ledger: WithheldLedger): string {
  const lines = ["### What this change does", ""];
  if (fix.changes.length > 0) {
    lines.push(
      markdownTable(
        ["File", "Where", "From", "To"],
        fix.changes.map((c) => [
          inlineCode(ledger.clean("fix", c.file)),
          ledger.inline("fix", c.location, 200),
          inlineCode(truncate(ledger.clean("fix", c.from), 80)),
          inlineCode(truncate(ledger.clean("fix", c.to), 80)),
        ]),
      ),
      "",
    );
  }
  // The rationale is Markdown on purpose (playbooks write sentences with code spans), so it is
  // sanitised but not escaped.
  const rationale = ledger.clean("fix rationale", fix.rationale).trim();
  if (rationale !== "") lines.push("**Why this value:** " + rationale, "");
  const files = summarizeDiff(fix.diff);
  if (files.length > 0) {
    const added = files.reduce((n, f) => n + f.added, 0);
    const removed = files.reduce((n, f) => n + f.removed, 0);
    lines.push(
      `The diff touches ${plural(files.length, "file")} (+${added} −${removed}):`,
      "",
      markdownTable(
        ["File", "Added", "Removed"],
        files.map((f) => [inlineCode(ledger.clean("fix", f.file)), `+${f.added}`, `−${f.removed}`]),
        ["left", "right", "right"],
      ),
    );
  }
  return lines.join("\n").trimEnd();
}

function renderRolloutNote(incident: Incident, fix: Fix, ledger: WithheldLedger): string {
  const note = fix.rolloutNote ? ledger.clean("fix rollout note", fix.rolloutNote).trim() : "";
  const next = incident.rollout.revision
    ? ` (revision ${Number.parseInt(incident.rollout.revision, 10) + 1 || "n+1"})`
    : "";
  const text =
    note !== ""
      ? note
      : [
          "Merging changes the Rollout's pod template in Git. Once your GitOps controller (Argo CD, Flux) syncs it,",
          `the template gets a new hash and Argo Rollouts starts a fresh canary${next} from the first step,`,
          "with the same steps and analysis. If the analysis passes, the canary is promoted as usual; if it fails,",
          "Argo Rollouts aborts it again and rollout-medic looks at the new failure.",
          "Until the sync, the stable version keeps serving and the aborted revision is not retried.",
        ].join(" ");
  return ["### What happens when this is merged", "", text].join("\n");
}

function renderChecklist(fix: Fix, ledger: WithheldLedger): string {
  if (fix.reviewerChecklist.length === 0) return "";
  const items = fix.reviewerChecklist.map((item) => `- [ ] ${ledger.inline("fix checklist", item, 300)}`);
  return ["### Reviewer checklist", "", ...items].join("\n");
}

function renderFullDiff(fix: Fix, budget: EvidenceBudget, ledger: WithheldLedger): string {
  if (fix.diff.trim() === "") return "";
  if (!budget.fullDiff) return "The full diff is in the **Files changed** tab.";
  const diff = ledger.clean("fix diff", fix.diff);
  const shown =
    diff.length > MAX_DIFF_CHARS
      ? `${diff.slice(0, MAX_DIFF_CHARS)}\n… (cut here; the full diff is in the Files changed tab)`
      : diff;
  return detailsBlock("Full diff", codeBlock(shown, "diff"));
}

function footerParts(input: RenderPullRequestInput): string[] {
  const parts = [`${input.fix.strategy} ${inlineCode(input.fix.fixer)}`];
  if (input.promptVersion) parts.push(`prompt ${inlineCode(input.promptVersion)}`);
  if (input.attempt !== undefined) parts.push(`attempt ${input.attempt}`);
  parts.push("re-runs for the same canary update this pull request instead of opening another");
  return parts;
}
