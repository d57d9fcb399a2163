import type { Forge, RepositoryRef } from "../forge/forge.js";

const NOTE_MARKER = "rollout-medic:note";

export function noteMarker(note: string): string {
  return `<!-- ${NOTE_MARKER} ${note} -->`;
}

/**
 * Comments once per `note` on an issue or pull request: a hidden marker in the comment lets every later
 * run see it was said already, so re-runs never pile up identical comments. True when it commented.
 */
export async function ensureComment(
  forge: Forge,
  repo: RepositoryRef,
  number: number,
  note: string,
  text: string,
): Promise<boolean> {
  const marker = noteMarker(note);
  const comments = await forge.listComments(repo, number);
  if (comments.some((c) => c.body.includes(marker))) return false;
  await forge.addComment(repo, number, `${text.trim()}\n\n${marker}`);
  return true;
}
