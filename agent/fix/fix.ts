import type { Category } from "../diagnosis/diagnosis.js";

/** One value changed in one file, for the PR body's "what the change does" and for tests. */
export interface FixChange {
  file: string;
  /** A human description of the location: `Rollout checkout, container app, resources.limits.memory`. */
  location: string;
  from: string;
  to: string;
}

/**
 * A proposed change to the repository, already applied to the workspace and verified.
 * `diff` is `git diff` output against the failing revision, paths relative to the repository root.
 */
export interface Fix {
  strategy: "playbook" | "agent";
  /** The playbook's id or "agent". */
  fixer: string;
  category: Category;
  files: string[];
  diff: string;
  changes: FixChange[];
  /** Why this change and why this value, in Markdown sentences for the PR body. */
  rationale: string;
  /** What a reviewer should check before merging. */
  reviewerChecklist: string[];
  /** How merging leads to a new canary (GitOps sync or image build). */
  rolloutNote?: string;
  confidence: number;
}

/** Why no fix is proposed; rendered into the issue and the report. */
export interface NoFix {
  reason: string;
  /** Fixes that were produced but refused by verification, with the reason. */
  rejected: { fixer: string; reason: string }[];
}
