import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { diagnose } from "../../agent/diagnosis/diagnose.js";
import { gatherIncident } from "../../agent/incident/gather-incident.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures");

/** Every scenario that states its expected category; scenarios still being recorded have no expect.yaml yet. */
const scenarios = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(FIXTURES, d.name, "expect.yaml")))
      .map((d) => d.name)
      .sort()
  : [];

describe("diagnosis of every fixture", () => {
  it("finds the fixtures folder", () => {
    expect(existsSync(FIXTURES)).toBe(true);
  });

  it.each(scenarios)("%s", async (name) => {
    const scenario = loadScenario(path.join(FIXTURES, name));
    const incident = await gatherIncident(new ScenarioCluster(scenario), scenario.manifest.rollout);
    const diagnosis = diagnose(incident);
    const explain = `${diagnosis.summary}\n${diagnosis.findings
      .map((f) => `  ${f.category} ${f.confidence.toFixed(2)} r${f.rank}: ${f.summary}`)
      .join("\n")}`;
    expect(diagnosis.category, explain).toBe(scenario.expectation?.category);
    expect(diagnosis.summary.length).toBeGreaterThan(0);
    expect(diagnosis.confidence).toBeGreaterThanOrEqual(0);
    expect(diagnosis.confidence).toBeLessThanOrEqual(1);
    expect(diagnosis.evidence.every((e) => e.detail.length <= 300)).toBe(true);
  });
});
