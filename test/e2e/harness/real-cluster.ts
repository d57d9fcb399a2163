/**
 * Real-cluster harness for rollout-medic's end-to-end tier.
 *
 * Starts REAL Kubernetes components built by scripts/real-cluster/build.sh:
 * etcd, kube-apiserver (RBAC, TokenRequest), kube-controller-manager,
 * kube-scheduler, kwok (fake nodes and pod lifecycle through Stage objects, a
 * fake kubelet endpoint serving pods/log from Logs/ClusterLogs objects) and the
 * Argo Rollouts controller (out of cluster). Everything listens on free
 * loopback ports, lives in one temp folder and is stopped by PID in stop().
 *
 * Only node: builtins and `yaml` are used, so the module runs before any of the
 * project's own code is built.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

// ---------------------------------------------------------------------------
// Public types

export interface RolloutsControllerOptions {
  /** Watch only this namespace (`--namespaced`, POD_NAMESPACE). Default: cluster-wide. */
  namespaced?: string;
  /** `--instance-id`. */
  instanceId?: string;
  /** `--self-service-notification-enabled`. */
  selfServiceNotifications?: boolean;
  /** Extra command-line flags. */
  extraArgs?: string[];
}

export interface RealClusterOptions {
  /** Folder with the six binaries; skips the build script. Env: ROLLOUT_MEDIC_REAL_CLUSTER_BIN. */
  binDir?: string;
  /** Folder holding crds/ and kwok-stages/ as written by the build script (default: the parent of the bin folder). */
  assetsDir?: string;
  /** Run the build script when the cache is cold (default true). false = `build.sh --check`. */
  build?: boolean;
  /** Path of the build script (default: scripts/real-cluster/build.sh of this repository). */
  buildScript?: string;
  /** Upper bound for each readiness wait, in ms (default 120 000). */
  readyTimeoutMs?: number;
  /** Start the Argo Rollouts controller (default true). */
  rollouts?: boolean | RolloutsControllerOptions;
  /** Number of fake kwok nodes (default 1). */
  kwokNodes?: number;
  /** Crash-loop stages to install before the controllers start. */
  crashLoopStages?: CrashLoopStageOptions[];
  /** Keep the temp folder after stop() (env: ROLLOUT_MEDIC_KEEP_CLUSTER_DIR=1). */
  keepTempDir?: boolean;
  /** Progress messages (default: silent). */
  log?: (message: string) => void;
}

export interface ComponentVersions {
  /** `gitVersion` of the API server's /version, e.g. "v1.34.4". */
  kubernetes: string;
  /** Full /version document of the API server. */
  kubernetesVersionInfo: Record<string, unknown>;
  /** `rollouts-controller --version`, e.g. "v1.9.2" ("" when the controller is disabled). */
  rollouts: string;
  /** First line of `etcd --version`. */
  etcd: string;
  /** First line of `kwok --version`. */
  kwok: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export interface RequestOptions {
  /** Bearer token (default: the admin token). */
  token?: string;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

export interface CrashLoopStageOptions {
  /** Stage name (default "rollout-medic-oom-crashloop"). */
  name?: string;
  /** Pods carrying this label (key=value) crash-loop. Default rollout-medic.e2e/crash=oomkilled. */
  labelKey?: string;
  labelValue?: string;
  /** lastState.terminated.reason (default "OOMKilled"). */
  reason?: string;
  /** lastState.terminated.exitCode (default 137). */
  exitCode?: number;
  /** When > 0, restartCount grows by one every this many seconds (a second stage). Default 0 (static). */
  restartEverySeconds?: number;
}

export interface PodLogsOptions {
  namespace: string;
  /** Pod name: creates a namespaced `Logs` object. Omit: a `ClusterLogs` object for the whole namespace. */
  pod?: string;
  /** Container names this applies to (default: all containers). */
  containers?: string[];
  /** Current log lines (plain text; written in CRI format). */
  current: string | string[];
  /** Previous-container log lines, served for `?previous=true`. */
  previous?: string | string[];
}

export interface RealCluster extends RealClusterConnection {
  /** Raw request against the API server. */
  request<T = unknown>(
    method: string,
    apiPath: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<KubeResponse<T>>;
  /** Server-side applies every document (Lists too); waits for applied CRDs to be Established. */
  applyYaml(text: string, options?: { namespace?: string; token?: string }): Promise<KubeObject[]>;
  /** Creates (applies) a namespace and waits for its default ServiceAccount. */
  createNamespace(name: string, labels?: Record<string, string>): Promise<void>;
  /** TokenRequest API; creates the ServiceAccount first unless create is false. */
  requestServiceAccountToken(
    namespace: string,
    serviceAccount: string,
    options?: { create?: boolean; expirationSeconds?: number; audiences?: string[] },
  ): Promise<string>;
  /** Writes a kubeconfig that uses the given bearer token; returns its path. */
  writeKubeconfig(token: string, name: string, namespace?: string): string;
  /** Installs the OOMKilled crash-loop kwok stage(s). */
  installCrashLoopStage(options?: CrashLoopStageOptions): Promise<void>;
  /** Writes CRI-format log files and the kwok Logs/ClusterLogs object pointing at them. */
  setPodLogs(options: PodLogsOptions): Promise<{ logsFile: string; previousLogsFile?: string }>;
  /** `pods/log` through the API server (so through kwok's kubelet endpoint). */
  podLogs(
    namespace: string,
    pod: string,
    options?: { container?: string; previous?: boolean },
  ): Promise<KubeResponse<string>>;
  /** Polls until fn returns a truthy value (bounded). */
  waitFor<T>(
    description: string,
    fn: () => Promise<T | undefined | null | false>,
    timeoutMs?: number,
  ): Promise<T>;
  /** Kills every process started (by PID) and removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}

export type RealClusterBinaries =
  { available: true; bin: string; buildOutput: string } | { available: false; reason: string };

export class RealClusterStartupError extends Error {
  constructor(
    message: string,
    readonly component?: string,
    readonly logTail?: string,
  ) {
    super(message);
    this.name = "RealClusterStartupError";
  }
}

// ---------------------------------------------------------------------------
// Constants

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const DEFAULT_BUILD_SCRIPT = path.join(REPO_ROOT, "scripts/real-cluster/build.sh");
const FIELD_MANAGER = "rollout-medic-e2e";
const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
const ROLLOUTS_NAMESPACE = "argo-rollouts";
const REQUIRED_BINARIES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "rollouts-controller",
] as const;
/** kwok's stock stages installed at start (paths under kwok-stages/). */
const DEFAULT_KWOK_STAGES = [
  "node/fast/node-initialize.yaml",
  "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
  "pod/fast/pod-ready.yaml",
  "pod/fast/pod-complete.yaml",
  "pod/fast/pod-delete.yaml",
  "pod/chaos/pod-container-running-failed.yaml",
];
const KWOK_CRDS = ["kwok.x-k8s.io_stages.yaml", "kwok.x-k8s.io_logs.yaml", "kwok.x-k8s.io_clusterlogs.yaml"];

// ---------------------------------------------------------------------------
// Binaries

/**
 * Runs the build script (or `--check` when build is false) and reports whether
 * the binaries are available. Exit code 3 (no Go) and 4 (--check, not built)
 * mean "skip the tier"; any other failure throws.
 */
export async function ensureRealClusterBinaries(
  options: Pick<RealClusterOptions, "binDir" | "build" | "buildScript"> = {},
): Promise<RealClusterBinaries> {
  const explicit = options.binDir ?? process.env.ROLLOUT_MEDIC_REAL_CLUSTER_BIN;
  if (explicit) {
    const missing = REQUIRED_BINARIES.filter((b) => !isExecutable(path.join(explicit, b)));
    if (missing.length > 0) {
      return { available: false, reason: `binaries missing in ${explicit}: ${missing.join(", ")}` };
    }
    return { available: true, bin: path.resolve(explicit), buildOutput: "" };
  }
  const build = options.build ?? process.env.ROLLOUT_MEDIC_REAL_CLUSTER_BUILD !== "0";
  const script = options.buildScript ?? DEFAULT_BUILD_SCRIPT;
  const args = build ? [script] : [script, "--check"];
  const { code, stdout, stderr } = await runCollect("bash", args);
  if (code === 3 || code === 4) {
    const reason = lastLine(stderr) || `build script exited with ${code}`;
    return { available: false, reason };
  }
  if (code !== 0) {
    throw new Error(`${script} failed with exit code ${code}:\n${tail(stderr, 40)}`);
  }
  const bin = lastLine(stdout);
  const missing = REQUIRED_BINARIES.filter((b) => !isExecutable(path.join(bin, b)));
  if (!bin || missing.length > 0) {
    throw new Error(`${script} reported bin folder '${bin}' but these are missing: ${missing.join(", ")}`);
  }
  return { available: true, bin, buildOutput: stdout };
}

function runCollect(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      process.stderr.write(d); // cold builds take minutes: show progress
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------
// Process management

interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  exited: Promise<void>;
}

const liveProcesses = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a test process exits without calling stop(): kill by PID.
  process.on("exit", () => {
    for (const p of liveProcesses) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

function startProcess(
  name: string,
  binary: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv,
): ManagedProcess {
  installExitHook();
  const logFile = path.join(logDir, `${name}.log`);
  fs.writeFileSync(logFile, `$ ${binary} ${args.join(" ")}\n`);
  const fd = fs.openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ["ignore", fd, fd], env, cwd: logDir });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new RealClusterStartupError(`${name}: failed to start ${binary}`, name);
  }
  const proc: ManagedProcess = {
    name,
    child,
    pid: child.pid,
    logFile,
    exited: Promise.resolve(),
  };
  proc.exited = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      proc.exit = { code, signal };
      liveProcesses.delete(proc);
      resolve();
    });
    child.on("error", () => resolve());
  });
  liveProcesses.add(proc);
  return proc;
}

async function stopProcess(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (proc.exit) return;
  try {
    process.kill(proc.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = sleep(graceMs).then(() => "timeout" as const);
  const result = await Promise.race([proc.exited.then(() => "exited" as const), timer]);
  if (result === "timeout" && !proc.exit) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // gone
    }
    await Promise.race([proc.exited, sleep(5_000)]);
  }
}

function logTail(file: string, lines = 40): string {
  try {
    return tail(fs.readFileSync(file, "utf8"), lines);
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------------------
// HTTP

interface HttpResult {
  status: number;
  text: string;
}

function httpRequest(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    ca?: Buffer;
    insecure?: boolean;
    agent?: https.Agent | http.Agent;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const isHttps = u.protocol === "https:";
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(init.body));
    const reqOptions: https.RequestOptions = {
      method: init.method ?? "GET",
      hostname: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      headers,
      timeout: init.timeoutMs ?? 30_000,
    };
    if (init.agent) reqOptions.agent = init.agent;
    if (isHttps) {
      if (init.ca) reqOptions.ca = init.ca;
      reqOptions.rejectUnauthorized = !init.insecure;
    }
    const req = (isHttps ? https : http).request(reqOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${init.timeoutMs ?? 30_000} ms: ${url}`)));
    req.on("error", reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

// ---------------------------------------------------------------------------
// Small helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(text: string, lines: number): string {
  return text.split("\n").slice(-lines).join("\n");
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines[lines.length - 1] ?? "";
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reserves `count` distinct free loopback ports (all held open at once, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      const addr = server.address();
      if (addr === null || typeof addr === "string") throw new Error("no port");
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function versionLine(binary: string): string {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 60_000 });
  return lastLineFirst(`${r.stdout ?? ""}${r.stderr ?? ""}`);
}

function lastLineFirst(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ""
  );
}

function asLines(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split("\n")).filter((l, i, all) => !(i === all.length - 1 && l === ""));
}

/** CRI log format: `<RFC3339Nano> <stream> F <message>`, as kwok's reader expects. */
export function toCriLog(
  lines: string[],
  stream: "stdout" | "stderr" = "stdout",
  start = Date.now(),
): string {
  return lines.map((line, i) => `${new Date(start + i).toISOString()} ${stream} F ${line}\n`).join("");
}

function kubeconfigYaml(
  server: string,
  caFile: string,
  user: string,
  token: string,
  namespace?: string,
): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "rollout-medic-e2e", cluster: { server, "certificate-authority": caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [
      {
        name: "rollout-medic-e2e",
        context: { cluster: "rollout-medic-e2e", user, ...(namespace ? { namespace } : {}) },
      },
    ],
    "current-context": "rollout-medic-e2e",
  });
}

// ---------------------------------------------------------------------------
// kwok stages

/**
 * A kwok Stage that puts pods carrying a label into CrashLoopBackOff with an
 * OOMKilled lastState (phase Running, Ready False, Warning BackOff event). It
 * has weight 10000 so it wins over kwok's stock pod-ready stage (weight 0) for
 * Pending pods. With restartEverySeconds > 0 a second stage increases
 * restartCount periodically, like a kubelet back-off loop.
 */
export function crashLoopStageYaml(options: CrashLoopStageOptions = {}): string {
  const name = options.name ?? "rollout-medic-oom-crashloop";
  const labelKey = options.labelKey ?? "rollout-medic.e2e/crash";
  const labelValue = options.labelValue ?? "oomkilled";
  const reason = options.reason ?? "OOMKilled";
  const exitCode = options.exitCode ?? 137;
  const template = `{{ $now := Now }}
{{ $pod := . }}
conditions:
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  message: "containers with unready status"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  message: "containers with unready status"
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range $c := .spec.containers }}
{{ $restarts := 0 }}
{{ range $pod.status.containerStatuses }}{{ if eq .name $c.name }}{{ $restarts = (or .restartCount 0) }}{{ end }}{{ end }}
- name: {{ $c.name | Quote }}
  image: {{ $c.image | Quote }}
  imageID: ""
  ready: false
  started: false
  restartCount: {{ add $restarts 1 }}
  state:
    running: null
    terminated: null
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 10s restarting failed container=%s pod=%s_%s(%s)" $c.name $pod.metadata.name $pod.metadata.namespace $pod.metadata.uid | Quote }}
  lastState:
    running: null
    waiting: null
    terminated:
      exitCode: ${exitCode}
      reason: ${JSON.stringify(reason)}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
{{ if not .status.hostIP }}
{{ $hostIPs := NodeIPsWith .spec.nodeName }}
{{ with $hostIPs }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ end }}
{{ if not .status.podIP }}
{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ with $podIPs }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ or .status.startTime $now | Quote }}
`;
  const labelExpr = `.metadata.labels[${JSON.stringify(labelKey)}]`;
  const baseSelector = [
    { key: labelExpr, operator: "In", values: [labelValue] },
    { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
    { key: ".status.phase", operator: "In", values: ["Pending", "Running"] },
  ];
  const event = {
    type: "Warning",
    reason: "BackOff",
    message: "Back-off restarting failed container",
  };
  const stages: unknown[] = [
    {
      apiVersion: "kwok.x-k8s.io/v1alpha1",
      kind: "Stage",
      metadata: { name },
      spec: {
        resourceRef: { apiGroup: "v1", kind: "Pod" },
        selector: {
          matchExpressions: [
            ...baseSelector,
            {
              key: ".status.containerStatuses.[0].state.waiting.reason",
              operator: "NotIn",
              values: ["CrashLoopBackOff"],
            },
          ],
        },
        weight: 10000,
        next: { event, statusTemplate: template },
      },
    },
  ];
  if ((options.restartEverySeconds ?? 0) > 0) {
    stages.push({
      apiVersion: "kwok.x-k8s.io/v1alpha1",
      kind: "Stage",
      metadata: { name: `${name}-restart` },
      spec: {
        resourceRef: { apiGroup: "v1", kind: "Pod" },
        selector: {
          matchExpressions: [
            ...baseSelector,
            {
              key: ".status.containerStatuses.[0].state.waiting.reason",
              operator: "In",
              values: ["CrashLoopBackOff"],
            },
          ],
        },
        delay: { durationMilliseconds: Math.round((options.restartEverySeconds ?? 0) * 1000) },
        weight: 10000,
        next: { event, statusTemplate: template },
      },
    });
  }
  return stages.map((s) => YAML.stringify(s)).join("---\n");
}

// ---------------------------------------------------------------------------
// API client (shared by startRealCluster and connectRealCluster)

/**
 * Everything a process needs to use a cluster that another process started: vitest's globalSetup
 * starts the one cluster of a test run and hands this (plain data) to every test file.
 */
export interface RealClusterConnection {
  /** API server URL, https://127.0.0.1:<port>. */
  server: string;
  /** Admin kubeconfig (token user in system:masters). */
  kubeconfigPath: string;
  adminToken: string;
  /** CA bundle that verifies the API server's self-signed serving certificate. */
  caFile: string;
  /** Folder with the binaries. */
  bin: string;
  /** Cache folder of the build (parent of bin), holding crds/ and kwok-stages/. */
  assetsDir: string;
  tempDir: string;
  versions: ComponentVersions;
  /** Names of the fake kwok nodes. */
  nodeNames: string[];
  /** Time from the first process start to all components ready, in ms. */
  startupMs: number;
  /** Log file of each component, by name (etcd, kube-apiserver, …). */
  logFiles: Record<string, string>;
  /** Prometheus endpoint of the Argo Rollouts controller (notification_send_success, …); "" when disabled. */
  rolloutsMetricsUrl: string;
}

type ClusterClientMethods = Pick<
  RealCluster,
  | "request"
  | "applyYaml"
  | "createNamespace"
  | "requestServiceAccountToken"
  | "writeKubeconfig"
  | "installCrashLoopStage"
  | "setPodLogs"
  | "podLogs"
  | "waitFor"
>;

interface ClusterClient extends ClusterClientMethods {
  applyObject(obj: KubeObject, namespace: string | undefined, token?: string): Promise<KubeObject>;
  expectOk<T>(r: KubeResponse<T>, what: string): T;
  close(): void;
}

function writeKubeconfigFile(
  dir: string,
  server: string,
  caFile: string,
  token: string,
  name: string,
  namespace?: string,
): string {
  const file = path.join(dir, `kubeconfig-${name}.yaml`);
  fs.writeFileSync(file, kubeconfigYaml(server, caFile, name, token, namespace), { mode: 0o600 });
  return file;
}

function createClusterClient(c: {
  server: string;
  caFile: string;
  ca: Buffer;
  adminToken: string;
  tempDir: string;
}): ClusterClient {
  const { server, caFile, ca, adminToken, tempDir } = c;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  const writeKubeconfig = (t: string, name: string, namespace?: string): string =>
    writeKubeconfigFile(tempDir, server, caFile, t, name, namespace);

  const request = async <T = unknown>(
    method: string,
    apiPath: string,
    body?: unknown,
    ro: RequestOptions = {},
  ): Promise<KubeResponse<T>> => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${ro.token ?? adminToken}`,
      Accept: ro.accept ?? "application/json",
    };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      headers["Content-Type"] = ro.contentType ?? "application/json";
    }
    const r = await httpRequest(`${server}${apiPath}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      ca,
      agent,
      timeoutMs: ro.timeoutMs ?? 30_000,
    });
    let parsed: unknown = r.text;
    if (r.text.startsWith("{") || r.text.startsWith("[")) {
      try {
        parsed = JSON.parse(r.text);
      } catch {
        parsed = r.text;
      }
    }
    return { status: r.status, body: parsed as T, text: r.text };
  };

  const expectOk = <T>(r: KubeResponse<T>, what: string): T => {
    if (r.status < 200 || r.status >= 300)
      throw new Error(`${what}: HTTP ${r.status}: ${r.text.slice(0, 2000)}`);
    return r.body;
  };

  // --- discovery + server-side apply ------------------------------------------------
  const discovery = new Map<string, Map<string, ApiResource>>();
  const resolveResource = async (
    apiVersion: string,
    kind: string,
    refresh: boolean,
  ): Promise<ApiResource | undefined> => {
    let kinds = discovery.get(apiVersion);
    if (!kinds || refresh) {
      const p = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const r = await request<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(
        "GET",
        p,
      );
      if (r.status === 404) return undefined;
      const list = expectOk(r, `discovery ${p}`);
      kinds = new Map();
      for (const res of list.resources ?? []) {
        if (!res.name.includes("/")) kinds.set(res.kind, { plural: res.name, namespaced: res.namespaced });
      }
      discovery.set(apiVersion, kinds);
    }
    return kinds.get(kind);
  };

  const waitFor = async <T>(
    description: string,
    fn: () => Promise<T | undefined | null | false>,
    timeoutMs = 60_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined && v !== null && v !== false) return v;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${description}${lastError ? ` (last error: ${lastError})` : ""}`,
        );
      }
      await sleep(250);
    }
  };

  const applyObject = async (
    obj: KubeObject,
    namespace: string | undefined,
    t?: string,
  ): Promise<KubeObject> => {
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
      throw new Error(
        `applyYaml: object needs apiVersion, kind and metadata.name: ${JSON.stringify(obj).slice(0, 300)}`,
      );
    }
    const res = await waitFor(
      `API resource for ${obj.apiVersion} ${obj.kind}`,
      async () =>
        (await resolveResource(obj.apiVersion, obj.kind, false)) ??
        (await resolveResource(obj.apiVersion, obj.kind, true)),
      30_000,
    );
    const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    let p: string;
    if (res.namespaced) {
      const ns = obj.metadata.namespace ?? namespace ?? "default";
      obj = { ...obj, metadata: { ...obj.metadata, namespace: ns } };
      p = `${base}/namespaces/${encodeURIComponent(ns)}/${res.plural}/${encodeURIComponent(obj.metadata.name)}`;
    } else {
      p = `${base}/${res.plural}/${encodeURIComponent(obj.metadata.name)}`;
    }
    const r = await request<KubeObject>("PATCH", `${p}?fieldManager=${FIELD_MANAGER}&force=true`, obj, {
      contentType: "application/apply-patch+yaml",
      ...(t ? { token: t } : {}),
    });
    const applied = expectOk(
      r,
      `apply ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`,
    );
    if (obj.kind === "CustomResourceDefinition" && obj.apiVersion.startsWith("apiextensions.k8s.io/")) {
      await waitFor(
        `CRD ${obj.metadata.name} Established`,
        async () => {
          const c = await request<{ status?: { conditions?: { type: string; status: string }[] } }>(
            "GET",
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${obj.metadata.name}`,
          );
          return (
            c.body.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") ?? false
          );
        },
        30_000,
      );
      discovery.clear();
    }
    return applied;
  };

  const applyYaml = async (
    text: string,
    ao: { namespace?: string; token?: string } = {},
  ): Promise<KubeObject[]> => {
    const out: KubeObject[] = [];
    for (const doc of YAML.parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`applyYaml: ${doc.errors.map((e) => e.message).join("; ")}`);
      const value = doc.toJS() as KubeObject | null;
      if (value === null || value === undefined) continue;
      const items =
        value.kind?.endsWith("List") && Array.isArray(value.items) ? (value.items as KubeObject[]) : [value];
      for (const item of items) out.push(await applyObject(item, ao.namespace, ao.token));
    }
    return out;
  };

  const createNamespace = async (name: string, labels?: Record<string, string>): Promise<void> => {
    await applyObject(
      { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labels ? { labels } : {}) } },
      undefined,
    );
    await waitFor(
      `ServiceAccount ${name}/default`,
      async () => (await request("GET", `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200,
      60_000,
    );
  };

  const logsDir = path.join(tempDir, "pod-logs");
  const methods: Omit<
    ClusterClientMethods,
    "request" | "applyYaml" | "createNamespace" | "writeKubeconfig" | "waitFor"
  > = {
    async requestServiceAccountToken(namespace, serviceAccount, to = {}) {
      if (to.create ?? true) {
        await applyObject(
          { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: serviceAccount, namespace } },
          namespace,
        );
      }
      const r = await request<{ status?: { token?: string } }>(
        "POST",
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`,
        {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: {
            expirationSeconds: to.expirationSeconds ?? 3600,
            ...(to.audiences ? { audiences: to.audiences } : {}),
          },
        },
      );
      const t = expectOk(r, `TokenRequest ${namespace}/${serviceAccount}`).status?.token;
      if (!t) throw new Error(`TokenRequest ${namespace}/${serviceAccount}: no token in response`);
      return t;
    },
    async installCrashLoopStage(co = {}) {
      await applyYaml(crashLoopStageYaml(co));
    },
    async setPodLogs(lo) {
      const dir = path.join(logsDir, lo.namespace, lo.pod ?? "_namespace");
      fs.mkdirSync(dir, { recursive: true });
      const suffix = lo.containers && lo.containers.length > 0 ? lo.containers.join("_") : "_all";
      const logsFile = path.join(dir, `${suffix}.log`);
      fs.writeFileSync(logsFile, toCriLog(asLines(lo.current)));
      let previousLogsFile: string | undefined;
      if (lo.previous !== undefined) {
        previousLogsFile = path.join(dir, `${suffix}.previous.log`);
        fs.writeFileSync(previousLogsFile, toCriLog(asLines(lo.previous), "stdout", Date.now() - 60_000));
      }
      const entry = {
        ...(lo.containers && lo.containers.length > 0 ? { containers: lo.containers } : {}),
        logsFile,
        ...(previousLogsFile ? { previousLogsFile } : {}),
      };
      if (lo.pod) {
        await applyObject(
          {
            apiVersion: "kwok.x-k8s.io/v1alpha1",
            kind: "Logs",
            metadata: { name: lo.pod, namespace: lo.namespace },
            spec: { logs: [entry] },
          },
          lo.namespace,
        );
      } else {
        await applyObject(
          {
            apiVersion: "kwok.x-k8s.io/v1alpha1",
            kind: "ClusterLogs",
            metadata: { name: `rollout-medic-logs-${lo.namespace}` },
            spec: { selector: { matchNamespaces: [lo.namespace] }, logs: [entry] },
          },
          undefined,
        );
      }
      return previousLogsFile ? { logsFile, previousLogsFile } : { logsFile };
    },
    async podLogs(namespace, pod, po = {}) {
      const q = new URLSearchParams();
      if (po.container) q.set("container", po.container);
      if (po.previous) q.set("previous", "true");
      const qs = q.toString();
      const r = await request<unknown>(
        "GET",
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log${qs ? `?${qs}` : ""}`,
        undefined,
        { accept: "*/*" },
      );
      return { status: r.status, body: r.text, text: r.text };
    },
  };
  return {
    request,
    applyYaml,
    createNamespace,
    writeKubeconfig,
    waitFor,
    applyObject,
    expectOk,
    close: () => agent.destroy(),
    ...methods,
  };
}

/**
 * A RealCluster view of a cluster started elsewhere (globalSetup). stop() only closes this
 * process's connections: the processes belong to the starter, which stops them.
 */
export function connectRealCluster(connection: RealClusterConnection): RealCluster {
  const client = createClusterClient({
    server: connection.server,
    caFile: connection.caFile,
    ca: fs.readFileSync(connection.caFile),
    adminToken: connection.adminToken,
    tempDir: connection.tempDir,
  });
  const { applyObject: _a, expectOk: _e, close, ...methods } = client;
  return {
    ...connection,
    ...methods,
    stop: async () => close(),
  };
}

/** The plain-data part of a RealCluster, to hand to other processes. */
export function realClusterConnection(cluster: RealCluster): RealClusterConnection {
  const {
    server,
    kubeconfigPath,
    adminToken,
    caFile,
    bin,
    assetsDir,
    tempDir,
    versions,
    nodeNames,
    startupMs,
    logFiles,
    rolloutsMetricsUrl,
  } = cluster;
  return {
    server,
    kubeconfigPath,
    adminToken,
    caFile,
    bin,
    assetsDir,
    tempDir,
    versions,
    nodeNames,
    startupMs,
    logFiles,
    rolloutsMetricsUrl,
  };
}

// ---------------------------------------------------------------------------
// The cluster

interface ApiResource {
  plural: string;
  namespaced: boolean;
}

/** Starts etcd, the control plane, kwok and the Argo Rollouts controller. */
export async function startRealCluster(options: RealClusterOptions = {}): Promise<RealCluster> {
  const log = options.log ?? (() => undefined);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const binaries = await ensureRealClusterBinaries(options);
  if (!binaries.available) {
    throw new RealClusterStartupError(`real-cluster binaries unavailable: ${binaries.reason}`);
  }
  const bin = binaries.bin;
  const assetsDir = options.assetsDir ?? path.dirname(bin);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-medic-cluster-"));
  const logDir = path.join(tempDir, "logs");
  const pkiDir = path.join(tempDir, "pki");
  fs.mkdirSync(logDir);
  fs.mkdirSync(pkiDir, { mode: 0o700 });

  const processes: ManagedProcess[] = [];
  const logFiles: Record<string, string> = {};
  const keepTempDir = options.keepTempDir ?? process.env.ROLLOUT_MEDIC_KEEP_CLUSTER_DIR === "1";
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  let stopped = false;
  let closeClient: () => void = () => undefined;

  const stop = async (keep = keepTempDir): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: controllers first, etcd last.
    for (const p of [...processes].reverse()) await stopProcess(p);
    agent.destroy();
    closeClient();
    if (!keep) fs.rmSync(tempDir, { recursive: true, force: true });
    else log(`kept ${tempDir}`);
  };

  const t0 = Date.now();
  try {
    const [
      etcdClientPort,
      etcdPeerPort,
      apiPort,
      kcmPort,
      schedulerPort,
      kwokPort,
      roMetricsPort,
      roHealthzPort,
    ] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const baseEnv: NodeJS.ProcessEnv = { ...process.env };
    delete baseEnv.KUBECONFIG;

    const start = (name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = baseEnv) => {
      const p = startProcess(name, path.join(bin, binary), args, logDir, env);
      processes.push(p);
      logFiles[name] = p.logFile;
      log(`started ${name} (pid ${p.pid})`);
      return p;
    };

    const waitReady = async (
      p: ManagedProcess,
      what: string,
      check: () => Promise<boolean>,
    ): Promise<void> => {
      const deadline = Date.now() + readyTimeoutMs;
      let lastError = "";
      for (;;) {
        if (p.exit) {
          throw new RealClusterStartupError(
            `${p.name} exited (code ${p.exit.code}, signal ${p.exit.signal}) while waiting for ${what}; log ${p.logFile}:\n${logTail(p.logFile)}`,
            p.name,
            logTail(p.logFile),
          );
        }
        try {
          if (await check()) return;
        } catch (e) {
          lastError = e instanceof Error ? e.message : String(e);
        }
        if (Date.now() > deadline) {
          throw new RealClusterStartupError(
            `${p.name}: ${what} not reached within ${readyTimeoutMs} ms${lastError ? ` (last error: ${lastError})` : ""}; log ${p.logFile}:\n${logTail(p.logFile)}`,
            p.name,
            logTail(p.logFile),
          );
        }
        await sleep(250);
      }
    };

    // --- credentials -------------------------------------------------------------
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const saPub = path.join(pkiDir, "sa.pub");
    const saKey = path.join(pkiDir, "sa.key");
    fs.writeFileSync(saPub, publicKey.export({ type: "spki", format: "pem" }));
    fs.writeFileSync(saKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const token = () => randomBytes(24).toString("hex");
    const users = {
      admin: token(),
      "kube-controller-manager": token(),
      "kube-scheduler": token(),
      kwok: token(),
      "argo-rollouts": token(),
    };
    const tokenFile = path.join(pkiDir, "tokens.csv");
    fs.writeFileSync(
      tokenFile,
      Object.entries(users)
        .map(([user, t]) => `${t},${user},${user},"system:masters"`)
        .join("\n") + "\n",
      { mode: 0o600 },
    );
    const certDir = path.join(pkiDir, "serving");
    const caFile = path.join(certDir, "apiserver.crt");
    const kubeconfigs: Record<string, string> = {};
    const writeKubeconfig = (t: string, name: string, namespace?: string): string =>
      writeKubeconfigFile(tempDir, server, caFile, t, name, namespace);

    // --- etcd ----------------------------------------------------------------------
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = start("etcd", "etcd", [
      "--name=rollout-medic-e2e",
      `--data-dir=${path.join(tempDir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=rollout-medic-e2e=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    await waitReady(etcd, "GET /health", async () => {
      const r = await httpRequest(`${etcdUrl}/health`, { timeoutMs: 2_000 });
      return r.status === 200 && r.text.includes('"health":"true"');
    });

    // --- kube-apiserver --------------------------------------------------------------
    const apiserver = start("kube-apiserver", "kube-apiserver", [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      "--authorization-mode=Node,RBAC",
      `--token-auth-file=${tokenFile}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      "--endpoint-reconciler-type=none",
      "--allow-privileged=true",
      "--kubelet-preferred-address-types=InternalIP,Hostname",
      "--profiling=false",
    ]);
    const adminHeaders = { Authorization: `Bearer ${users.admin}` };
    let caData: Buffer | undefined;
    await waitReady(apiserver, "GET /readyz = 200", async () => {
      if (!caData) {
        if (!fs.existsSync(caFile)) return false;
        caData = fs.readFileSync(caFile);
      }
      const r = await httpRequest(`${server}/readyz`, {
        headers: adminHeaders,
        ca: caData,
        agent,
        timeoutMs: 5_000,
      });
      return r.status === 200;
    });
    const ca = caData as Buffer;
    log(`kube-apiserver ready (${Date.now() - t0} ms)`);

    const client = createClusterClient({ server, caFile, ca, adminToken: users.admin, tempDir });
    closeClient = client.close;
    const { request, expectOk, applyObject, applyYaml, createNamespace, waitFor } = client;

    // --- kube-controller-manager and kube-scheduler ------------------------------------
    kubeconfigs["kube-controller-manager"] = writeKubeconfig(
      users["kube-controller-manager"],
      "kube-controller-manager",
    );
    kubeconfigs["kube-scheduler"] = writeKubeconfig(users["kube-scheduler"], "kube-scheduler");
    kubeconfigs.kwok = writeKubeconfig(users.kwok, "kwok");
    kubeconfigs["argo-rollouts"] = writeKubeconfig(users["argo-rollouts"], "argo-rollouts");
    const kubeconfigPath = writeKubeconfig(users.admin, "admin");

    const kcm = start("kube-controller-manager", "kube-controller-manager", [
      `--kubeconfig=${kubeconfigs["kube-controller-manager"]}`,
      `--authentication-kubeconfig=${kubeconfigs["kube-controller-manager"]}`,
      `--authorization-kubeconfig=${kubeconfigs["kube-controller-manager"]}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${kcmPort}`,
      `--cert-dir=${path.join(pkiDir, "kcm")}`,
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${caFile}`,
      "--node-monitor-grace-period=5m",
      "--profiling=false",
    ]);
    const scheduler = start("kube-scheduler", "kube-scheduler", [
      `--kubeconfig=${kubeconfigs["kube-scheduler"]}`,
      `--authentication-kubeconfig=${kubeconfigs["kube-scheduler"]}`,
      `--authorization-kubeconfig=${kubeconfigs["kube-scheduler"]}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${path.join(pkiDir, "scheduler")}`,
      "--leader-elect=false",
      "--profiling=false",
    ]);

    // --- CRDs, kwok stages, kwok (in parallel with the controllers' start) -------------
    const readText = (...parts: string[]): string => fs.readFileSync(path.join(assetsDir, ...parts), "utf8");
    const roCrdDir = path.join(assetsDir, "crds", "argo-rollouts");
    const rolloutsCrds = Promise.all(
      fs
        .readdirSync(roCrdDir)
        .filter((x) => x.endsWith(".yaml"))
        .sort()
        .map((f) => applyYaml(readText("crds", "argo-rollouts", f))),
    );
    rolloutsCrds.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
    await Promise.all(KWOK_CRDS.map((f) => applyYaml(readText("crds", "kwok", f))));
    await Promise.all([
      ...DEFAULT_KWOK_STAGES.map((f) => applyYaml(readText("kwok-stages", f))),
      ...(options.crashLoopStages ?? []).map((s) => applyYaml(crashLoopStageYaml(s))),
    ]);
    log(`kwok CRDs and stages applied (${Date.now() - t0} ms)`);

    const kwokHome = path.join(tempDir, "kwok-home");
    fs.mkdirSync(kwokHome);
    const kwok = start(
      "kwok",
      "kwok",
      [
        `--kubeconfig=${kubeconfigs.kwok}`,
        "--manage-all-nodes=false",
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
        "--cidr=10.244.0.0/16",
        "--node-ip=127.0.0.1",
        `--node-port=${kwokPort}`,
        `--server-address=127.0.0.1:${kwokPort}`,
        "--node-lease-duration-seconds=40",
        "--enable-crds=Stage,Logs,ClusterLogs",
      ],
      // Isolated HOME: kwok also reads ~/.kwok/kwok.yaml when it exists.
      { ...baseEnv, HOME: kwokHome },
    );

    await Promise.all([
      waitReady(kcm, "GET /healthz = 200", async () => {
        const r = await httpRequest(`https://127.0.0.1:${kcmPort}/healthz`, {
          insecure: true,
          timeoutMs: 2_000,
        });
        return r.status === 200;
      }),
      waitReady(scheduler, "GET /healthz = 200", async () => {
        const r = await httpRequest(`https://127.0.0.1:${schedulerPort}/healthz`, {
          insecure: true,
          timeoutMs: 2_000,
        });
        return r.status === 200;
      }),
      waitReady(kwok, "GET /healthz = 200", async () => {
        const r = await httpRequest(`http://127.0.0.1:${kwokPort}/healthz`, { timeoutMs: 2_000 });
        return r.status === 200;
      }),
    ]);
    log(`kube-controller-manager, kube-scheduler and kwok healthy (${Date.now() - t0} ms)`);
    const nodeNames: string[] = [];
    for (let i = 0; i < (options.kwokNodes ?? 1); i++) {
      const nodeName = `kwok-node-${i}`;
      nodeNames.push(nodeName);
      await applyObject(
        {
          apiVersion: "v1",
          kind: "Node",
          metadata: {
            name: nodeName,
            annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
            labels: {
              type: "kwok",
              "kubernetes.io/arch": "amd64",
              "kubernetes.io/os": "linux",
              "kubernetes.io/hostname": nodeName,
              "kubernetes.io/role": "agent",
              "node-role.kubernetes.io/agent": "",
            },
          },
          spec: {},
        },
        undefined,
      );
    }
    for (const nodeName of nodeNames) {
      await waitReady(kwok, `node ${nodeName} Ready`, async () => {
        const r = await request<{ status?: { conditions?: { type: string; status: string }[] } }>(
          "GET",
          `/api/v1/nodes/${nodeName}`,
        );
        return r.body.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      });
    }
    log(`kwok node(s) Ready (${Date.now() - t0} ms)`);

    // --- Argo Rollouts controller ----------------------------------------------------
    const roOptions: RolloutsControllerOptions | undefined =
      options.rollouts === false
        ? undefined
        : options.rollouts === true || options.rollouts === undefined
          ? {}
          : options.rollouts;
    await rolloutsCrds;
    log(`Argo Rollouts CRDs established (${Date.now() - t0} ms)`);
    let rolloutsVersion = "";
    if (roOptions) {
      const ownNamespace = roOptions.namespaced ?? ROLLOUTS_NAMESPACE;
      await createNamespace(ownNamespace);
      const args = [
        `--kubeconfig=${kubeconfigs["argo-rollouts"]}`,
        `--metricsPort=${roMetricsPort}`,
        `--healthzPort=${roHealthzPort}`,
        "--leader-elect=false",
        "--loglevel=info",
      ];
      if (roOptions.namespaced) args.push("--namespaced");
      if (roOptions.instanceId) args.push(`--instance-id=${roOptions.instanceId}`);
      if (roOptions.selfServiceNotifications) args.push("--self-service-notification-enabled");
      args.push(...(roOptions.extraArgs ?? []));
      const ro = start("rollouts-controller", "rollouts-controller", args, {
        ...baseEnv,
        POD_NAMESPACE: ownNamespace,
        KUBECONFIG: kubeconfigs["argo-rollouts"],
      });
      await waitReady(ro, "GET /healthz = 200", async () => {
        const r = await httpRequest(`http://127.0.0.1:${roHealthzPort}/healthz`, { timeoutMs: 2_000 });
        return r.status === 200;
      });
      rolloutsVersion = versionLine(path.join(bin, "rollouts-controller"));
      log(`rollouts-controller healthy (${Date.now() - t0} ms)`);
    }

    // --- versions ---------------------------------------------------------------------
    const versionInfo = expectOk(await request<Record<string, unknown>>("GET", "/version"), "GET /version");
    const versions: ComponentVersions = {
      kubernetes: String(versionInfo.gitVersion ?? ""),
      kubernetesVersionInfo: versionInfo,
      rollouts: rolloutsVersion,
      etcd: versionLine(path.join(bin, "etcd")),
      kwok: versionLine(path.join(bin, "kwok")),
    };
    const startupMs = Date.now() - t0;
    log(`cluster ready in ${startupMs} ms at ${server}`);

    const cluster: RealCluster = {
      server,
      kubeconfigPath,
      adminToken: users.admin,
      caFile,
      bin,
      assetsDir,
      tempDir,
      versions,
      nodeNames,
      startupMs,
      logFiles,
      rolloutsMetricsUrl: roOptions ? `http://127.0.0.1:${roMetricsPort}/metrics` : "",
      request,
      applyYaml,
      createNamespace,
      requestServiceAccountToken: client.requestServiceAccountToken,
      writeKubeconfig,
      installCrashLoopStage: client.installCrashLoopStage,
      setPodLogs: client.setPodLogs,
      podLogs: client.podLogs,
      waitFor,
      stop: () => stop(),
    };
    return cluster;
  } catch (e) {
    // Keep the temp folder (logs, etcd data) for a post-mortem; every process is stopped.
    await stop(true);
    const kept = `(component logs kept in ${logDir})`;
    if (e instanceof RealClusterStartupError) {
      e.message = `${e.message}\n${kept}`;
      throw e;
    }
    const message = e instanceof Error ? e.message : String(e);
    const tails = processes
      .map((p) => `--- ${p.name} (${p.logFile}) ---\n${logTail(p.logFile, 15)}`)
      .join("\n");
    throw new RealClusterStartupError(`real cluster failed to start: ${message} ${kept}\n${tails}`);
  }
}
