import type { Category } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange, NoFix } from "../fix/fix.js";
import type { ContainerSpec, Incident, PodSnapshot } from "../incident/incident.js";
import { isKnownSidecar } from "../incident/read-objects.js";
import { findContainer, locateWorkload } from "../workspace/locate-workload.js";
import type { LocatedWorkload } from "../workspace/locate-workload.js";
import { ORIGIN_LABEL } from "../workspace/workload-model.js";
import type { ContainerModel, FieldSource } from "../workspace/workload-model.js";
import type { Workspace } from "../workspace/workspace.js";

export function noFix(reason: string): NoFix {
  return { reason, rejected: [] };
}

/** Containers of the Rollout that are the application rather than an injected proxy or agent. */
export function appContainers(incident: Incident): ContainerSpec[] {
  const own = incident.rollout.containers.filter((c) => !isKnownSidecar(c.name));
  return own.length > 0 ? own : incident.rollout.containers;
}

export function canaryPods(incident: Incident): PodSnapshot[] {
  return incident.pods.filter((p) => p.role === "canary");
}

export function stablePods(incident: Incident): PodSnapshot[] {
  return incident.pods.filter((p) => p.role === "stable");
}

/** `Rollout shop/checkout, container app, resources.limits.memory (kustomize patch overlays/prod/patch.yaml)`. */
export function describeChange(
  incident: Incident,
  container: string,
  field: string,
  source: FieldSource,
): string {
  return `Rollout ${incident.rollout.namespace}/${incident.rollout.name}, container ${container}, ${field} (${ORIGIN_LABEL[source.origin]} in ${source.location.file})`;
}

export interface LocatedContainer {
  workload: LocatedWorkload;
  container: ContainerModel;
  notes: string[];
}

/** The repository's definition of one container of the failing Rollout, or a NoFix saying what was looked for. */
export async function locateContainer(
  workspace: Workspace,
  incident: Incident,
  containerName: string,
): Promise<LocatedContainer | NoFix> {
  const located = await locateWorkload(workspace, incident.rollout);
  if (!located.workload) {
    const skipped = located.notes.length > 0 ? ` (${located.notes.slice(0, 3).join("; ")})` : "";
    return noFix(
      `could not locate the workload in the repository: ${located.reason ?? "no match"}${skipped}`,
    );
  }
  const container = findContainer(located.workload, containerName);
  if (!container) {
    return noFix(
      `could not locate container ${containerName} of Rollout ${incident.rollout.name} in ${located.workload.description}`,
    );
  }
  return { workload: located.workload, container, notes: located.notes };
}

/** Runs after the edits: the diff and the changed files come from git, never from the playbook's own bookkeeping. */
export async function finishFix(
  workspace: Workspace,
  draft: {
    fixer: string;
    category: Category;
    changes: FixChange[];
    rationale: string;
    reviewerChecklist: string[];
    rolloutNote?: string;
    confidence: number;
  },
): Promise<Fix> {
  const [diff, files] = await Promise.all([workspace.diff(), workspace.changedFiles()]);
  return { strategy: "playbook", ...draft, diff, files };
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}
