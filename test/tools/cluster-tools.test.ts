import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTokens } from "../../agent/logs/count-tokens.js";
import { createClusterTools, createDiagnosisTools } from "../../tools/index.js";
import { loadAgentFixture, toolContextOf } from "../agent/agent-fixture.js";
import type { AgentFixture } from "../agent/agent-fixture.js";
import { callTool } from "./call-tool.js";

let fixture: AgentFixture;
let tools: ReturnType<typeof createClusterTools>;

beforeAll(async () => {
  fixture = await loadAgentFixture("java-npe");
  const context = toolContextOf(fixture);
  tools = [...createClusterTools(context), ...createDiagnosisTools(context)];
});
afterAll(async () => fixture.dispose());

const canary = () => fixture.incident.pods.find((p) => p.role === "canary")!.name;
const stable = () => fixture.incident.pods.find((p) => p.role === "stable")!.name;

describe("get_rollout_status", () => {
  it("summarises the rollout and its analysis, fenced as cluster data", async () => {
    const answer = await callTool(tools, "get_rollout_status", {});

    expect(answer.ok).toBe(true);
    expect(answer.text).toContain("Rollout fulfilment/order-service");
    expect(answer.text).toContain('<untrusted-data source="rollout fulfilment/order-service status">');
    expect(answer.text).toMatch(/canary hash: \w+, stable hash: \w+/);
  });
});

describe("list_events", () => {
  it("lists the incident's events and filters them by reason", async () => {
    const all = await callTool(tools, "list_events", {});
    const backoff = await callTool(tools, "list_events", { reason: "BackOff", warningsOnly: true });

    expect(all.ok).toBe(true);
    expect(backoff.text).toContain("BackOff");
    expect(backoff.text).not.toMatch(/\bNormal\b/);
  });

  it("reads one pod's events from the cluster, and refuses objects outside the Rollout", async () => {
    const pod = await callTool(tools, "list_events", { object: `pod/${canary()}` });
    const foreign = await callTool(tools, "list_events", { object: "pod/someone-elses-pod" });

    expect(pod.ok).toBe(true);
    expect(foreign.ok).toBe(false);
    expect(foreign.text).toMatch(/^ERROR: Pod "someone-elses-pod" does not belong to this Rollout/);
  });
});

describe("describe_pod", () => {
  it("shows the crashed container's last termination", async () => {
    const answer = await callTool(tools, "describe_pod", { pod: canary() });

    expect(answer.text).toContain("role canary");
    expect(answer.text).toMatch(/last termination: \w+ exit 1/);
  });

  it("answers an unknown pod with the list of known ones instead of throwing", async () => {
    const answer = await callTool(tools, "describe_pod", { pod: "nope" });

    expect(answer.ok).toBe(false);
    expect(answer.text).toContain(`known pods: `);
    expect(answer.text).toContain(canary());
  });
});

describe("read_pod_logs", () => {
  it("reads the previous instance of the canary by default and keeps the exception", async () => {
    const answer = await callTool(tools, "read_pod_logs", { previous: true });

    expect(answer.text).toContain("(previous instance)");
    expect(answer.text).toContain("OrderService.java:45");
    expect(answer.text).toContain('<untrusted-data source="log fulfilment/');
  });

  it("filters with a regular expression and reports a bad one as an error result", async () => {
    const filtered = await callTool(tools, "read_pod_logs", { previous: true, filter: "NullPointer" });
    const bad = await callTool(tools, "read_pod_logs", { filter: "(" });

    expect(filtered.text).toMatch(/1 line\(s\) matching/);
    expect(bad.ok).toBe(false);
    expect(bad.text).toMatch(/^ERROR: filter is not a valid JavaScript regular expression/);
  });

  it("stays within its token budget on the stable pod's long log", async () => {
    const context = toolContextOf(fixture, 600);
    const small = createClusterTools(context);

    const answer = await callTool(small, "read_pod_logs", { pod: stable() });

    expect(countTokens(answer.text)).toBeLessThanOrEqual(700);
  });
});

describe("compare_canary_stable_logs", () => {
  it("compares the canary with a stable pod running the same container", async () => {
    const answer = await callTool(tools, "compare_canary_stable_logs", {});

    expect(answer.ok).toBe(true);
    expect(answer.text).toMatch(/against stable order-service-\w+-\w+/);
  });
});

describe("get_diagnosis", () => {
  it("returns the deterministic diagnosis with its evidence", async () => {
    const answer = await callTool(tools, "get_diagnosis", {});

    expect(answer.text).toContain("category: crash-loop");
    expect(answer.text).toContain("NullPointerException");
  });
});
