import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { findFailedAnalysis } from "./find-failed-analysis.js";

/** A failed AnalysisRun metric about errors, 5xx or success rate. */
export function findAnalysisErrorRate(incident: Incident): Finding[] {
  return findFailedAnalysis(incident, "error-rate");
}
