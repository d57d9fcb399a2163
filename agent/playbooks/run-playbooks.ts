import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import type { Workspace } from "../workspace/workspace.js";
import { imagePullPlaybook } from "./image-pull.js";
import { oomKilledPlaybook } from "./oom-killed.js";
import type { Playbook } from "./playbook.js";
import { probeFailurePlaybook } from "./probe-failure.js";

export const PLAYBOOKS: readonly Playbook[] = [oomKilledPlaybook, imagePullPlaybook, probeFailurePlaybook];

export interface PlaybookOutcome {
  /** The playbook that ran, or null when none applies to the category. */
  playbook: Playbook | null;
  result: Fix | NoFix;
}

export function findPlaybook(
  incident: Incident,
  diagnosis: Diagnosis,
  playbooks: readonly Playbook[] = PLAYBOOKS,
): Playbook | null {
  return playbooks.find((p) => p.applies(incident, diagnosis)) ?? null;
}

/** Runs the first playbook that applies to the diagnosis; other categories get a NoFix naming the category. */
export async function runPlaybooks(
  workspace: Workspace,
  incident: Incident,
  diagnosis: Diagnosis,
  config: Config,
  playbooks: readonly Playbook[] = PLAYBOOKS,
): Promise<PlaybookOutcome> {
  const playbook = findPlaybook(incident, diagnosis, playbooks);
  if (!playbook) {
    return {
      playbook: null,
      result: { reason: `no deterministic fix for ${diagnosis.category}`, rejected: [] },
    };
  }
  return { playbook, result: await playbook.fix(workspace, incident, diagnosis, config) };
}
