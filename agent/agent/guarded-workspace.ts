import { checkWritePath } from "../verify/path-policy.js";
import type { PathPolicy } from "../verify/path-policy.js";
import { countDiffLines } from "../verify/verify-fix.js";
import type { Workspace } from "../workspace/workspace.js";
import { GuardrailRefusal } from "./guardrail-refusal.js";

/**
 * The only repository handle the agent's tools get. Every path goes through the workspace's own path
 * guard (no `..`, no absolute path, no symlink out); every write also through the same write policy the
 * playbooks' verification applies (`checkWritePath`), and no write may push the diff past the cap.
 */
export class GuardedWorkspace {
  /** Bumped on every successful write: cached tool answers from before are stale. */
  private writes = 0;

  constructor(
    private readonly workspace: Workspace,
    readonly policy: PathPolicy,
    readonly maxDiffLines: number,
  ) {}

  get generation(): number {
    return this.writes;
  }

  /** The unguarded workspace, for code that is not driven by the model (playbooks, verification). */
  get inner(): Workspace {
    return this.workspace;
  }

  listFiles(globs?: string[]): Promise<string[]> {
    return this.workspace.listFiles(globs);
  }

  exists(rel: string): Promise<boolean> {
    return this.workspace.exists(rel);
  }

  readFile(rel: string): Promise<string> {
    return this.workspace.readFile(rel);
  }

  diff(): Promise<string> {
    return this.workspace.diff();
  }

  changedFiles(): Promise<string[]> {
    return this.workspace.changedFiles();
  }

  /** For writes made through `inner` (a playbook): cached answers from before are stale. */
  markChanged(): void {
    this.writes += 1;
  }

  /** Checks a write without doing it: the reason it would be refused, or null. */
  checkWrite(rel: string, content: string): string | null {
    const verdict = checkWritePath(rel, this.policy, content);
    return verdict.ok ? null : verdict.reason;
  }

  /** Writes a file or refuses with a GuardrailRefusal; returns whether the file is new. */
  async writeFile(rel: string, content: string): Promise<{ created: boolean }> {
    const refused = this.checkWrite(rel, content);
    if (refused) throw new GuardrailRefusal(`write refused: ${refused}`);
    const existed = await this.workspace.exists(rel);
    const previous = existed ? await this.workspace.readFile(rel) : null;
    if (previous === null) {
      // A new file adds every one of its lines; checked before writing because a workspace cannot delete.
      const total = countDiffLines(await this.workspace.diff()) + lineCount(content);
      if (total > this.maxDiffLines) throw this.overCap(rel, total);
      await this.workspace.writeFile(rel, content);
    } else {
      await this.workspace.writeFile(rel, content);
      const total = countDiffLines(await this.workspace.diff());
      if (total > this.maxDiffLines) {
        await this.workspace.writeFile(rel, previous);
        throw this.overCap(rel, total);
      }
    }
    this.writes += 1;
    return { created: previous === null };
  }

  private overCap(rel: string, total: number): GuardrailRefusal {
    return new GuardrailRefusal(
      `write to ${rel} refused: the diff would change ${total} lines, more than the cap of ${this.maxDiffLines} (ROLLOUT_MEDIC_MAX_DIFF_LINES); make a smaller change`,
    );
  }
}

function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}
