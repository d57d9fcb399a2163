import type { ContainerSpec, RolloutSnapshot } from "../incident/incident.js";
import { helmCandidates } from "./helm-sources.js";
import { isKustomizationFile, kustomizeCandidates } from "./kustomize-sources.js";
import { readYamlFiles } from "./read-yaml-files.js";
import type { YamlFileSet } from "./read-yaml-files.js";
import { asString, containersOf } from "./workload-model.js";
import type { ContainerModel, FieldSource, Loose, WorkloadCandidate } from "./workload-model.js";
import type { Workspace } from "./workspace.js";

export interface LocatedWorkload extends WorkloadCandidate {
  score: number;
  /** Why this source was chosen, for the PR body and debugging. */
  why: string[];
}

export interface LocateResult {
  workload: LocatedWorkload | null;
  /** Set when nothing was found: what was looked for and why nothing matched. */
  reason?: string;
  /** Files that were skipped (too large, unreadable, YAML bombs, links out of the repository) and other remarks. */
  notes: string[];
  /** The other candidates, best first, as `description (score)`. */
  alternatives: string[];
}

function manifestCandidates(set: YamlFileSet, covered: Set<string>): WorkloadCandidate[] {
  const out: WorkloadCandidate[] = [];
  for (const [file, yaml] of set.files) {
    if (covered.has(file) || isKustomizationFile(file)) continue;
    yaml.values.forEach((value, docIndex) => {
      const record = value as Loose;
      if (record?.kind !== "Rollout" || typeof record?.metadata?.name !== "string") return;
      if (typeof record?.apiVersion === "string" && !record.apiVersion.startsWith("argoproj.io/")) return;
      out.push({
        kind: "manifest",
        root: file,
        name: record.metadata.name,
        ...(typeof record.metadata.namespace === "string" ? { namespace: record.metadata.namespace } : {}),
        isRoot: true,
        containers: containersOf(record, { file, docIndex, path: [] }, "manifest"),
        description: `manifest ${file} (document ${docIndex + 1})`,
      });
    });
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  const x = asString(a);
  const y = asString(b);
  return x !== undefined && y !== undefined && x.trim() === y.trim();
}

/** Helm container names are often templated: match them to the cluster's containers by position and image. */
function resolveHelmNames(candidate: WorkloadCandidate, observed: ContainerSpec[]): void {
  const unnamed = candidate.containers.filter((c) => !observed.some((o) => o.name === c.name));
  const unmatched = observed.filter((o) => !candidate.containers.some((c) => c.name === o.name));
  for (const container of unnamed) {
    const byImage = unmatched.find(
      (o) => container.effectiveImage !== undefined && same(o.image, container.effectiveImage),
    );
    const pick = byImage ?? (unnamed.length === 1 && unmatched.length >= 1 ? unmatched[0] : undefined);
    if (pick) {
      container.name = pick.name;
      unmatched.splice(unmatched.indexOf(pick), 1);
    }
  }
}

function scoreCandidate(
  candidate: WorkloadCandidate,
  rollout: RolloutSnapshot,
): { score: number; why: string[] } {
  const why: string[] = [];
  let score = 0;
  // Helm names come from templates this locator does not render: only the values can tell.
  if (candidate.kind !== "helm") {
    if (candidate.name === rollout.name) {
      score += 5;
      why.push(`name ${rollout.name} matches`);
    } else {
      score -= 20;
    }
  }
  if (candidate.namespace === rollout.namespace) {
    score += 3;
    why.push(`namespace ${rollout.namespace} matches`);
  } else if (candidate.namespace !== undefined) {
    score -= 4;
    why.push(`namespace ${candidate.namespace} differs from the cluster's ${rollout.namespace}`);
  }
  let matchedValues = 0;
  let differing = 0;
  let containersMatched = 0;
  for (const observed of rollout.containers) {
    const model = candidate.containers.find((c) => c.name === observed.name);
    if (!model) continue;
    containersMatched++;
    score += 1;
    if (observed.image && model.effectiveImage !== undefined) {
      if (same(observed.image, model.effectiveImage)) {
        score += 2;
        matchedValues++;
      } else differing++;
    }
    for (const [section, values] of [
      ["limits", observed.limits],
      ["requests", observed.requests],
    ] as const) {
      for (const [resource, value] of Object.entries(values)) {
        const source = model.fields.get(`resources.${section}.${resource}`);
        if (!source) continue;
        if (same(source.value, value)) {
          score += 1;
          matchedValues++;
        } else {
          differing++;
          score -= 0.5;
        }
      }
    }
  }
  if (containersMatched === 0) score -= 20;
  if (matchedValues > 0) why.push(`${matchedValues} value(s) equal what the cluster runs`);
  if (differing > 0) why.push(`${differing} value(s) differ from the cluster`);
  if (candidate.isRoot) score += 0.5;
  return { score, why };
}

/**
 * Finds where the repository defines the failing Rollout: plain manifests, kustomize overlays (patches and
 * `images:` over their bases) and Helm charts. When several could produce it, the one whose namespace and
 * values match what the cluster runs wins, so an overlay that sets the observed limit beats the base.
 */
export async function locateWorkload(workspace: Workspace, rollout: RolloutSnapshot): Promise<LocateResult> {
  const set = await readYamlFiles(workspace);
  const notes = set.skipped.map((s) => `${s.file}: skipped: ${s.reason}`);
  const { candidates: kustomize, covered } = kustomizeCandidates(set, notes);
  const candidates = [...manifestCandidates(set, covered), ...kustomize, ...helmCandidates(set, notes)];
  for (const candidate of candidates) {
    if (candidate.kind === "helm") {
      resolveHelmNames(candidate, rollout.containers);
      candidate.name = rollout.name;
    }
  }
  const scored = candidates
    .map((candidate) => ({ candidate, ...scoreCandidate(candidate, rollout) }))
    // Stable order on ties: roots before bases, then by description.
    .sort((a, b) => b.score - a.score || a.candidate.description.localeCompare(b.candidate.description));
  const best = scored[0];
  const alternatives = scored.slice(1).map((s) => `${s.candidate.description} (score ${s.score})`);
  if (!best || best.score <= 0) {
    return {
      workload: null,
      reason:
        candidates.length === 0
          ? `no Rollout manifest, kustomization or Helm chart producing Rollout ${rollout.namespace}/${rollout.name} was found in the repository`
          : `no source in the repository matches Rollout ${rollout.namespace}/${rollout.name} (closest: ${best?.candidate.description ?? "none"})`,
      notes,
      alternatives,
    };
  }
  return {
    workload: { ...best.candidate, score: best.score, why: best.why },
    notes,
    alternatives,
  };
}

export function findContainer(workload: WorkloadCandidate, name: string): ContainerModel | null {
  return workload.containers.find((c) => c.name === name) ?? null;
}

/** The most specific source of a container field (`resources.limits.memory`), or null. */
export function findField(container: ContainerModel, field: string): FieldSource | null {
  return container.fields.get(field) ?? null;
}
