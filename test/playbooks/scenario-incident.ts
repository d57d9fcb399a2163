import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { diagnose } from "../../agent/diagnosis/diagnose.js";
import type { Diagnosis } from "../../agent/diagnosis/diagnosis.js";
import { gatherIncident } from "../../agent/incident/gather-incident.js";
import type { Incident } from "../../agent/incident/incident.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import type { Scenario } from "../../agent/scenario/load-scenario.js";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures");

/** Scenarios whose expect.yaml asks for a playbook fix. */
export function playbookScenarios(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(FIXTURES, d.name, "expect.yaml")))
    .map((d) => d.name)
    .filter((name) => loadScenario(path.join(FIXTURES, name)).expectation?.fix?.strategy === "playbook")
    .sort();
}

export function incidentFor(scenario: Scenario): Promise<Incident> {
  return gatherIncident(new ScenarioCluster(scenario), scenario.manifest.rollout);
}

export function diagnosisFor(incident: Incident): Diagnosis {
  return diagnose(incident);
}
