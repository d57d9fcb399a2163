import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange, NoFix } from "../fix/fix.js";
import type { ContainerSnapshot, Incident } from "../incident/incident.js";
import { setValueAt } from "../workspace/edit-location.js";
import { findField } from "../workspace/locate-workload.js";
import { formatMemoryQuantity, parseMemoryQuantity, raiseMemoryLimit } from "./memory-quantity.js";
import type { Playbook } from "./playbook.js";
import {
  appContainers,
  canaryPods,
  code,
  describeChange,
  finishFix,
  locateContainer,
  noFix,
  plural,
  stablePods,
} from "./playbook-support.js";

export const OOM_FACTOR = 1.5;

function oomKilled(container: ContainerSnapshot): { oom: boolean; exit137: boolean } {
  const states = [
    { reason: container.reason, exitCode: container.exitCode },
    { reason: container.lastTermination?.reason, exitCode: container.lastTermination?.exitCode },
  ];
  return {
    oom: states.some((s) => s.reason === "OOMKilled"),
    exit137: states.some((s) => s.exitCode === 137),
  };
}

interface OomEvidence {
  container: string;
  /** Pods where the container was OOMKilled. */
  pods: number;
  /** Restarts of those containers: each an OOM kill or a crash after one. */
  restarts: number;
  exit137: number;
}

/** The canary container that was OOMKilled most, read from the pods themselves (not from analyzer facts). */
export function findOomEvidence(incident: Incident): OomEvidence | null {
  const byContainer = new Map<string, OomEvidence>();
  for (const pod of canaryPods(incident)) {
    for (const container of pod.containers) {
      if (container.init) continue;
      const { oom, exit137 } = oomKilled(container);
      if (!oom && !exit137) continue;
      const entry = byContainer.get(container.name) ?? {
        container: container.name,
        pods: 0,
        restarts: 0,
        exit137: 0,
      };
      if (oom) entry.pods++;
      if (exit137) entry.exit137++;
      entry.restarts += container.restartCount;
      byContainer.set(container.name, entry);
    }
  }
  const ranked = [...byContainer.values()].sort((a, b) => b.pods - a.pods || b.restarts - a.restarts);
  return ranked[0] ?? null;
}

function stableOomFree(incident: Incident, container: string): boolean | null {
  const pods = stablePods(incident);
  if (pods.length === 0) return null;
  return pods.every((p) => p.containers.every((c) => c.name !== container || !oomKilled(c).oom));
}

async function fix(
  workspace: Parameters<Playbook["fix"]>[0],
  incident: Incident,
  _diagnosis: Diagnosis,
  config: Config,
): Promise<Fix | NoFix> {
  const evidence = findOomEvidence(incident);
  if (evidence && !incident.rollout.containers.some((c) => c.name === evidence.container)) {
    return noFix(
      `container ${evidence.container} was OOMKilled, but the Rollout's template does not define it (an injected sidecar?): its limit is set where it is injected`,
    );
  }
  const spec =
    incident.rollout.containers.find((c) => c.name === evidence?.container) ??
    appContainers(incident).find((c) => c.limits["memory"] !== undefined);
  if (!spec) return noFix("no container of the Rollout was OOMKilled or sets a memory limit");
  const limitText = spec.limits["memory"];
  if (limitText === undefined) {
    return noFix(
      `container ${spec.name} sets no memory limit: an OOM kill then comes from node memory pressure, which a limit change cannot fix`,
    );
  }
  const limit = parseMemoryQuantity(limitText);
  if (limit === null || limit <= 0)
    return noFix(`container ${spec.name} has a memory limit ${limitText} that is not a valid quantity`);
  const raised = raiseMemoryLimit(limit, OOM_FACTOR);
  const cap = parseMemoryQuantity(config.playbooks.maxMemoryLimit);
  if (cap === null)
    return noFix(
      `the configured maximum memory limit ${config.playbooks.maxMemoryLimit} is not a valid quantity`,
    );
  if (raised > cap) {
    return noFix(
      `raising the memory limit of ${spec.name} from ${limitText} to ${formatMemoryQuantity(raised)} would exceed the configured maximum of ${config.playbooks.maxMemoryLimit} (ROLLOUT_MEDIC_MAX_MEMORY_LIMIT): a leak or a sizing decision needs a human`,
    );
  }
  const newLimit = formatMemoryQuantity(raised);

  const located = await locateContainer(workspace, incident, spec.name);
  if ("reason" in located) return located;
  const { workload, container } = located;
  const limitSource = findField(container, "resources.limits.memory");
  if (!limitSource) {
    return noFix(`could not locate the memory limit of container ${spec.name} in ${workload.description}`);
  }
  const repoLimit = parseMemoryQuantity(String(limitSource.value));
  if (repoLimit !== null && repoLimit >= raised) {
    return noFix(
      `the repository already sets the memory limit of ${spec.name} to ${String(limitSource.value)} (${limitSource.location.file}), at least the ${newLimit} this fix would set: the cluster may not have synced it yet`,
    );
  }

  const changes: FixChange[] = [];
  await setValueAt(workspace, limitSource.location, newLimit, limitSource.value);
  changes.push({
    file: limitSource.location.file,
    location: describeChange(incident, spec.name, "resources.limits.memory", limitSource),
    from: String(limitSource.value),
    to: newLimit,
  });

  const requestText = spec.requests["memory"];
  const requestEqualsLimit = requestText !== undefined && parseMemoryQuantity(requestText) === limit;
  let requestNote: string;
  if (requestEqualsLimit) {
    const requestSource = findField(container, "resources.requests.memory");
    if (requestSource && parseMemoryQuantity(String(requestSource.value)) === limit) {
      await setValueAt(workspace, requestSource.location, newLimit, requestSource.value);
      changes.push({
        file: requestSource.location.file,
        location: describeChange(incident, spec.name, "resources.requests.memory", requestSource),
        from: String(requestSource.value),
        to: newLimit,
      });
      requestNote = `The memory request equalled the limit, so it is raised with it: the scheduler keeps reserving what the container may use (and the pod keeps its QoS class).`;
    } else {
      requestNote = `The memory request equals the limit in the cluster, but its source could not be located, so only the limit changes.`;
    }
  } else {
    requestNote =
      requestText === undefined
        ? "No memory request is set; it is left alone."
        : `The memory request (${requestText}) differs from the limit and is left alone: it reflects steady-state use, not the peak that was killed.`;
  }

  const observed: string[] = [];
  if (evidence) {
    observed.push(
      `container ${code(spec.name)} was OOMKilled in ${plural(evidence.pods, "canary pod")}` +
        (evidence.exit137 > 0
          ? ` (exit code 137${evidence.restarts > 0 ? `, ${plural(evidence.restarts, "restart")}` : ""})`
          : ""),
    );
  } else {
    observed.push(`the diagnosis found container ${code(spec.name)} killed for exceeding its memory`);
  }
  observed.push(`with a memory limit of ${code(limitText)}`);
  const stableNote = stableOomFree(incident, spec.name)
    ? " The stable revision runs with the same limit without OOM kills, so the new version needs more memory than the old one."
    : "";
  const mismatch =
    repoLimit !== null && repoLimit !== limit
      ? ` Note: the repository sets ${String(limitSource.value)} while the cluster runs ${limitText}; the new value is computed from what the cluster runs.`
      : "";
  const rationale = [
    `In Rollout ${code(`${incident.rollout.namespace}/${incident.rollout.name}`)}, ${observed.join(" ")}.${stableNote}`,
    `This change raises the limit to ${code(newLimit)}: ${OOM_FACTOR}× the observed limit, rounded up to a whole 64Mi step (256Mi steps from 1Gi on), within the configured maximum of ${code(config.playbooks.maxMemoryLimit)}. It is set in ${workload.description}, the source that defines the value the cluster runs.${mismatch}`,
    requestNote,
  ].join("\n\n");

  return finishFix(workspace, {
    fixer: "oom-killed",
    category: "oom-killed",
    changes,
    rationale,
    reviewerChecklist: [
      "Check that the new version's higher memory use is expected (a bigger cache, more data) and not a leak: compare the canary's and the stable's memory graphs.",
      `Check that the nodes have room for ${incident.rollout.replicas ?? "every"} replicas at ${newLimit}.`,
      "If the runtime sizes itself from the limit (JVM MaxRAMPercentage, GOMEMLIMIT, Node --max-old-space-size), check that it follows the new limit.",
    ],
    rolloutNote:
      "Merging changes the pod template: once GitOps syncs it, Argo Rollouts starts a new canary with the raised limit.",
    confidence: evidence ? 0.85 : 0.6,
  });
}

export const oomKilledPlaybook: Playbook = {
  id: "oom-killed",
  applies: (_incident, diagnosis) => diagnosis.category === "oom-killed",
  fix,
};
