import type { GuardedWorkspace } from "../agent/agent/guarded-workspace.js";
import type { Cluster } from "../agent/cluster/cluster.js";
import type { Config } from "../agent/config.js";
import type { Diagnosis } from "../agent/diagnosis/diagnosis.js";
import type { Incident } from "../agent/incident/incident.js";
import type { Playbook } from "../agent/playbooks/playbook.js";

/**
 * What one run's tools close over. Tools reach the cluster only through the read-only `Cluster` port
 * (scoped to the incident's namespace by the tools) and the repository only through the guarded workspace.
 */
export interface ToolContext {
  cluster: Cluster;
  incident: Incident;
  diagnosis: Diagnosis;
  workspace: GuardedWorkspace;
  config: Config;
  playbooks: readonly Playbook[];
  /** The most tokens one tool result may put into the conversation. */
  outputTokens: number;
}
