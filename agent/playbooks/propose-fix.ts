import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import type { PathPolicy } from "../verify/path-policy.js";
import { verifyFix } from "../verify/verify-fix.js";
import { readYamlValues } from "../workspace/edit-yaml-value.js";
import type { Workspace } from "../workspace/workspace.js";
import { isNoFix } from "./playbook.js";
import type { Playbook } from "./playbook.js";
import { PLAYBOOKS, runPlaybooks } from "./run-playbooks.js";

export interface ProposeFixInput {
  workspace: Workspace;
  incident: Incident;
  diagnosis: Diagnosis;
  config: Config;
  /** The scenario's (or the operator's) allowPaths globs; the repository's own file narrows them further. */
  allowPaths?: string[];
  allowAnalysisTemplates?: boolean;
  playbooks?: readonly Playbook[];
}

export interface ProposedFix {
  fix: Fix | null;
  noFix: NoFix | null;
}

/** Repository-level settings a team can commit: `.rollout-medic.yaml` with `allowPaths: [...]`. */
export const REPOSITORY_SETTINGS_FILES = [".rollout-medic.yaml", ".rollout-medic.yml"];

export async function readRepositoryPolicy(
  workspace: Workspace,
): Promise<{ allowPaths?: string[]; note?: string }> {
  for (const file of REPOSITORY_SETTINGS_FILES) {
    if (!(await workspace.exists(file))) continue;
    try {
      const [value] = readYamlValues(await workspace.readFile(file), file);
      const allow = (value as { allowPaths?: unknown } | null)?.allowPaths;
      if (Array.isArray(allow) && allow.every((g) => typeof g === "string"))
        return { allowPaths: allow as string[] };
      return { note: `${file}: allowPaths is not a list of globs; ignored` };
    } catch (error) {
      return { note: `${file}: ${(error as Error).message}` };
    }
  }
  return {};
}

/**
 * The one entry point the pipeline calls: runs the playbook for the diagnosed category, then verifies the
 * change. A refused change is undone in the workspace and reported in `noFix.rejected`.
 */
export async function proposeFix(input: ProposeFixInput): Promise<ProposedFix> {
  const { workspace, incident, diagnosis, config } = input;
  const repository = await readRepositoryPolicy(workspace);
  const policy: PathPolicy = {
    ...(input.allowPaths && input.allowPaths.length > 0 ? { allowPaths: input.allowPaths } : {}),
    ...(repository.allowPaths ? { alsoAllowPaths: repository.allowPaths } : {}),
    ...(input.allowAnalysisTemplates ? { allowAnalysisTemplates: true } : {}),
  };

  let outcome: Awaited<ReturnType<typeof runPlaybooks>>;
  try {
    outcome = await runPlaybooks(workspace, incident, diagnosis, config, input.playbooks ?? PLAYBOOKS);
  } catch (error) {
    await workspace.reset();
    const fixer =
      (input.playbooks ?? PLAYBOOKS).find((p) => p.applies(incident, diagnosis))?.id ?? diagnosis.category;
    const reason = `the ${fixer} playbook could not edit the repository: ${(error as Error).message}`;
    return { fix: null, noFix: { reason, rejected: [{ fixer, reason: (error as Error).message }] } };
  }
  const { playbook, result } = outcome;
  if (isNoFix(result)) {
    await workspace.reset();
    return { fix: null, noFix: result };
  }

  const verdict = await verifyFix(workspace, { policy, maxDiffLines: config.policy.maxDiffLines });
  if (!verdict.ok) {
    await workspace.reset();
    const fixer = playbook?.id ?? result.fixer;
    return {
      fix: null,
      noFix: {
        reason: `the ${fixer} playbook's change was refused by verification: ${verdict.reason}`,
        rejected: [{ fixer, reason: verdict.reason }],
      },
    };
  }
  // The verified diff is the one proposed: it is what the checks saw.
  return { fix: { ...result, diff: verdict.diff, files: verdict.files }, noFix: null };
}
