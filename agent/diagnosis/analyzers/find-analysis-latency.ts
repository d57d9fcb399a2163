import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { findFailedAnalysis } from "./find-failed-analysis.js";

/** A failed AnalysisRun metric about latency, duration percentiles or throughput. */
export function findAnalysisLatency(incident: Incident): Finding[] {
  return findFailedAnalysis(incident, "latency");
}
