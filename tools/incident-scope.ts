import type { PodSnapshot } from "../agent/incident/incident.js";
import { isKnownSidecar } from "../agent/incident/read-objects.js";
import type { ToolContext } from "./tool-context.js";

/**
 * Cluster tools see the incident's Rollout and nothing else: the namespace is never an argument, and
 * a pod must be one of the Rollout's own pods.
 */
export function findIncidentPod(context: ToolContext, name: string): PodSnapshot {
  const pod = context.incident.pods.find((p) => p.name === name);
  if (pod) return pod;
  const known = context.incident.pods.map((p) => `${p.name} (${p.role})`).join(", ") || "none";
  throw new Error(`pod ${JSON.stringify(name)} is not one of this Rollout's pods; known pods: ${known}`);
}

/** The container to read when none is named: the only application container, else the first one. */
export function pickContainer(pod: PodSnapshot, name: string | undefined): string {
  if (name) {
    if (pod.containers.some((c) => c.name === name)) return name;
    throw new Error(
      `pod ${pod.name} has no container ${JSON.stringify(name)}; containers: ${pod.containers.map((c) => c.name).join(", ")}`,
    );
  }
  const app = pod.containers.filter((c) => !c.init && !isKnownSidecar(c.name));
  const chosen = app[0] ?? pod.containers[0];
  if (!chosen) throw new Error(`pod ${pod.name} has no containers`);
  return chosen.name;
}

/** Canary pods first, the ones with restarts or waiting containers before the others. */
export function podsByInterest(pods: PodSnapshot[]): PodSnapshot[] {
  const score = (p: PodSnapshot): number =>
    p.containers.reduce(
      (n, c) => n + c.restartCount * 10 + (c.state === "waiting" ? 5 : 0) + (c.ready ? 0 : 1),
      0,
    );
  return [...pods].sort((a, b) => score(b) - score(a) || a.name.localeCompare(b.name));
}

export function namespaceOf(context: ToolContext): string {
  return context.incident.rollout.namespace;
}

/** Turns a pattern from the model into a RegExp, refusing what is too long to be a reasonable filter. */
export function compilePattern(pattern: string, what: string): RegExp {
  if (pattern.length > 300) throw new Error(`${what} is longer than 300 characters: use a shorter pattern`);
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new Error(`${what} is not a valid JavaScript regular expression: ${(error as Error).message}`);
  }
}
