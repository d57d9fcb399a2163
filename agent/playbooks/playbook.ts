import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import type { Workspace } from "../workspace/workspace.js";

/**
 * A deterministic fix for one failure category. `fix` edits the workspace and returns the Fix
 * (with its diff) or a NoFix saying why it could not; verification happens afterwards, in proposeFix.
 */
export interface Playbook {
  id: string;
  applies(incident: Incident, diagnosis: Diagnosis): boolean;
  fix(workspace: Workspace, incident: Incident, diagnosis: Diagnosis, config: Config): Promise<Fix | NoFix>;
}

export function isNoFix(value: Fix | NoFix): value is NoFix {
  return !("diff" in value);
}
