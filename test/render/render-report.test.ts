import { describe, expect, it } from "vitest";
import { renderIssue } from "../../agent/render/render-issue.js";
import { renderPullRequest } from "../../agent/render/render-pull-request.js";
import { renderReport } from "../../agent/render/render-report.js";
import {
  INJECTION_LINE,
  PLANTED_SECRETS,
  TEST_VERSION,
  configMissingDiagnosis,
  configMissingIncident,
  configMissingNoFix,
  hostileIncident,
  oomDiagnosis,
  oomFix,
  oomIncident,
} from "./render-inputs.js";

const ESC = "\u001b";

async function oomReport(color: boolean): Promise<string> {
  const incident = oomIncident();
  const diagnosis = oomDiagnosis();
  const fix = oomFix();
  const pullRequest = await renderPullRequest({ incident, diagnosis, fix, version: TEST_VERSION });
  return renderReport({ incident, diagnosis, fix, pullRequest, issue: null, noFix: null, color });
}

function visibleWidth(line: string): number {
  // eslint-disable-next-line no-control-regex -- measuring the report's own colour codes
  return [...line.replace(/\u001b\[[0-9;]*m/g, "")].length;
}

describe("agent/render/render-report", () => {
  it("renders the OOM dry run without colour", async () => {
    const report = await oomReport(false);

    expect(report).not.toContain(ESC);
    await expect(report).toMatchFileSnapshot("__snapshots__/oom-report.txt");
  });

  it("renders the config-missing dry run without colour", async () => {
    const incident = configMissingIncident();
    const diagnosis = configMissingDiagnosis();
    const noFix = configMissingNoFix();
    const issue = await renderIssue({ incident, diagnosis, noFix, version: TEST_VERSION });

    const report = renderReport({
      incident,
      diagnosis,
      fix: null,
      pullRequest: null,
      issue,
      noFix,
      color: false,
    });

    await expect(report).toMatchFileSnapshot("__snapshots__/config-missing-report.txt");
  });

  it("colours only when asked, and the text is the same either way", async () => {
    const plain = await oomReport(false);
    const coloured = await oomReport(true);

    expect(coloured).toContain(`${ESC}[`);
    // eslint-disable-next-line no-control-regex -- removing the report's own colour codes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, "")).toBe(plain);
  });

  it("fits in 100 columns", async () => {
    for (const line of (await oomReport(true)).split("\n"))
      expect(visibleWidth(line)).toBeLessThanOrEqual(100);
  });

  it("renders a diagnosis alone (the diagnose command)", () => {
    const report = renderReport({
      incident: oomIncident(),
      diagnosis: oomDiagnosis(),
      fix: null,
      pullRequest: null,
      issue: null,
      noFix: null,
      color: false,
    });

    expect(report).toContain("── Diagnosis");
    expect(report).not.toContain("Pull request");
  });

  it("keeps cluster text from driving the terminal, instructing an AI or leaking secrets", () => {
    const report = renderReport({
      incident: hostileIncident(),
      diagnosis: oomDiagnosis(),
      fix: null,
      pullRequest: null,
      issue: null,
      noFix: null,
      color: false,
    });

    expect(report).not.toContain(ESC);
    expect(report).not.toContain(INJECTION_LINE);
    for (const secret of Object.values(PLANTED_SECRETS)) expect(report).not.toContain(secret);
    for (const line of report.split("\n")) expect(visibleWidth(line)).toBeLessThanOrEqual(100);
  });
});
