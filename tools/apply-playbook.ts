import { z } from "zod";
import { GuardrailRefusal } from "../agent/agent/guardrail-refusal.js";
import { isNoFix } from "../agent/playbooks/playbook.js";
import { countDiffLines } from "../agent/verify/verify-fix.js";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const ApplyPlaybookInput = z.object({
  playbook: z.string().min(1).describe("The playbook id, e.g. oom-killed, image-pull, probe-failure."),
});

/**
 * apply_playbook: runs one of the deterministic playbooks on the repository. Its change passes the same
 * write policy and diff cap as the agent's own edits, and it runs only on an unchanged repository so
 * that undoing a refused change never undoes the agent's work.
 */
export function createApplyPlaybookTool(context: ToolContext) {
  const ids = context.playbooks.map((p) => p.id);
  return defineTool(context, {
    name: "apply_playbook",
    description: `Applies one deterministic playbook (a minimal manifest edit) to the repository, before any other edit. Playbooks: ${ids.join(", ") || "none"}. Each fits one failure category; it refuses when it does not apply.`,
    schema: ApplyPlaybookInput,
    maxTokens: 1500,
    run: async ({ playbook: id }) => {
      const playbook = context.playbooks.find((p) => p.id === id);
      if (!playbook) throw new Error(`no playbook ${JSON.stringify(id)}; playbooks: ${ids.join(", ")}`);
      const { incident, diagnosis, config, workspace } = context;
      if (!playbook.applies(incident, diagnosis)) {
        throw new Error(`playbook ${id} does not apply to this incident (diagnosed ${diagnosis.category})`);
      }
      const changed = await workspace.changedFiles();
      if (changed.length > 0)
        throw new Error(`apply_playbook must come before any edit; already changed: ${changed.join(", ")}`);
      const result = await playbook.fix(workspace.inner, incident, diagnosis, config);
      workspace.markChanged();
      if (isNoFix(result)) {
        await workspace.inner.reset();
        return `Playbook ${id} proposes no change: ${result.reason}`;
      }
      const files = await workspace.changedFiles();
      for (const file of files) {
        const content = (await workspace.exists(file)) ? await workspace.readFile(file) : "";
        const refused = workspace.checkWrite(file, content);
        if (refused) {
          await workspace.inner.reset();
          throw new GuardrailRefusal(`playbook ${id}'s change was undone: ${refused}`);
        }
      }
      const diff = await workspace.diff();
      const lines = countDiffLines(diff);
      if (lines > workspace.maxDiffLines) {
        await workspace.inner.reset();
        throw new GuardrailRefusal(
          `playbook ${id}'s change was undone: ${lines} changed lines exceed the cap of ${workspace.maxDiffLines}`,
        );
      }
      const changes = result.changes.map((c) => `  ${c.file} ${c.location}: ${c.from} -> ${c.to}`).join("\n");
      return {
        text: `Playbook ${id} changed ${files.join(", ")}:\n${changes}\nRationale: ${result.rationale}`,
        data: [{ source: "diff of the playbook's change", text: diff }],
      };
    },
  });
}
