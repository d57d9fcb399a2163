import { afterEach, describe, expect, it } from "vitest";
import { createRepositoryWriteTools } from "../../tools/index.js";
import { loadAgentFixture, toolContextOf } from "../agent/agent-fixture.js";
import type { AgentFixture } from "../agent/agent-fixture.js";
import { callTool } from "./call-tool.js";

let fixture: AgentFixture;
afterEach(async () => fixture.dispose());

describe("apply_playbook", () => {
  it("applies a playbook that fits the diagnosis and shows its diff", async () => {
    fixture = await loadAgentFixture("oom-killed");
    const tools = createRepositoryWriteTools(toolContextOf(fixture));

    const answer = await callTool(tools, "apply_playbook", { playbook: "oom-killed" });

    expect(answer.ok).toBe(true);
    expect(answer.text).toContain("Playbook oom-killed changed deploy/rollout.yaml");
    expect(answer.text).toMatch(/memory: \d+Mi/);
    expect(await fixture.workspace.changedFiles()).toEqual(["deploy/rollout.yaml"]);
  });

  it("refuses a playbook that does not fit, an unknown one, and running after other edits", async () => {
    fixture = await loadAgentFixture("go-panic");
    const tools = createRepositoryWriteTools(toolContextOf(fixture));

    const unfit = await callTool(tools, "apply_playbook", { playbook: "oom-killed" });
    const unknown = await callTool(tools, "apply_playbook", { playbook: "rm-rf" });
    await callTool(tools, "create_file", { path: "internal/x.go", content: "package internal\n" });
    const late = await callTool(tools, "apply_playbook", { playbook: "image-pull" });

    expect(unfit.text).toContain("does not apply to this incident (diagnosed analysis-error-rate)");
    expect(unknown.text).toMatch(/no playbook "rm-rf"; playbooks: oom-killed/);
    expect(late.ok).toBe(false);
  });
});
