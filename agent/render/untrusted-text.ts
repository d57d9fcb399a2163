import { redactText } from "../redaction/redact-secrets.js";
import { withholdInjections } from "../redaction/quarantine-injection.js";
import { METADATA_MARKER } from "./pr-metadata.js";

const ZWSP = "\u200b";
/* eslint-disable no-control-regex -- finding control characters is the point of these */
const ANSI_CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
const ANSI_OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
/** C0 and C1 controls except tab and newline. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/* eslint-enable no-control-regex */

export interface SanitizedText {
  text: string;
  /** How many lines were withheld because they read like instructions to an AI. */
  withheld: number;
}

/**
 * Everything that came from the cluster, the repository or a model passes through here before it
 * reaches a body or a terminal: nothing in it may instruct a reader's AI, leak a secret, ping a
 * person, cross-link an issue, forge our metadata comment or move a terminal's cursor.
 */
export function sanitizeUntrusted(text: string): SanitizedText {
  const visible = stripControlCharacters(text);
  const withheld = withholdInjections(visible);
  return {
    text: neutralizeReferences(redactText(withheld.text)),
    withheld: withheld.withheld,
  };
}

/** `sanitizeUntrusted` when the caller needs only the text (the withheld note is in the text itself). */
export function cleanUntrusted(text: string | undefined): string {
  return text === undefined ? "" : sanitizeUntrusted(text).text;
}

/**
 * For a terminal: the same filtering without the zero-width spaces, which only matter on GitHub and
 * would end up in whatever a reader copies from the report.
 */
export function cleanForTerminal(text: string | undefined): string {
  if (text === undefined || text === "") return "";
  return redactText(withholdInjections(stripControlCharacters(text)).text);
}

/**
 * ANSI sequences are dropped rather than shown: logs often carry colour codes, and a raw ESC in a
 * report would let a log drive the reviewer's terminal. Bidirectional overrides can make text read
 * differently from what it is (CVE-2021-42574), so they go too.
 */
export function stripControlCharacters(text: string): string {
  return text
    .replace(ANSI_CSI, "")
    .replace(ANSI_OSC, "")
    .replace(/\r\n/g, "\n")
    .replace(CONTROL, "")
    .replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, "");
}

/**
 * GitHub turns `@name` into a notification and `#123`, `GH-123` or an issue URL into a
 * cross-reference on someone else's issue. A zero-width space keeps the text readable and inert.
 * E-mail addresses (`ops@example.com`) are left alone: GitHub does not ping them.
 */
export function neutralizeReferences(text: string): string {
  return text
    .replace(/&#/g, `&${ZWSP}#`)
    .replace(/(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])/g, `@${ZWSP}`)
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1-${ZWSP}`)
    .replace(/\b(github)(?=\.com\/[^\s/]+\/[^\s/]+\/(?:issues|pull|discussions)\/\d)/gi, `$1${ZWSP}`)
    .replaceAll(METADATA_MARKER, METADATA_MARKER.replace(":", `:${ZWSP}`))
    .replace(/<!--/g, `<${ZWSP}!--`);
}
