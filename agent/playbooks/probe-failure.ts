import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange, NoFix } from "../fix/fix.js";
import type { ContainerSpec, EventSnapshot, Incident, ProbeSpec } from "../incident/incident.js";
import { ensureValueAt, insertEntryAt, relocate, setValueAt } from "../workspace/edit-location.js";
import { findField } from "../workspace/locate-workload.js";
import type { ContainerModel, FieldSource } from "../workspace/workload-model.js";
import type { Workspace } from "../workspace/workspace.js";
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
} from "./playbook-support.js";
import { estimateStartupSeconds } from "./startup-time.js";
import type { StartupEstimate } from "./startup-time.js";

const PROBE_KEY: Record<ProbeSpec["kind"], string> = {
  readiness: "readinessProbe",
  liveness: "livenessProbe",
  startup: "startupProbe",
};

/** Kubernetes defaults, used when a probe leaves a field out. */
const DEFAULT_PERIOD = 10;
const DEFAULT_FAILURE_THRESHOLD = 3;
const STARTUP_PERIOD = 10;

function isNamedPort(port: number | string): port is string {
  return typeof port === "string" && !/^\d+$/.test(port);
}

/** A probe port the container does not declare; undeclared ports cannot be judged when the container declares none. */
export function probeTargetsUndeclaredPort(container: ContainerSpec, probe: ProbeSpec): boolean {
  if (probe.port === undefined || probe.type === "exec" || probe.type === "unknown") return false;
  if (isNamedPort(probe.port)) return !container.ports.some((p) => p.name === probe.port);
  if (container.ports.length === 0) return false;
  return !container.ports.some((p) => p.containerPort === Number(probe.port));
}

function probeEvents(incident: Incident, kind: ProbeSpec["kind"]): EventSnapshot[] {
  const word = kind === "readiness" ? "Readiness" : kind === "liveness" ? "Liveness" : "Startup";
  return incident.events.filter(
    (e) =>
      (e.reason === "Unhealthy" && e.message.startsWith(`${word} probe failed`)) ||
      (e.reason === "Killing" && e.message.toLowerCase().includes(`failed ${word.toLowerCase()} probe`)),
  );
}

/**
 * The declared port a misdirected probe should use: the port a sibling probe reaches successfully first,
 * then the only declared port, then the one named `http`, then the first.
 */
function choosePort(
  container: ContainerSpec,
  probe: ProbeSpec,
): { name?: string; containerPort: number } | null {
  for (const sibling of container.probes) {
    if (sibling === probe || sibling.port === undefined || probeTargetsUndeclaredPort(container, sibling))
      continue;
    const declared = container.ports.find((p) =>
      isNamedPort(sibling.port ?? "") ? p.name === sibling.port : p.containerPort === Number(sibling.port),
    );
    if (declared) return declared;
  }
  if (container.ports.length === 1) return container.ports[0] ?? null;
  return (
    container.ports.find((p) => p.name === "http") ??
    container.ports.find((p) => (p.protocol ?? "TCP") === "TCP") ??
    null
  );
}

/** Use the port's name where the container names it and this or a sibling probe already refers to ports by name. */
function portValue(
  container: ContainerSpec,
  probe: ProbeSpec,
  port: { name?: string; containerPort: number },
): string | number {
  const namesInUse = container.probes.some((p) => p.port !== undefined && isNamedPort(p.port));
  return port.name && namesInUse ? port.name : port.containerPort;
}

function portField(probe: ProbeSpec): string | null {
  const handler =
    probe.type === "httpGet" || probe.type === "tcpSocket" || probe.type === "grpc" ? probe.type : null;
  return handler ? `${PROBE_KEY[probe.kind]}.${handler}.port` : null;
}

async function fixWrongPorts(
  workspace: Workspace,
  incident: Incident,
  spec: ContainerSpec,
  model: ContainerModel,
  description: string,
  wrong: ProbeSpec[],
): Promise<{ changes: FixChange[]; lines: string[] } | NoFix> {
  const changes: FixChange[] = [];
  const lines: string[] = [];
  for (const probe of wrong) {
    const field = portField(probe);
    const source = field ? findField(model, field) : null;
    if (!field || !source)
      return noFix(
        `could not locate the ${PROBE_KEY[probe.kind]} port of container ${spec.name} in ${description}`,
      );
    const port = choosePort(spec, probe);
    if (!port) return noFix(`container ${spec.name} declares no port the ${PROBE_KEY[probe.kind]} could use`);
    const value = portValue(spec, probe, port);
    await setValueAt(workspace, source.location, value, source.value);
    changes.push({
      file: source.location.file,
      location: describeChange(incident, spec.name, field, source),
      from: String(source.value),
      to: String(value),
    });
    const events = probeEvents(incident, probe.kind);
    const sample = events[0]?.message.replace(/\s+/g, " ").slice(0, 200);
    lines.push(
      `The ${PROBE_KEY[probe.kind]} of container ${code(spec.name)} targets port ${code(String(probe.port))}, which the container does not declare (it declares ${spec.ports
        .map((p) => code(p.name ? `${p.name}/${p.containerPort}` : String(p.containerPort)))
        .join(", ")})` +
        (events.length > 0
          ? `; the kubelet reported ${plural(
              events.reduce((n, e) => n + e.count, 0),
              "failure",
            )}, e.g. ${code(sample ?? "")}`
          : "") +
        `. This change points it at ${code(String(value))}${typeof value === "string" ? ` (port ${port.containerPort})` : ""}.`,
    );
  }
  return { changes, lines };
}

/** Liveness kills or failures right after start, or logs that show a start slower than the liveness window. */
function slowStartEvidence(
  incident: Incident,
  spec: ContainerSpec,
  startup: StartupEstimate | null,
): string[] {
  const evidence: string[] = [];
  const liveness = probeEvents(incident, "liveness");
  const killed = liveness.filter((e) => e.reason === "Killing");
  if (killed.length > 0)
    evidence.push(
      `the kubelet restarted the container after failed liveness probes (${plural(
        killed.reduce((n, e) => n + e.count, 0),
        "kill",
      )})`,
    );
  else if (liveness.length > 0)
    evidence.push(
      `liveness probes failed ${plural(
        liveness.reduce((n, e) => n + e.count, 0),
        "time",
      )}`,
    );
  const restarts = canaryPods(incident)
    .flatMap((p) => p.containers)
    .filter((c) => c.name === spec.name && !c.init)
    .reduce((n, c) => n + c.restartCount, 0);
  if (restarts > 0 && killed.length === 0)
    evidence.push(`the canary containers restarted ${plural(restarts, "time")}`);
  if (startup)
    evidence.push(`the process needs about ${Math.round(startup.seconds)}s to start (${startup.source})`);
  return evidence;
}

function livenessWindow(probe: ProbeSpec | undefined): number {
  if (!probe) return 0;
  return (
    (probe.initialDelaySeconds ?? 0) +
    (probe.periodSeconds ?? DEFAULT_PERIOD) * (probe.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD)
  );
}

/** Start time plus a margin: 50% more, and never less than 30 seconds more. */
export function startupBudgetSeconds(startSeconds: number): number {
  return Math.ceil(Math.max(startSeconds * 1.5, startSeconds + 30));
}

function probeSources(model: ContainerModel, key: string): [string, FieldSource][] {
  return [...model.fields.entries()].filter(([field]) => field.startsWith(`${key}.`));
}

/** Rebuilds a probe's handler (httpGet/tcpSocket/grpc/exec) from the repository's own values. */
function handlerFromRepository(model: ContainerModel, key: string): Record<string, unknown> | null {
  for (const handler of ["httpGet", "tcpSocket", "grpc", "exec"]) {
    const leaves = probeSources(model, `${key}.${handler}`);
    if (leaves.length === 0) continue;
    const out: Record<string, unknown> = {};
    for (const [field, source] of leaves) {
      const parts = field.split(".").slice(2);
      let cursor = out;
      parts.forEach((part, i) => {
        if (i === parts.length - 1) cursor[part] = source.value;
        else cursor = (cursor[part] ??= {}) as Record<string, unknown>;
      });
    }
    return { [handler]: out };
  }
  return null;
}

async function fixSlowStart(
  workspace: Workspace,
  incident: Incident,
  spec: ContainerSpec,
  model: ContainerModel,
  startup: StartupEstimate | null,
): Promise<{ changes: FixChange[]; lines: string[] } | NoFix> {
  const liveness = spec.probes.find((p) => p.kind === "liveness");
  const window = livenessWindow(liveness);
  const start = startup?.seconds ?? window * 2;
  const budget = startupBudgetSeconds(start);
  const basis = startup
    ? `the observed start time of about ${Math.round(start)}s`
    : `twice the current liveness window of ${window}s (the logs give no start time; the process did not start within that window)`;
  const changes: FixChange[] = [];
  const startupLeaves = probeSources(model, "startupProbe");
  const firstStartupLeaf = startupLeaves[0];
  if (firstStartupLeaf) {
    const period =
      Number(findField(model, "startupProbe.periodSeconds")?.value ?? DEFAULT_PERIOD) || DEFAULT_PERIOD;
    const threshold = Math.ceil(budget / period);
    const current = findField(model, "startupProbe.failureThreshold");
    if (current && Number(current.value) >= threshold) {
      return noFix(`the startupProbe of ${spec.name} already allows ${Number(current.value) * period}s`);
    }
    const [field, source] = firstStartupLeaf;
    const location = current
      ? current.location
      : relocate(source.location, field.split(".").length - 1, ["failureThreshold"]);
    if (current) await setValueAt(workspace, location, threshold, current.value);
    else await ensureValueAt(workspace, location, threshold);
    changes.push({
      file: location.file,
      location: `Rollout ${incident.rollout.namespace}/${incident.rollout.name}, container ${spec.name}, startupProbe.failureThreshold (${location.file})`,
      from: current ? String(current.value) : `(default ${DEFAULT_FAILURE_THRESHOLD})`,
      to: String(threshold),
    });
    return {
      changes,
      lines: [
        `The existing startupProbe now allows ${threshold} × ${period}s = ${threshold * period}s, covering ${basis} with margin.`,
      ],
    };
  }

  const livenessLeaves = probeSources(model, "livenessProbe");
  const anchor = livenessLeaves.find(([, s]) => !s.location.textRange && s.origin !== "helm-values");
  const handler = handlerFromRepository(model, "livenessProbe");
  if (anchor && handler) {
    const [field, source] = anchor;
    const containerMap = relocate(source.location, field.split(".").length, []);
    const threshold = Math.max(DEFAULT_FAILURE_THRESHOLD, Math.ceil(budget / STARTUP_PERIOD));
    const probe = { ...handler, periodSeconds: STARTUP_PERIOD, failureThreshold: threshold };
    await insertEntryAt(workspace, containerMap, "startupProbe", probe, {
      after: ["livenessProbe", "readinessProbe"],
    });
    changes.push({
      file: source.location.file,
      location: `Rollout ${incident.rollout.namespace}/${incident.rollout.name}, container ${spec.name}, startupProbe (new, next to the livenessProbe in ${source.location.file})`,
      from: "(none)",
      to: `${Object.keys(handler)[0]} every ${STARTUP_PERIOD}s, failureThreshold ${threshold}`,
    });
    return {
      changes,
      lines: [
        `This change adds a startupProbe with the liveness probe's own check, every ${STARTUP_PERIOD}s up to ${threshold} times: ${threshold * STARTUP_PERIOD}s for the process to start, covering ${basis} with margin (1.5×, at least 30s more). Liveness and readiness probes only begin once it succeeds, so a slow start no longer gets the container killed, while a hung process is still detected as quickly as before.`,
      ],
    };
  }

  // No place to add a probe (a Helm chart without one in its template): give the liveness probe a longer initial delay instead.
  const delay = findField(model, "livenessProbe.initialDelaySeconds");
  const target = Math.max(
    budget -
      (liveness?.periodSeconds ?? DEFAULT_PERIOD) * (liveness?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD),
    0,
  );
  if (delay) {
    if (Number(delay.value) >= target)
      return noFix(`the livenessProbe of ${spec.name} already waits ${String(delay.value)}s`);
    await setValueAt(workspace, delay.location, target, delay.value);
    changes.push({
      file: delay.location.file,
      location: describeChange(incident, spec.name, "livenessProbe.initialDelaySeconds", delay),
      from: String(delay.value),
      to: String(target),
    });
  } else if (livenessLeaves[0] && !livenessLeaves[0][1].location.textRange) {
    const [field, source] = livenessLeaves[0];
    const location = relocate(source.location, field.split(".").length - 1, ["initialDelaySeconds"]);
    await ensureValueAt(workspace, location, target);
    changes.push({
      file: location.file,
      location: describeChange(incident, spec.name, "livenessProbe.initialDelaySeconds", source),
      from: "(unset)",
      to: String(target),
    });
  } else {
    return noFix(
      `could not locate the livenessProbe of container ${spec.name} in the repository to give the process more time to start`,
    );
  }
  return {
    changes,
    lines: [
      `There is no place to add a startupProbe in this source, so the livenessProbe's initialDelaySeconds becomes ${target}s: with its failure window the process gets ${budget}s, covering ${basis} with margin.`,
    ],
  };
}

function pickContainer(incident: Incident): ContainerSpec | null {
  const containers = appContainers(incident);
  const wrong = containers.find((c) => c.probes.some((p) => probeTargetsUndeclaredPort(c, p)));
  if (wrong) return wrong;
  const unhealthyPods = new Set(
    incident.events
      .filter((e) => e.reason === "Unhealthy" || e.reason === "Killing")
      .map((e) => e.object.name),
  );
  for (const container of containers) {
    const named = incident.events.some(
      (e) =>
        (e.reason === "Killing" || e.reason === "Unhealthy") &&
        e.message.includes(`container ${container.name}`),
    );
    if (named) return container;
  }
  const restarted = containers.find((c) =>
    canaryPods(incident).some(
      (p) => unhealthyPods.has(p.name) && p.containers.some((s) => s.name === c.name && s.restartCount > 0),
    ),
  );
  return restarted ?? containers.find((c) => c.probes.length > 0) ?? null;
}

async function fix(
  workspace: Workspace,
  incident: Incident,
  _diagnosis: Diagnosis,
  _config: Config,
): Promise<Fix | NoFix> {
  const spec = pickContainer(incident);
  if (!spec) return noFix("no application container with probes was found in the Rollout");
  const located = await locateContainer(workspace, incident, spec.name);
  if ("reason" in located) return located;
  const { workload, container } = located;
  const title = `Rollout ${code(`${incident.rollout.namespace}/${incident.rollout.name}`)}`;

  const wrong = spec.probes.filter((p) => probeTargetsUndeclaredPort(spec, p));
  if (wrong.length > 0) {
    const result = await fixWrongPorts(workspace, incident, spec, container, workload.description, wrong);
    if ("reason" in result) return result;
    return finishFix(workspace, {
      fixer: "probe-failure",
      category: "probe-failure",
      changes: result.changes,
      rationale: [
        `In ${title}, the canary runs but its probes fail.`,
        ...result.lines,
        `The change is made in ${workload.description}.`,
      ].join("\n\n"),
      reviewerChecklist: [
        "Check that the probe's path is served on the new port (the process may have moved its health endpoint on purpose, e.g. to an admin listener that must be enabled).",
        "If a second listener was intended, declare it as a container port and enable it instead of merging this change.",
      ],
      rolloutNote:
        "Merging changes the pod template: once GitOps syncs it, Argo Rollouts starts a new canary with the corrected probe.",
      confidence: 0.85,
    });
  }

  const startup = estimateStartupSeconds(incident, spec.name);
  const evidence = slowStartEvidence(incident, spec, startup);
  const liveness = spec.probes.find((p) => p.kind === "liveness");
  const killedEarly =
    evidence.length > 0 &&
    (startup === null || startup.seconds > livenessWindow(liveness) * 0.8 || !liveness);
  if (!killedEarly) {
    return noFix(
      `probes of container ${spec.name} fail, but they target declared ports and there is no evidence of a slow start: the probe path or the application itself needs a look`,
    );
  }
  const result = await fixSlowStart(workspace, incident, spec, container, startup);
  if ("reason" in result) return result;
  return finishFix(workspace, {
    fixer: "probe-failure",
    category: "probe-failure",
    changes: result.changes,
    rationale: [
      `In ${title}, the canary's process starts more slowly than its probes allow: ${evidence.join("; ")}. The current liveness probe gives it ${livenessWindow(liveness)}s (initialDelaySeconds + periodSeconds × failureThreshold) before restarting it.`,
      ...result.lines,
      `The change is made in ${workload.description}.`,
    ].join("\n\n"),
    reviewerChecklist: [
      "Check that the longer start is expected for this version (data loaded at start, cache warm-up) and not a regression to fix in code.",
      "Check that progressDeadlineSeconds and the canary pause steps still leave room for the slower start.",
    ],
    rolloutNote:
      "Merging changes the pod template: once GitOps syncs it, Argo Rollouts starts a new canary whose pods get time to start.",
    confidence: startup ? 0.8 : 0.6,
  });
}

export const probeFailurePlaybook: Playbook = {
  id: "probe-failure",
  applies: (_incident, diagnosis) => diagnosis.category === "probe-failure",
  fix,
};
