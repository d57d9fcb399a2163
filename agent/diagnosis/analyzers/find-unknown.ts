import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { failedMetrics, failedValues } from "./classify-metric.js";
import { evidence, uniqueEvidence } from "./evidence.js";
import { rolloutState } from "./rollout-state.js";

/** The fallback for a failed rollout: records how it failed so that a human or the agent can go on from there. */
export function findUnknown(incident: Incident): Finding[] {
  if (rolloutState(incident) !== "failed") return [];
  const r = incident.rollout;
  const items: Evidence[] = [
    evidence(
      `rollout/${r.name}`,
      `phase ${r.phase ?? "unknown"}${r.aborted ? ", aborted" : ""}${r.message ? `: ${r.message}` : ""}`,
    ),
  ];
  for (const run of incident.analysisRuns) {
    if (run.phase === "Error" || run.metrics.some((m) => m.phase === "Error")) {
      items.push(
        evidence(`analysisrun/${run.name}`, `analysis could not measure: ${run.message ?? run.phase}`),
      );
    }
  }
  // A failed metric whose meaning cannot be read still tells a human where to look.
  for (const { run, metric } of failedMetrics(incident)) {
    const values = failedValues(metric);
    items.push(
      evidence(
        `analysisrun/${run.name}`,
        `metric "${metric.name}" ${metric.phase}${values.length > 0 ? `, measured ${values.join(", ")}` : ""}`,
      ),
    );
  }
  return [
    {
      category: "unknown",
      analyzer: "findUnknown",
      summary: `Rollout ${r.name} failed${r.message ? ` (${r.message.slice(0, 160)})` : ""}, but no evidence points to a known cause`,
      evidence: uniqueEvidence(items),
      confidence: 0.3,
      rank: RANK.unknown,
      facts: { phase: r.phase ?? "unknown", aborted: r.aborted },
    },
  ];
}
