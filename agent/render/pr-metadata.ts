import { createHash } from "node:crypto";
import { z } from "zod";
import { CATEGORIES } from "../diagnosis/diagnosis.js";

export const METADATA_MARKER = "rollout-medic:metadata";
/** Bumped when the fields change meaning; a reader refuses versions it does not know. */
export const METADATA_SCHEMA_VERSION = 1;

const MAX_PAYLOAD_CHARS = 8192;
const COMMENT_PATTERN = new RegExp(`<!--\\s*${METADATA_MARKER}\\s+([^\\s>]*)\\s*-->`, "g");

/**
 * What a later run needs to recognise its own pull request or issue without any state of its own:
 * which canary it was for, who proposed the change, and the hash of the body it rendered.
 */
export const PrMetadata = z.object({
  schema: z.literal(METADATA_SCHEMA_VERSION),
  /** The idempotency key: the branch name, also used for issues. */
  key: z.string().min(1).max(200),
  rolloutUid: z.string().max(100).optional(),
  namespace: z.string().min(1).max(253),
  name: z.string().min(1).max(253),
  revision: z.string().max(32).optional(),
  canaryPodHash: z.string().max(64).optional(),
  category: z.enum(CATEGORIES),
  /** A playbook id, "agent", or "none" when an issue was filed instead. */
  fixer: z.string().min(1).max(100),
  fixerVersion: z.string().min(1).max(64),
  promptVersion: z.string().max(64).optional(),
  attempt: z.number().int().min(1).max(1000).optional(),
  /** `hashBody` of the visible body, so an unchanged pull request is left alone. */
  bodyHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PrMetadata = z.infer<typeof PrMetadata>;

export function renderMetadataComment(meta: PrMetadata): string {
  // A fixed key order keeps the comment, and so every snapshot, stable whatever order the caller used.
  const ordered: PrMetadata = {
    schema: meta.schema,
    key: meta.key,
    rolloutUid: meta.rolloutUid,
    namespace: meta.namespace,
    name: meta.name,
    revision: meta.revision,
    canaryPodHash: meta.canaryPodHash,
    category: meta.category,
    fixer: meta.fixer,
    fixerVersion: meta.fixerVersion,
    promptVersion: meta.promptVersion,
    attempt: meta.attempt,
    bodyHash: meta.bodyHash,
  };
  const payload = Buffer.from(JSON.stringify(ordered), "utf8").toString("base64url");
  return `<!-- ${METADATA_MARKER} ${payload} -->`;
}

/**
 * Reads the metadata back from a body someone else may have edited. The last comment wins because
 * rollout-medic writes its own at the very end. Anything unreadable is `null`, never an exception:
 * a foreign or damaged pull request must not stop a run.
 */
export function parseMetadataComment(body: unknown): PrMetadata | null {
  if (typeof body !== "string") return null;
  const payload = lastPayload(body);
  if (payload === null || payload.length === 0 || payload.length > MAX_PAYLOAD_CHARS) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = PrMetadata.safeParse(json);
  return parsed.success ? parsed.data : null;
}

function lastPayload(body: string): string | null {
  const start = body.lastIndexOf(METADATA_MARKER);
  if (start < 0) return null;
  // Scanning only a bounded window keeps a hostile megabyte body from costing more than a lookup.
  const windowStart = body.lastIndexOf("<!--", start);
  if (windowStart < 0 || start - windowStart > 16) return null;
  const window = body.slice(windowStart, start + METADATA_MARKER.length + MAX_PAYLOAD_CHARS + 16);
  COMMENT_PATTERN.lastIndex = 0;
  const match = COMMENT_PATTERN.exec(window);
  return match?.index === 0 ? (match[1] ?? null) : null;
}

/** Removes every metadata comment, for hashing and for showing a body without its machinery. */
export function stripMetadataComment(body: string): string {
  return body.replace(COMMENT_PATTERN, "");
}

/**
 * SHA-256 of the body as a reader sees it: whitespace runs count as one space and the metadata
 * comment does not count, so re-rendering an unchanged body yields the same hash.
 */
export function hashBody(body: string): string {
  const normalized = stripMetadataComment(body).replace(/\s+/g, " ").trim();
  return createHash("sha256").update(normalized, "utf8").digest("hex");
}
