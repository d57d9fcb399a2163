import type { Incident } from "../incident/incident.js";
import type { Analyzer } from "./analyzers/analyzer.js";
import { shorten, uniqueEvidence, withholdInstructions } from "./analyzers/evidence.js";
import { findAnalysisErrorRate } from "./analyzers/find-analysis-error-rate.js";
import { findAnalysisLatency } from "./analyzers/find-analysis-latency.js";
import { findConfigMissing } from "./analyzers/find-config-missing.js";
import { findCrashLoop } from "./analyzers/find-crash-loop.js";
import { findDependencyUnreachable } from "./analyzers/find-dependency-unreachable.js";
import { findImagePull } from "./analyzers/find-image-pull.js";
import { findInvalidSpec } from "./analyzers/find-invalid-spec.js";
import { findMountFailure } from "./analyzers/find-mount-failure.js";
import { findNotFailed } from "./analyzers/find-not-failed.js";
import { findOomKilled } from "./analyzers/find-oom-killed.js";
import { findProbeFailure } from "./analyzers/find-probe-failure.js";
import { findProgressDeadline } from "./analyzers/find-progress-deadline.js";
import { findUnknown } from "./analyzers/find-unknown.js";
import { findUnschedulable } from "./analyzers/find-unschedulable.js";
import type { Diagnosis, Finding } from "./diagnosis.js";

export const ANALYZERS: readonly Analyzer[] = [
  findInvalidSpec,
  findImagePull,
  findUnschedulable,
  findMountFailure,
  findConfigMissing,
  findOomKilled,
  findDependencyUnreachable,
  findProbeFailure,
  findCrashLoop,
  findAnalysisErrorRate,
  findAnalysisLatency,
  findProgressDeadline,
  findNotFailed,
  findUnknown,
];

/** Below this an analyzer only hints: a hint never outranks a supported finding, whatever its rank. */
export const SUPPORTED_CONFIDENCE = 0.5;

function clamp(value: number): number {
  return Math.max(0, Math.min(1, value));
}

function supported(finding: Finding): boolean {
  return finding.confidence >= SUPPORTED_CONFIDENCE;
}

/**
 * Orders findings so the primary cause comes first: among supported findings the higher rank wins
 * (a cause explains its symptoms), then the higher confidence. Hints follow, most confident first.
 */
export function rankFindings(findings: Finding[]): Finding[] {
  const byRank = (a: Finding, b: Finding) => b.rank - a.rank || b.confidence - a.confidence;
  const byConfidence = (a: Finding, b: Finding) => b.confidence - a.confidence || b.rank - a.rank;
  const strong = findings.filter(supported).sort(byRank);
  const weak = findings.filter((f) => !supported(f)).sort(byConfidence);
  const fallback = weak.find((f) => f.category === "unknown" || f.category === "not-failed");
  if (strong.length === 0 && fallback) return [fallback, ...weak.filter((f) => f !== fallback)];
  return [...strong, ...weak];
}

/** Deterministic diagnosis of one incident: every analyzer runs, the primary cause wins over its symptoms. */
export function diagnose(incident: Incident): Diagnosis {
  const findings = rankFindings(
    ANALYZERS.flatMap((analyze) => analyze(incident)).map((f) => ({
      ...f,
      // Summaries quote log lines and event messages: the same guard as for evidence applies.
      summary: shorten(withholdInstructions(f.summary)),
      confidence: clamp(f.confidence),
    })),
  );
  const winner = findings[0];
  if (!winner) {
    // Only reachable when an analyzer list is empty: keep the contract of always answering.
    return {
      category: "unknown",
      summary: `No analyzer ran for ${incident.rollout.name}`,
      confidence: 0,
      evidence: [],
      findings,
    };
  }
  return {
    category: winner.category,
    summary: winner.summary,
    confidence: winner.confidence,
    evidence: uniqueEvidence(winner.evidence),
    findings,
  };
}
