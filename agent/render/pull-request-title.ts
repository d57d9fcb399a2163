import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import { cleanUntrusted } from "./untrusted-text.js";

const MAX_TITLE_CHARS = 100;

/** Field paths a reviewer knows by a shorter name. */
const FIELD_NOUNS: readonly (readonly [RegExp, string])[] = [
  [/resources\.limits\.memory$/, "memory limit"],
  [/resources\.requests\.memory$/, "memory request"],
  [/resources\.limits\.cpu$/, "CPU limit"],
  [/resources\.requests\.cpu$/, "CPU request"],
  [/resources\.limits\.ephemeral-storage$/, "ephemeral storage limit"],
  [/resources\.requests\.ephemeral-storage$/, "ephemeral storage request"],
  [/readinessProbe\.initialDelaySeconds$/, "readiness probe delay"],
  [/livenessProbe\.initialDelaySeconds$/, "liveness probe delay"],
  [/startupProbe\.failureThreshold$/, "startup probe threshold"],
  [/readinessProbe\.(?:httpGet|tcpSocket|grpc)\.port$/, "readiness probe port"],
  [/livenessProbe\.(?:httpGet|tcpSocket|grpc)\.port$/, "liveness probe port"],
  [/readinessProbe\.httpGet\.path$/, "readiness probe path"],
  [/livenessProbe\.httpGet\.path$/, "liveness probe path"],
  [/(?:^|\.)image$/, "image"],
  [/(?:\.newTag|\.image\.tag|\.tag)$/, "image tag"],
  [/(?:\.newName|\.image\.repository)$/, "image"],
  [/progressDeadlineSeconds$/, "progress deadline"],
];

/**
 * `fix(checkout): raise memory limit of canary container app to 384Mi` when the change is one
 * value (or one value in several places), else the generic `fix(checkout): oom-killed in canary
 * revision 7`. Conventional-commit shaped because squash merges turn the title into the commit.
 */
export function pullRequestTitle(incident: Incident, diagnosis: Diagnosis, fix: Fix): string {
  const scope = titleText(incident.rollout.name) || "rollout";
  const specific = describeChanges(fix.changes);
  const title = specific
    ? `fix(${scope}): ${specific}`
    : `fix(${scope}): ${genericSubject(incident, diagnosis)}`;
  return title.length <= MAX_TITLE_CHARS ? title : `fix(${scope}): ${genericSubject(incident, diagnosis)}`;
}

function genericSubject(incident: Incident, diagnosis: Diagnosis): string {
  const where = incident.rollout.revision
    ? `canary revision ${titleText(incident.rollout.revision)}`
    : incident.rollout.canaryPodHash
      ? `canary ${titleText(incident.rollout.canaryPodHash)}`
      : "canary";
  return `${diagnosis.category} in ${where}`;
}

function describeChanges(changes: FixChange[]): string | null {
  if (changes.length === 0) return null;
  const parsed = changes.map(parseChange);
  const first = parsed[0];
  if (!first || parsed.some((c) => c.noun === null)) return null;
  if (parsed.some((c) => c.container !== first.container || c.to !== first.to || c.verb !== first.verb))
    return null;
  const nouns = joinNouns([...new Set(parsed.map((c) => c.noun ?? ""))]);
  if (!nouns) return null;
  const target = first.container ? ` of canary container ${first.container}` : "";
  const value = first.noun === "image" ? imageTag(first.to) : first.to;
  return titleText(`${first.verb} ${nouns}${target} to ${value}`);
}

interface ParsedChange {
  noun: string | null;
  container: string | null;
  verb: string;
  to: string;
}

function parseChange(change: FixChange): ParsedChange {
  const segments = change.location.split(",").map((s) => s.trim());
  // Locators append where the value lives: "resources.limits.memory (manifest in deploy/rollout.yaml)".
  const path = (segments.at(-1) ?? "").replace(/\s*\([^)]*\)\s*$/, "");
  const container = segments.map((s) => /^(?:init )?container\s+(\S+)$/.exec(s)?.[1]).find(Boolean) ?? null;
  const noun = FIELD_NOUNS.find(([pattern]) => pattern.test(path))?.[1] ?? null;
  return { noun, container, verb: verbFor(change.from, change.to), to: change.to.trim() };
}

function verbFor(from: string, to: string): string {
  const before = parseQuantity(from);
  const after = parseQuantity(to);
  if (before === null || after === null || before === after) return "set";
  return after > before ? "raise" : "lower";
}

/** "memory limit and request" rather than "memory limit and memory request". */
function joinNouns(nouns: string[]): string | null {
  if (nouns.length === 1) return nouns[0] ?? null;
  if (nouns.length !== 2) return null;
  const [a = "", b = ""] = nouns;
  const headA = a.split(" ").slice(0, -1).join(" ");
  const headB = b.split(" ").slice(0, -1).join(" ");
  return headA !== "" && headA === headB ? `${a} and ${b.split(" ").at(-1)}` : `${a} and ${b}`;
}

const QUANTITY_FACTORS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  ms: 1e-3,
  s: 1,
  h: 3600,
};

/** Kubernetes quantities (`384Mi`, `500m`) and plain numbers; null for anything else. */
function parseQuantity(value: string): number | null {
  const match = /^\s*["']?(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|ms|[mkMGTPEsh])?["']?\s*$/.exec(value);
  if (!match) return null;
  const factor = QUANTITY_FACTORS[match[2] ?? ""];
  return factor === undefined ? null : Number.parseFloat(match[1] ?? "0") * factor;
}

/** The tag (or digest) carries the meaning; the registry path only makes the title long. */
function imageTag(image: string): string {
  const atDigest = image.indexOf("@");
  if (atDigest >= 0) return image.slice(atDigest + 1, atDigest + 20);
  const lastSlash = image.lastIndexOf("/");
  const name = image.slice(lastSlash + 1);
  return name.includes(":") ? name : image;
}

/** Titles are one line and are rendered: no newlines, no pings, nothing from the cluster unfiltered. */
function titleText(text: string): string {
  return cleanUntrusted(text).replace(/\s+/g, " ").replace(/[`<>]/g, "").trim();
}
