import type { AnalysisRunSnapshot, Incident } from "../incident/incident.js";
import { cleanUntrusted } from "./untrusted-text.js";

const FAILED_PHASES = new Set(["Failed", "Error", "Inconclusive"]);
/** Argo Rollouts labels a step's AnalysisRun with the index of the step that created it. */
const STEP_INDEX_LABEL = "step-index";

export interface FailedStep {
  /** Zero-based, as in `status.currentStepIndex`. */
  index: number;
  /** How the index was found, so the body can say how sure it is. */
  from: "step-analysis" | "current-step";
}

/**
 * The step the canary failed at. An abort resets `currentStepIndex` to 0, so a failed step
 * AnalysisRun (whose label records its step) is believed first.
 */
export function findFailedStep(incident: Incident): FailedStep | null {
  const steps = incident.rollout.steps;
  const fromAnalysis = failedStepAnalysisIndex(incident);
  if (fromAnalysis !== null && fromAnalysis < steps.length)
    return { index: fromAnalysis, from: "step-analysis" };
  const current = incident.rollout.currentStepIndex;
  if (current === undefined || steps.length === 0) return null;
  return { index: Math.min(current, steps.length - 1), from: "current-step" };
}

function failedStepAnalysisIndex(incident: Incident): number | null {
  const failed = incident.analysisRuns.filter((run) => run.kind === "step" && FAILED_PHASES.has(run.phase));
  for (const run of failed) {
    const raw = incident.raw.analysisRuns.find((object) => object.metadata.name === run.name);
    const label = raw?.metadata.labels?.[STEP_INDEX_LABEL];
    const index = label !== undefined ? Number.parseInt(label, 10) : indexFromName(run, incident);
    if (index !== null && Number.isInteger(index) && index >= 0) return index;
  }
  return null;
}

/** Step AnalysisRuns are named `<rollout>-<pod hash>-<revision>-<step index>`. */
function indexFromName(run: AnalysisRunSnapshot, incident: Incident): number | null {
  const { name, canaryPodHash, revision } = incident.rollout;
  const revisionPart = run.revision ?? revision;
  if (!canaryPodHash || !revisionPart) return null;
  const prefix = `${name}-${canaryPodHash}-${revisionPart}-`;
  if (!run.name.startsWith(prefix)) return null;
  const rest = run.name.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number.parseInt(rest, 10) : null;
}

/** "step 3 of 6", or null when the rollout has no canary steps. */
export function describeStepPosition(incident: Incident, failed: FailedStep | null): string | null {
  const total = incident.rollout.steps.length;
  if (total === 0 || failed === null) return null;
  const step = incident.rollout.steps[failed.index];
  return `step ${failed.index + 1} of ${total}${step ? ` (${step.detail})` : ""}`;
}

/**
 * A left-to-right flowchart of the canary steps: passed steps green, the failed one red, the rest
 * grey, so a reviewer sees at a glance how far the canary got.
 */
export function renderCanaryStepsMermaid(incident: Incident, failed: FailedStep | null): string | null {
  const steps = incident.rollout.steps;
  if (steps.length === 0) return null;
  const lines = ["flowchart LR"];
  lines.push(`  start(["revision ${mermaidText(incident.rollout.revision ?? "?")}"])`);
  for (const step of steps) {
    lines.push(`  s${step.index}["${step.index + 1}. ${mermaidText(step.detail)}"]`);
  }
  lines.push(`  done(["promoted"])`);
  const chain = ["start", ...steps.map((s) => `s${s.index}`), "done"];
  lines.push(`  ${chain.join(" --> ")}`);
  lines.push("  classDef passed fill:#dafbe1,stroke:#1a7f37,color:#1f2328");
  lines.push("  classDef failed fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#1f2328");
  lines.push("  classDef pending fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3");
  const passed = failed ? steps.filter((s) => s.index < failed.index) : [];
  const pending = steps.filter((s) => !failed || s.index > failed.index);
  if (passed.length > 0)
    lines.push(`  class ${["start", ...passed.map((s) => `s${s.index}`)].join(",")} passed`);
  else lines.push("  class start passed");
  if (failed) lines.push(`  class s${failed.index} failed`);
  lines.push(`  class ${[...pending.map((s) => `s${s.index}`), "done"].join(",")} pending`);
  return lines.join("\n");
}

/** Mermaid labels are quoted strings: quotes, brackets and backticks would end or restyle them. */
function mermaidText(text: string): string {
  return cleanUntrusted(text)
    .replace(/\s+/g, " ")
    .replace(/["`]/g, "'")
    .replace(/[<>{}[\]|#;]/g, " ")
    .trim()
    .slice(0, 60);
}
