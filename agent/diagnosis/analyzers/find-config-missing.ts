import type { Incident } from "../../incident/incident.js";
import type { Evidence, Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { appContainers, canaryPods, eventContainer, mainContainerName, podEvents } from "./canary-pods.js";
import { evidence, eventSource, logSource, podSource, uniqueEvidence } from "./evidence.js";
import { canaryOnlyLines } from "./log-lines.js";

interface Missing {
  kind: "configmap" | "secret" | "key" | "env" | "file" | "config";
  name?: string;
}

/** What kubelet says when a referenced object or key is absent (CreateContainerConfigError messages). */
export function missingFromKubeletMessage(message: string): Missing | undefined {
  const key = /couldn't find key ([\w.-]+) in (ConfigMap|Secret) ([\w./-]+)/i.exec(message);
  if (key) return { kind: "key", name: `${key[3]}:${key[1]}` };
  const object = /(configmap|secret)s? "([^"]+)" not found/i.exec(message);
  if (object?.[1] && object[2])
    return { kind: object[1].toLowerCase() as "configmap" | "secret", name: object[2] };
  return undefined;
}

const ENV_NAME = "([A-Z][A-Z0-9_]{2,})";
const APP_PATTERNS: { pattern: RegExp; kind: Missing["kind"] }[] = [
  {
    pattern: new RegExp(
      `(?:missing|required|undefined|unset)\\s+(?:required\\s+)?(?:environment variable|env(?:ironment)? var(?:iable)?|env)s?\\W+${ENV_NAME}`,
      "i",
    ),
    kind: "env",
  },
  {
    pattern: new RegExp(
      `(?:environment variable|env(?:ironment)? var(?:iable)?|env)\\W+${ENV_NAME}\\W+(?:is\\s+)?(?:not set|not defined|missing|required|must be set|empty|undefined)`,
      "i",
    ),
    kind: "env",
  },
  {
    pattern: new RegExp(
      `\\b${ENV_NAME}\\b\\W+(?:is\\s+)?(?:not set|must be set|is required|required but not set)`,
    ),
    kind: "env",
  },
  { pattern: new RegExp(`KeyError: '${ENV_NAME}'`), kind: "env" },
  { pattern: /missing required (?:environment variable|env var|config(?:uration)?\w*)/i, kind: "env" },
  {
    pattern:
      /(?:config(?:uration)?|settings|properties) file\W+(\S+?)\W*(?:not found|does not exist|missing)|open (\S+\.(?:ya?ml|json|toml|conf|ini|properties|env)): no such file or directory|ENOENT[^']*'([^']+\.(?:ya?ml|json|toml|conf|ini|properties|env))'/i,
    kind: "file",
  },
  {
    pattern:
      /(?:missing|required) (?:config(?:uration)?|setting|property)(?: key| value)?\W+["']?([\w.-]+)|(?:config(?:uration)?|setting|property) ["']([\w.-]+)["'] (?:is )?(?:missing|required|not (?:set|found|defined))/i,
    kind: "config",
  },
];

export function missingFromAppLog(line: string): Missing | undefined {
  for (const { pattern, kind } of APP_PATTERNS) {
    const match = pattern.exec(line);
    if (match) return { kind, name: match.slice(1).find((g) => g !== undefined) };
  }
  return undefined;
}

/** A referenced ConfigMap, Secret, key or required environment variable is missing. */
export function findConfigMissing(incident: Incident): Finding[] {
  const items: { container: string; missing: Missing; evidence: Evidence; strong: boolean }[] = [];

  for (const pod of canaryPods(incident)) {
    for (const c of appContainers(pod)) {
      if (c.state !== "waiting" || c.reason !== "CreateContainerConfigError") continue;
      items.push({
        container: c.name,
        missing: missingFromKubeletMessage(c.message ?? "") ?? { kind: "config" },
        evidence: evidence(
          podSource(pod.name),
          `container "${c.name}" waiting: ${c.reason}: ${c.message ?? ""}`,
        ),
        strong: true,
      });
    }
  }
  for (const e of podEvents(incident)) {
    // Volumes that cannot be mounted are a mount failure, even when the volume is a ConfigMap.
    if (e.type === "Normal" || /FailedMount|FailedAttach|FailedMap/i.test(e.reason)) continue;
    const missing = missingFromKubeletMessage(e.message);
    if (!missing && !/CreateContainerConfigError/.test(e.message)) continue;
    items.push({
      container: eventContainer(incident, e) ?? mainContainerName(incident) ?? "",
      missing: missing ?? { kind: "config" },
      evidence: evidence(eventSource(e.object.kind, e.object.name), `${e.reason}: ${e.message}`),
      strong: true,
    });
  }
  const crashing = new Set(
    canaryPods(incident).flatMap((p) =>
      appContainers(p)
        .filter(
          (c) =>
            c.restartCount > 0 || c.reason === "CrashLoopBackOff" || (c.lastTermination?.exitCode ?? 0) !== 0,
        )
        .map((c) => c.name),
    ),
  );
  for (const line of canaryOnlyLines(incident)) {
    const missing = missingFromAppLog(line.text);
    if (!missing) continue;
    items.push({
      container: line.log.container,
      missing,
      evidence: evidence(
        logSource(line.log.pod, line.log.container),
        `${line.log.previous ? "previous: " : ""}${line.text}`,
      ),
      strong: crashing.has(line.log.container),
    });
  }
  if (items.length === 0) return [];

  // A named object, key or variable is what a fix needs; a vague "config" report is the last resort.
  const specific = (i: (typeof items)[number]) => i.missing.name !== undefined && i.missing.kind !== "config";
  const best =
    items.find((i) => i.strong && specific(i)) ??
    items.find((i) => i.strong && i.missing.name) ??
    items.find((i) => i.strong) ??
    items.find(specific) ??
    items[0];
  if (!best) return [];
  const container = best.container;
  const facts: Record<string, string | number | boolean> = { container, missingKind: best.missing.kind };
  if (best.missing.name) facts["missing"] = best.missing.name;
  const what =
    best.missing.kind === "env"
      ? `environment variable ${best.missing.name ?? "(unnamed)"}`
      : best.missing.kind === "key"
        ? `key ${best.missing.name}`
        : best.missing.kind === "configmap" || best.missing.kind === "secret"
          ? `${best.missing.kind === "configmap" ? "ConfigMap" : "Secret"} "${best.missing.name}"`
          : best.missing.kind === "file"
            ? `config file ${best.missing.name ?? ""}`.trim()
            : `configuration${best.missing.name ? ` ${best.missing.name}` : ""}`;
  const fromKubelet = items.some(
    (i) => i.evidence.source.startsWith("pod/") || i.evidence.source.startsWith("event/"),
  );
  return [
    {
      category: "config-missing",
      analyzer: "findConfigMissing",
      summary: `Canary container "${container}" of ${incident.rollout.name} is missing ${what}`,
      evidence: uniqueEvidence(items.map((i) => i.evidence)),
      confidence: fromKubelet ? 0.95 : items.some((i) => i.strong) ? 0.85 : 0.55,
      rank: RANK["config-missing"],
      facts,
    },
  ];
}
