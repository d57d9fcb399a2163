import { MedicError, WorkspaceError } from "../errors.js";

/**
 * A guardrail said no to one tool call (a write outside the policy, a diff over the cap). The model is
 * told why and may try something else; the run records it.
 */
export class GuardrailRefusal extends MedicError {
  override name = "GuardrailRefusal";
}

/** The workspace path guard refuses with a WorkspaceError: those count as guardrail refusals too. */
export function isRefusal(error: unknown): boolean {
  return (
    error instanceof GuardrailRefusal ||
    (error instanceof WorkspaceError && error.message.startsWith("refused path"))
  );
}
