/** The spec's fixed list of failure categories (shared/spec/scenario-format.md). Extend, never rename. */
export const CATEGORIES = [
  "oom-killed",
  "image-pull",
  "crash-loop",
  "config-missing",
  "probe-failure",
  "unschedulable",
  "mount-failure",
  "dependency-unreachable",
  "analysis-error-rate",
  "analysis-latency",
  "invalid-spec",
  "progress-deadline",
  "not-failed",
  "unknown",
] as const;

export type Category = (typeof CATEGORIES)[number];

export interface Evidence {
  /** The object the evidence comes from, as `kind/name` in lower case: `pod/checkout-6c9f-abcde`, `analysisrun/…`, `log/pod/container`. */
  source: string;
  detail: string;
}

export interface Finding {
  category: Category;
  /** Which analyzer produced it, for debugging and tests. */
  analyzer: string;
  summary: string;
  evidence: Evidence[];
  /** 0..1: how sure the analyzer is that this category applies. */
  confidence: number;
  /**
   * Causes outrank symptoms: a root cause (OOMKilled) explains a symptom (failed analysis, progress deadline).
   * Higher wins when confidences are close.
   */
  rank: number;
  /** Facts a playbook needs (container name, observed limit, stable image…), kept machine-readable. */
  facts?: Record<string, string | number | boolean>;
}

export interface Diagnosis {
  category: Category;
  summary: string;
  confidence: number;
  evidence: Evidence[];
  /** The winning finding first, then the others it explains. */
  findings: Finding[];
}
