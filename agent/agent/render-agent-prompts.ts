import type { AgentLimits } from "../config.js";
import type { Category, Diagnosis } from "../diagnosis/diagnosis.js";
import type { Incident } from "../incident/incident.js";
import { renderPrompt } from "../prompts/render-prompt.js";
import { fenceUntrusted, withholdInjections } from "../redaction/quarantine-injection.js";
import { redactText } from "../redaction/redact-secrets.js";
import type { PathPolicy } from "../verify/path-policy.js";

/** Where to look first, per category; the system prompt holds everything that does not depend on it. */
const HINTS: Partial<Record<Category, string>> = {
  "crash-loop":
    "The canary's containers exit soon after starting. The previous instance's log (`read_pod_logs` with `previous: true`) usually ends with the panic, exception or fatal error; find where the code raises it.",
  "analysis-error-rate":
    "The canary's pods run but serve errors, so its analysis failed. Look for panics, exceptions, unhandled rejections or 5xx responses in the canary's log that the stable log does not have (`compare_canary_stable_logs`), then find the code path.",
  "analysis-latency":
    "The canary's pods run but were too slow for the analysis. Look for new timeouts, retries or slow queries in the canary's log and for what the change made slower.",
  "config-missing":
    "The canary misses a configuration value, ConfigMap key or environment variable it needs. Find where the code or the manifest expects it and whether the repository should provide it or default it.",
  "dependency-unreachable":
    "The canary cannot reach something it depends on. Check whether the new version changed the address, port, protocol or timeout it uses; an outage of the dependency itself is an issue, not a change.",
  "probe-failure":
    "The canary's probes fail while the process runs. Compare the probe's port and path with what the application actually serves.",
  "oom-killed":
    "The canary's containers were killed for using too much memory. A higher limit was not proposed automatically; look for what makes the new version use more (a cache, a buffer, a leak).",
  unknown:
    "No analyzer recognised this failure. Start from the rollout status, the events and the canary's log.",
};

/** Categories where a change in the repository can plausibly fix the failure: the agent runs only for these. */
export const AGENT_CATEGORIES: readonly Category[] = Object.keys(HINTS) as Category[];

export function agentApplies(diagnosis: Diagnosis): boolean {
  return AGENT_CATEGORIES.includes(diagnosis.category);
}

export function renderSystemPrompt(incident: Incident, diagnosis: Diagnosis, limits: AgentLimits): string {
  return renderPrompt("system", {
    rollout: `${incident.rollout.namespace}/${incident.rollout.name}`,
    category: diagnosis.category,
    maxModelCalls: String(limits.maxModelCalls),
    maxToolCalls: String(limits.maxToolCalls),
  });
}

export interface TaskPromptInput {
  incident: Incident;
  diagnosis: Diagnosis;
  files: string[];
  policy: PathPolicy;
  maxDiffLines: number;
}

const MAX_EVIDENCE = 8;
const MAX_TOP_LEVEL = 30;

export function renderTaskPrompt(input: TaskPromptInput): string {
  const { incident, diagnosis, files, policy } = input;
  const evidence = [
    `summary: ${diagnosis.summary}`,
    ...diagnosis.evidence.slice(0, MAX_EVIDENCE).map((e) => `${e.source}: ${e.detail}`),
  ].join("\n");
  const topLevel = [...new Set(files.map((f) => (f.includes("/") ? `${f.split("/")[0]}/` : f)))].sort();
  const allow = [...(policy.allowPaths ?? []), ...(policy.alsoAllowPaths ?? [])];
  return renderPrompt("task", {
    rollout: `${incident.rollout.namespace}/${incident.rollout.name}`,
    revision: incident.rollout.revision ?? "(unknown)",
    category: diagnosis.category,
    confidence: diagnosis.confidence.toFixed(2),
    evidence: fenceUntrusted(
      "the deterministic diagnosis (it quotes cluster data)",
      withholdInjections(redactText(evidence)).text,
    ),
    hint: HINTS[diagnosis.category] ?? "",
    fileCount: String(files.length),
    topLevel:
      topLevel.length === 0
        ? "(none)"
        : topLevel
            .slice(0, MAX_TOP_LEVEL)
            .map((e) => `\`${e}\``)
            .join(", ") + (topLevel.length > MAX_TOP_LEVEL ? ", …" : ""),
    allowPaths:
      allow.length === 0
        ? "files outside the built-in deny list (CI configuration, secrets)"
        : allow.map((g) => `\`${g}\``).join(", "),
    maxDiffLines: String(input.maxDiffLines),
  });
}
