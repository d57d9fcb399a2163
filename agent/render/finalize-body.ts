import { redactSecretsThorough } from "../redaction/redact-secrets.js";
import { EVIDENCE_BUDGETS } from "./body-sections.js";
import type { EvidenceBudget } from "./body-sections.js";
import { hashBody, renderMetadataComment } from "./pr-metadata.js";
import type { PrMetadata } from "./pr-metadata.js";

/** GitHub refuses bodies over 65,536 characters; the margin leaves room for the metadata comment. */
export const MAX_BODY_CHARS = 60_000;

const HARD_CUT_NOTE =
  "\n\n> [!NOTE]\n> This description was cut to fit GitHub's size limit. The full evidence is in the cluster.\n";

/**
 * Renders at the richest evidence level that fits, redacts the whole body once more (the last line
 * of defence: every input was redacted already, but a body is published), then hashes what a reader
 * sees and appends the metadata. Redaction runs before measuring because it can change the length.
 */
export async function finalizeBody(
  build: (budget: EvidenceBudget) => string,
  meta: Omit<PrMetadata, "bodyHash">,
): Promise<string> {
  let visible = "";
  for (const budget of EVIDENCE_BUDGETS) {
    visible = (await redactSecretsThorough(build(budget))).text.trimEnd();
    if (visible.length + commentLength(meta) + 2 <= MAX_BODY_CHARS) return withMetadata(visible, meta);
  }
  const room = MAX_BODY_CHARS - commentLength(meta) - HARD_CUT_NOTE.length - 2;
  const cut = visible.slice(0, Math.max(0, room));
  const atLine = cut.lastIndexOf("\n");
  return withMetadata(
    `${closeOpenFence(atLine > 0 ? cut.slice(0, atLine) : cut)}${HARD_CUT_NOTE}`.trimEnd(),
    meta,
  );
}

function withMetadata(visible: string, meta: Omit<PrMetadata, "bodyHash">): string {
  const comment = renderMetadataComment({ ...meta, bodyHash: hashBody(visible) });
  return `${visible}\n\n${comment}\n`;
}

function commentLength(meta: Omit<PrMetadata, "bodyHash">): number {
  return renderMetadataComment({ ...meta, bodyHash: "0".repeat(64) }).length + 1;
}

/** A cut inside a fenced block would swallow everything after it, our note included. */
function closeOpenFence(text: string): string {
  let open: string | null = null;
  for (const line of text.split("\n")) {
    const fence = /^ {0,3}(`{3,})/.exec(line)?.[1];
    if (!fence) continue;
    if (open === null) open = fence;
    else if (fence.length >= open.length && line.trim() === fence) open = null;
  }
  return open === null ? text : `${text}\n${open}`;
}
