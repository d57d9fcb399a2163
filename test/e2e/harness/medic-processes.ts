/**
 * Runs the BUILT rollout-medic CLI (dist/agent/cli/main.js) the way the cluster would: the receiver as
 * the container of deploy/base/deployment.yaml, a remediation Job as the container of the Job the
 * receiver created. Pods do not run on kwok's fake node, so these helpers stand in for the kubelet:
 * they resolve the container's `env`/`envFrom` against the real API server (Secrets, field refs),
 * replace the in-cluster service-account mount with a kubeconfig holding a TokenRequest token of the
 * pod's service account (so every call goes through the shipped RBAC), and map the pod's writable
 * mounts to temp folders.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import type { KubeObject, RealCluster } from "./real-cluster.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = path.join(REPO_ROOT, "dist/agent/cli/main.js");

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: {
    secretRef?: { name: string; optional?: boolean };
    configMapRef?: { name: string; optional?: boolean };
  }[];
  volumeMounts?: { name: string; mountPath: string }[];
  [key: string]: unknown;
}

export interface PodIdentity {
  namespace: string;
  name: string;
  serviceAccountName: string;
}

/** Every document of a file under deploy/, parsed. */
export function readDeployManifests(relative: string): KubeObject[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, relative), "utf8");
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object");
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

function decodeData(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
}

/**
 * The container's environment as the kubelet would set it: envFrom first, then env (later wins), Secrets
 * and ConfigMaps read from the API server; a missing optional source is skipped, a missing required
 * one throws (the kubelet would refuse to start the container).
 */
export async function resolveContainerEnv(
  cluster: RealCluster,
  pod: PodIdentity,
  container: ContainerSpec,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const read = async (kind: "secrets" | "configmaps", name: string, optional: boolean) => {
    const r = await cluster.request<{ data?: Record<string, string> }>(
      "GET",
      `/api/v1/namespaces/${pod.namespace}/${kind}/${name}`,
    );
    if (r.status === 404 && optional) return undefined;
    if (r.status !== 200) throw new Error(`${kind} ${pod.namespace}/${name}: HTTP ${r.status}`);
    return kind === "secrets" ? decodeData(r.body.data) : (r.body.data ?? {});
  };
  for (const from of container.envFrom ?? []) {
    if (from.secretRef)
      Object.assign(env, await read("secrets", from.secretRef.name, from.secretRef.optional ?? false));
    if (from.configMapRef)
      Object.assign(
        env,
        await read("configmaps", from.configMapRef.name, from.configMapRef.optional ?? false),
      );
  }
  for (const v of container.env ?? []) {
    if (v.value !== undefined) {
      env[v.name] = v.value;
      continue;
    }
    const field = v.valueFrom?.fieldRef?.fieldPath;
    if (field === "metadata.namespace") env[v.name] = pod.namespace;
    else if (field === "metadata.name") env[v.name] = pod.name;
    else if (field) throw new Error(`env ${v.name}: fieldRef ${field} is not emulated`);
    const secretRef = v.valueFrom?.secretKeyRef;
    if (secretRef) {
      const data = await read("secrets", secretRef.name, secretRef.optional ?? false);
      const value = data?.[secretRef.key];
      if (value !== undefined) env[v.name] = value;
      else if (!secretRef.optional)
        throw new Error(`env ${v.name}: key ${secretRef.key} missing in ${secretRef.name}`);
    }
    const configMapRef = v.valueFrom?.configMapKeyRef;
    if (configMapRef) {
      const data = await read("configmaps", configMapRef.name, configMapRef.optional ?? false);
      const value = data?.[configMapRef.key];
      if (value !== undefined) env[v.name] = value;
    }
  }
  return env;
}

/** A kubeconfig for the pod's service account: the TokenRequest API, as the kubelet's projected token. */
export async function serviceAccountKubeconfig(cluster: RealCluster, pod: PodIdentity): Promise<string> {
  const token = await cluster.requestServiceAccountToken(pod.namespace, pod.serviceAccountName, {
    create: false,
  });
  return cluster.writeKubeconfig(token, `sa-${pod.namespace}-${pod.serviceAccountName}-${pod.name}`);
}

/** Maps each mountPath the container's env points into (TMPDIR=/workspace, HOME=/tmp) to a fresh temp folder. */
export function mapMounts(
  container: ContainerSpec,
  env: Record<string, string>,
  parent: string,
): Record<string, string> {
  const out = { ...env };
  const locals = (container.volumeMounts ?? []).map((mount) => ({
    mountPath: mount.mountPath,
    local: fs.mkdtempSync(path.join(parent, `${mount.name}-`)),
  }));
  // Matched against the pod's values only: a mapped temp path may itself start with a mount path (/tmp).
  for (const [key, value] of Object.entries(env)) {
    const mount = locals.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
    if (mount) out[key] = mount.local + value.slice(mount.mountPath.length);
  }
  return out;
}

/** What a child needs from this machine; nothing else of the test runner's environment leaks in. */
export function baseProcessEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node dist/agent/cli/main.js ARGS` to completion (bounded), collecting its output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? os.tmpdir(),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Prometheus text exposition → `name{labels}` → value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export interface Receiver {
  url: string;
  pid: number;
  logFile: string;
  metrics(): Promise<Map<string, number>>;
  /** SIGTERM by PID (SIGKILL after a grace period); resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `rollout-medic serve` as the receiver Deployment's container would run: its args and resolved
 * env, the receiver service account's token instead of the in-cluster mount, and host/port on loopback
 * instead of the pod's port 8080. Resolves once /readyz answers 200 (which reads the API server).
 */
export async function startReceiver(
  cluster: RealCluster,
  options: { deployment: KubeObject; podName: string; logDir: string; readyTimeoutMs?: number },
): Promise<Receiver> {
  const template = (
    options.deployment as unknown as { spec: { template: { spec: Record<string, unknown> } } }
  ).spec.template.spec;
  const container = (template.containers as ContainerSpec[]).find((c) => c.name === "serve");
  if (!container) throw new Error("deployment.yaml has no container named serve");
  const pod: PodIdentity = {
    namespace: options.deployment.metadata.namespace ?? "rollout-medic",
    name: options.podName,
    serviceAccountName: String(template.serviceAccountName),
  };
  const env = await resolveContainerEnv(cluster, pod, container);
  const port = await freePort();
  const kubeconfig = await serviceAccountKubeconfig(cluster, pod);
  const logFile = path.join(options.logDir, "receiver.log");
  const fd = fs.openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [CLI, ...(container.args ?? [])], {
      cwd: options.logDir,
      env: {
        ...baseProcessEnv(),
        ...env,
        KUBECONFIG: kubeconfig,
        ROLLOUT_MEDIC_SERVE_HOST: "127.0.0.1",
        ROLLOUT_MEDIC_SERVE_PORT: String(port),
        // Debug shows each duplicate the receiver answers, for the post-mortem of a failed run.
        LOG_LEVEL: "debug",
      },
      stdio: ["ignore", fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("rollout-medic serve did not start");
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const gone = new Promise<void>((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    process.kill(pid, "SIGTERM");
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000));
    if ((await Promise.race([gone, timeout])) === "timeout" && !exited) {
      process.kill(pid, "SIGKILL");
      await gone;
    }
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      throw new Error(
        `rollout-medic serve exited (${exited.code ?? exited.signal}) before it was ready:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`,
      );
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `rollout-medic serve not ready within the timeout:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid,
    logFile,
    async metrics() {
      const r = await fetch(`${url}/metrics`);
      return parsePrometheus(await r.text());
    },
    stop,
  };
}
