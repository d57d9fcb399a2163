import type { StructuredToolInterface } from "@langchain/core/tools";
import { createApplyPlaybookTool } from "./apply-playbook.js";
import { createCompareCanaryStableLogsTool } from "./compare-canary-stable-logs.js";
import { createCreateFileTool } from "./create-file.js";
import { createDescribePodTool } from "./describe-pod.js";
import { createEditFileTool } from "./edit-file.js";
import { createGetDiagnosisTool } from "./get-diagnosis.js";
import { createGetRolloutStatusTool } from "./get-rollout-status.js";
import { createListEventsTool } from "./list-events.js";
import { createListFilesTool } from "./list-files.js";
import { createReadFileTool } from "./read-file.js";
import { createReadPodLogsTool } from "./read-pod-logs.js";
import { createSearchCodeTool } from "./search-code.js";
import { createShowDiffTool } from "./show-diff.js";
import type { ToolContext } from "./tool-context.js";

export type { ToolContext } from "./tool-context.js";

export type ToolGroup = "cluster" | "diagnosis" | "repository-read" | "repository-write";

/** Read-only views of the incident's Rollout in the cluster. */
export function createClusterTools(context: ToolContext): StructuredToolInterface[] {
  return [
    createGetRolloutStatusTool(context),
    createListEventsTool(context),
    createDescribePodTool(context),
    createReadPodLogsTool(context),
    createCompareCanaryStableLogsTool(context),
  ];
}

export function createDiagnosisTools(context: ToolContext): StructuredToolInterface[] {
  return [createGetDiagnosisTool(context)];
}

export function createRepositoryReadTools(context: ToolContext): StructuredToolInterface[] {
  return [
    createListFilesTool(context),
    createReadFileTool(context),
    createSearchCodeTool(context),
    createShowDiffTool(context),
  ];
}

/** Everything that changes the repository; leave the group out for a read-only investigation. */
export function createRepositoryWriteTools(context: ToolContext): StructuredToolInterface[] {
  return [createEditFileTool(context), createCreateFileTool(context), createApplyPlaybookTool(context)];
}

const GROUPS: Record<ToolGroup, (context: ToolContext) => StructuredToolInterface[]> = {
  cluster: createClusterTools,
  diagnosis: createDiagnosisTools,
  "repository-read": createRepositoryReadTools,
  "repository-write": createRepositoryWriteTools,
};

export const ALL_TOOL_GROUPS: readonly ToolGroup[] = [
  "cluster",
  "diagnosis",
  "repository-read",
  "repository-write",
];

/** The tools of one agent run, in a stable order (it is part of every model call's prompt). */
export function createTools(
  context: ToolContext,
  groups: readonly ToolGroup[] = ALL_TOOL_GROUPS,
): StructuredToolInterface[] {
  return groups.flatMap((group) => GROUPS[group](context));
}
