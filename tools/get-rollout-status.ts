import { z } from "zod";
import type { AnalysisRunSnapshot } from "../agent/incident/incident.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const GetRolloutStatusInput = z.object({});

/** get_rollout_status: the Rollout's phase, canary step, replicas and conditions, and its analysis runs. */
export function createGetRolloutStatusTool(context: ToolContext) {
  return defineTool(context, {
    name: "get_rollout_status",
    description:
      "Status of the failed Rollout: phase, abort message, canary step, canary and stable pod hashes, replicas, conditions, images, and a summary of its AnalysisRuns (failed metrics with their measurements).",
    schema: GetRolloutStatusInput,
    maxTokens: 1500,
    run: async () => {
      const { rollout, replicaSets, analysisRuns } = context.incident;
      const lines = [
        `rollout: ${rollout.namespace}/${rollout.name} revision ${rollout.revision ?? "?"}`,
        `phase: ${rollout.phase ?? "?"}${rollout.aborted ? " (aborted)" : ""}${rollout.paused ? " (paused)" : ""}`,
        ...(rollout.message ? [`message: ${rollout.message}`] : []),
        `strategy: ${rollout.strategy}, step ${rollout.currentStepIndex ?? "?"} of ${rollout.steps.length}`,
        `canary hash: ${rollout.canaryPodHash ?? "?"}, stable hash: ${rollout.stablePodHash ?? "?"}`,
        `replicas: ${rollout.replicas ?? "?"} desired, ${rollout.readyReplicas ?? 0} ready, ${rollout.updatedReplicas ?? 0} updated`,
        "conditions:",
        ...rollout.conditions.map(
          (c) =>
            `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`,
        ),
        "replica sets:",
        ...replicaSets.map(
          (rs) =>
            `  ${rs.name} (${rs.role}) ready ${rs.readyReplicas}/${rs.replicas} images ${rs.images.join(", ")}`,
        ),
        "containers:",
        ...rollout.containers.map(
          (c) =>
            `  ${c.name}: ${c.image} limits ${JSON.stringify(c.limits)} requests ${JSON.stringify(c.requests)} probes ${c.probes.map((p) => `${p.kind}:${p.type}${p.port !== undefined ? `:${p.port}` : ""}${p.path ?? ""}`).join(" ") || "none"}`,
        ),
        "analysis runs:",
        ...(analysisRuns.length === 0 ? ["  none"] : analysisRuns.flatMap(describeAnalysisRun)),
      ];
      return {
        text: `Rollout ${rollout.namespace}/${rollout.name}: ${analysisRuns.length} analysis run(s), ${replicaSets.length} replica set(s).`,
        data: [{ source: `rollout ${rollout.namespace}/${rollout.name} status`, text: lines.join("\n") }],
      };
    },
  });
}

function describeAnalysisRun(run: AnalysisRunSnapshot): string[] {
  const out = [`  ${run.name} (${run.kind}) ${run.phase}${run.message ? `: ${run.message}` : ""}`];
  for (const metric of run.metrics) {
    out.push(
      `    metric ${metric.name} ${metric.phase}: ${metric.successful} ok, ${metric.failed} failed, ${metric.error} error, ${metric.inconclusive} inconclusive${metric.successCondition ? `; success when ${metric.successCondition}` : ""}`,
    );
    if (metric.query) out.push(`      query: ${metric.query.replace(/\s+/g, " ").slice(0, 300)}`);
    if (metric.message) out.push(`      message: ${metric.message}`);
    for (const m of metric.measurements.slice(-3)) {
      out.push(
        `      measurement ${m.phase}${m.value !== undefined ? ` value=${m.value}` : ""}${m.message ? ` ${m.message}` : ""}`,
      );
    }
  }
  return out;
}
