import { findInjection } from "../../redaction/quarantine-injection.js";
import type { Evidence } from "../diagnosis.js";

export const MAX_DETAIL = 300;

/** Collapses whitespace and cuts long text so one piece of evidence stays one readable line. */
export function shorten(text: string, max = MAX_DETAIL): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export const WITHHELD = "[withheld: the text reads like instructions to an AI]";

/** Untrusted text that reads like instructions to an AI is never quoted: evidence ends up in PRs and issues. */
export function withholdInstructions(text: string): string {
  return findInjection(text).length > 0 ? WITHHELD : text;
}

export function evidence(source: string, detail: string): Evidence {
  return { source: source.toLowerCase(), detail: shorten(withholdInstructions(detail)) };
}

export function podSource(pod: string): string {
  return `pod/${pod}`;
}

export function eventSource(kind: string, name: string): string {
  return `event/${kind.toLowerCase()}/${name}`;
}

export function logSource(pod: string, container: string): string {
  return `log/${pod}/${container}`;
}

/** Keeps the first occurrence of each detail: several pods saying the same thing add nothing. */
export function uniqueEvidence(items: Evidence[], max = 8): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const item of items) {
    const key = item.detail;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
    if (out.length >= max) break;
  }
  return out;
}
