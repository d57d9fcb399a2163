import http from "node:http";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import path from "node:path";
import { Readable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { ClusterError } from "../errors.js";
import type { Cluster, InvolvedObjectRef, LogRequest, RolloutRef } from "./cluster.js";
import { isKubeObject } from "./kube-object.js";
import type { KubeObject } from "./kube-object.js";

/** One Kubernetes API permission: the shipped RBAC must grant exactly the calls this class makes. */
export interface KubernetesApiCall {
  verb: string;
  group: string;
  resource: string;
}

interface Endpoint extends KubernetesApiCall {
  version: string;
  /** Filled into list items, which the API returns without kind and apiVersion. */
  kind: string;
}

const ENDPOINTS = {
  rollout: { verb: "get", group: "argoproj.io", version: "v1alpha1", resource: "rollouts", kind: "Rollout" },
  replicaSets: { verb: "list", group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet" },
  pods: { verb: "list", group: "", version: "v1", resource: "pods", kind: "Pod" },
  analysisRuns: {
    verb: "list",
    group: "argoproj.io",
    version: "v1alpha1",
    resource: "analysisruns",
    kind: "AnalysisRun",
  },
  events: { verb: "list", group: "", version: "v1", resource: "events", kind: "Event" },
  podLog: { verb: "get", group: "", version: "v1", resource: "pods/log", kind: "Pod" },
  analysisTemplate: {
    verb: "get",
    group: "argoproj.io",
    version: "v1alpha1",
    resource: "analysistemplates",
    kind: "AnalysisTemplate",
  },
  argoApplication: {
    verb: "get",
    group: "argoproj.io",
    version: "v1alpha1",
    resource: "applications",
    kind: "Application",
  },
} as const satisfies Record<string, Endpoint>;

/** Every API call KubernetesCluster makes, derived from the same table the methods use. */
export const KUBERNETES_API_CALLS: readonly Readonly<KubernetesApiCall>[] = Object.freeze(
  Object.values(ENDPOINTS).map(({ verb, group, resource }) => Object.freeze({ verb, group, resource })),
);

export const DEFAULT_KUBERNETES_TIMEOUT_MS = 15_000;

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const CHECK_HINT = "check KUBECONFIG / the current context / in-cluster service account";
// Namespaces are DNS labels; object and container names are at most DNS subdomains. Anything else
// (notably "." and "..") could change the URL path, and no object can carry such a name anyway.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// A response larger than this is not a plausible answer for one rollout's objects.
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export interface KubernetesClusterOptions {
  /** Timeout of every request in milliseconds: for a log stream, the longest pause between two chunks. */
  timeoutMs?: number;
  /** Where the configuration came from, for messages ("kubeconfig /path", "in-cluster service account"). */
  origin?: string;
}

export interface CreateKubernetesClusterOptions {
  /** A kubeconfig file (or several joined with the path delimiter, as in KUBECONFIG); default: loadFromDefault. */
  kubeconfigPath?: string;
  /** A context of the kubeconfig instead of its current-context. */
  context?: string;
  timeoutMs?: number;
}

class RequestTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${formatSeconds(ms)}`);
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function firstLine(text: string, max = 300): string {
  const line = (text.split("\n")[0] ?? "").trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${firstLine(error.message)}` : firstLine(error.message);
  }
  return firstLine(String(error));
}

/** The server URL without credentials, query or fragment: it appears in every message. */
function displayServer(server: string): string {
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return firstLine(server.replace(/\/\/[^@/]*@/, "//"));
  }
}

/** kubectl's name for a resource: "pods", "replicasets.apps", "rollouts.argoproj.io". */
function qualified(endpoint: KubernetesApiCall): string {
  return endpoint.group === "" ? endpoint.resource : `${endpoint.resource}.${endpoint.group}`;
}

function apiPrefix(endpoint: Endpoint): string {
  return endpoint.group === "" ? `/api/${endpoint.version}` : `/apis/${endpoint.group}/${endpoint.version}`;
}

function collectionPath(endpoint: Endpoint, namespace: string, resource = endpoint.resource): string {
  return `${apiPrefix(endpoint)}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
}

/** Field selector values escape `\`, `,` and `=` (apimachinery fields.EscapeValue). */
function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { name?: string };
}

function parseStatus(text: string): StatusBody | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "Status") {
      return value as StatusBody;
    }
  } catch {
    // Proxies and load balancers answer with HTML or plain text.
  }
  return null;
}

async function readBody(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      response.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

interface Exchange {
  response: IncomingMessage;
  /** Ends the whole-request deadline; the idle timeout on the socket stays armed. */
  clearDeadline(): void;
}

interface CallContext {
  endpoint: KubernetesApiCall;
  namespace: string;
}

/**
 * The Cluster interface over the Kubernetes API.
 *
 * Requests go through node:http(s) with the KubeConfig's TLS options, credentials and proxy
 * (`applyToHTTPSOptions`) rather than through the generated typed clients: those turn timestamps into
 * Date objects and drop fields the bundled models do not know, while the analyzers expect the API's JSON
 * exactly as a scenario folder records it; and a log must arrive as a stream, not a string.
 */
export class KubernetesCluster implements Cluster {
  readonly source: string;
  private readonly server: string;
  private readonly timeoutMs: number;
  private readonly origin: string;
  /** Credentials seen in request headers: scrubbed from every message, whatever the server echoes. */
  private readonly secrets = new Set<string>();

  constructor(
    private readonly kubeConfig: KubeConfig,
    options: KubernetesClusterOptions = {},
  ) {
    this.origin = options.origin ?? "kubeconfig";
    this.timeoutMs = options.timeoutMs ?? DEFAULT_KUBERNETES_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new ClusterError(`the Kubernetes request timeout must be a positive number of milliseconds`);
    }
    const contextName = kubeConfig.getCurrentContext();
    const cluster = kubeConfig.getCurrentCluster();
    if (!contextName || !kubeConfig.getContextObject(contextName)) {
      throw new ClusterError(
        `${this.origin} has no current context: choose one with --context or \`kubectl config use-context NAME\``,
      );
    }
    if (!cluster) {
      throw new ClusterError(
        `context "${contextName}" in ${this.origin} names a cluster that is not defined: fix the kubeconfig or choose another context`,
      );
    }
    if (!/^https?:\/\/[^/]/.test(cluster.server) || /\/\/undefined(:|$)/.test(cluster.server)) {
      throw new ClusterError(
        `context "${contextName}" in ${this.origin} has no usable server URL (${displayServer(cluster.server)}): ` +
          `in a pod, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set; otherwise ${CHECK_HINT}`,
      );
    }
    this.server = displayServer(cluster.server);
    this.source = `cluster ${this.server}`;
  }

  async findRollout(ref: RolloutRef): Promise<KubeObject | null> {
    return this.getObject(ENDPOINTS.rollout, ref.namespace, ref.name);
  }

  async listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.listObjects(ENDPOINTS.replicaSets, namespace, { labelSelector });
  }

  async listPods(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.listObjects(ENDPOINTS.pods, namespace, { labelSelector });
  }

  async listAnalysisRuns(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.listObjects(ENDPOINTS.analysisRuns, namespace, { labelSelector });
  }

  async listEvents(namespace: string, involved: InvolvedObjectRef): Promise<KubeObject[]> {
    const fields = [
      `involvedObject.kind=${escapeFieldValue(involved.kind)}`,
      `involvedObject.name=${escapeFieldValue(involved.name)}`,
    ];
    if (involved.uid) fields.push(`involvedObject.uid=${escapeFieldValue(involved.uid)}`);
    return this.listObjects(ENDPOINTS.events, namespace, { fieldSelector: fields.join(",") });
  }

  async findAnalysisTemplate(namespace: string, name: string): Promise<KubeObject | null> {
    return this.getObject(ENDPOINTS.analysisTemplate, namespace, name);
  }

  async findArgoApplication(namespace: string, name: string): Promise<KubeObject | null> {
    try {
      return await this.getObject(ENDPOINTS.argoApplication, namespace, name);
    } catch (error) {
      // Without Argo CD the resource is not served: for repository mapping that is "no Application".
      if (error instanceof ClusterError && error.detail.status === 404) return null;
      throw error;
    }
  }

  async openLog(request: LogRequest): Promise<Readable | null> {
    const endpoint = ENDPOINTS.podLog;
    if (!NAMESPACE.test(request.namespace) || !NAME.test(request.pod) || !NAME.test(request.container))
      return null;
    const context: CallContext = { endpoint, namespace: request.namespace };
    const query: Record<string, string> = {
      container: request.container,
      previous: String(request.previous === true),
    };
    if (request.tailLines !== undefined)
      query["tailLines"] = String(Math.max(0, Math.floor(request.tailLines)));
    const exchange = await this.send(
      context,
      `${collectionPath(endpoint, request.namespace, "pods")}/${encodeURIComponent(request.pod)}/log`,
      query,
      "text/plain, */*",
    );
    const { response } = exchange;
    const status = response.statusCode ?? 0;
    if (status === 200) {
      // The deadline covered the wait for headers; from here the socket's idle timeout bounds each pause.
      exchange.clearDeadline();
      return this.logStream(context, response);
    }
    // 400: no previous instance, container waiting to start or unknown; 404: the pod is gone.
    if (status === 400 || status === 404) {
      exchange.clearDeadline();
      response.destroy();
      return null;
    }
    throw await this.failure(context, exchange);
  }

  private async getObject(endpoint: Endpoint, namespace: string, name: string): Promise<KubeObject | null> {
    if (!NAMESPACE.test(namespace) || !NAME.test(name)) return null;
    const context: CallContext = { endpoint, namespace };
    const exchange = await this.send(
      context,
      `${collectionPath(endpoint, namespace)}/${encodeURIComponent(name)}`,
      {},
    );
    const status = exchange.response.statusCode ?? 0;
    if (status === 404) {
      const text = await this.body(context, exchange);
      const statusBody = parseStatus(text);
      // A missing object names itself in details; a missing resource type (CRD not installed) does not.
      if (statusBody?.details?.name) return null;
      throw this.notServed(context);
    }
    if (status < 200 || status >= 300) throw await this.failure(context, exchange);
    const value = this.parseJson(context, await this.body(context, exchange));
    if (!isKubeObject(value)) throw this.malformed(context, "the response is not a Kubernetes object");
    value.kind ??= endpoint.kind;
    value.apiVersion ??= endpoint.group === "" ? endpoint.version : `${endpoint.group}/${endpoint.version}`;
    return value;
  }

  private async listObjects(
    endpoint: Endpoint,
    namespace: string,
    query: Record<string, string>,
  ): Promise<KubeObject[]> {
    if (!NAMESPACE.test(namespace)) return [];
    const context: CallContext = { endpoint, namespace };
    const exchange = await this.send(context, collectionPath(endpoint, namespace), query);
    const status = exchange.response.statusCode ?? 0;
    if (status === 404) {
      await this.body(context, exchange).catch(() => "");
      throw this.notServed(context);
    }
    if (status < 200 || status >= 300) throw await this.failure(context, exchange);
    const value = this.parseJson(context, await this.body(context, exchange));
    const items = (value as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) throw this.malformed(context, "the response has no items list");
    const apiVersion = endpoint.group === "" ? endpoint.version : `${endpoint.group}/${endpoint.version}`;
    // The API leaves kind and apiVersion off list items; the scenario folder and the analyzers carry them.
    return items.filter(isKubeObject).map((item) => ({
      ...item,
      apiVersion: item.apiVersion ?? apiVersion,
      kind: item.kind ?? endpoint.kind,
    }));
  }

  /** Opens one request and resolves with the response head; every failure before that is a ClusterError. */
  private async send(
    context: CallContext,
    pathname: string,
    query: Record<string, string>,
    accept = "application/json",
  ): Promise<Exchange> {
    const url = new URL(`${this.server}${pathname}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const options: https.RequestOptions = {
      method: "GET",
      headers: { Accept: accept, "User-Agent": "rollout-medic" },
    };
    try {
      await this.kubeConfig.applyToHTTPSOptions(options);
    } catch (cause) {
      throw new ClusterError(
        this.scrub(
          `cannot prepare credentials for the Kubernetes API at ${this.server} (${reasonOf(cause)}): ${CHECK_HINT} (used ${this.describeOrigin()})`,
        ),
        {},
        { cause },
      );
    }
    this.rememberSecrets(options);
    const transport = url.protocol === "http:" ? http : https;
    return new Promise<Exchange>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const request = transport.request(url, { ...options, timeout: this.timeoutMs });
      const abort = (): void => {
        const error = new RequestTimeout(this.timeoutMs);
        // Once the head has arrived the body is what stalls: fail the response so its reader sees why.
        if (response) response.destroy(error);
        else request.destroy(error);
      };
      const deadline = setTimeout(abort, this.timeoutMs);
      request.on("timeout", abort);
      request.on("error", (error) => {
        clearTimeout(deadline);
        reject(this.unreachable(context, error));
      });
      request.on("response", (incoming) => {
        response = incoming;
        // A timeout may fail a response nobody reads yet; its reader still sees the error through `errored`.
        incoming.on("error", () => undefined);
        incoming.on("close", () => clearTimeout(deadline));
        resolve({ response: incoming, clearDeadline: () => clearTimeout(deadline) });
      });
      request.end();
    });
  }

  private async body(context: CallContext, exchange: Exchange): Promise<string> {
    try {
      return await readBody(exchange.response, MAX_JSON_BYTES);
    } catch (error) {
      throw this.unreachable(context, error);
    } finally {
      exchange.clearDeadline();
    }
  }

  private logStream(context: CallContext, response: IncomingMessage): Readable {
    response.setEncoding("utf8");
    const unreachable = (error: unknown): ClusterError => this.unreachable(context, error);
    async function* chunks(): AsyncGenerator<string> {
      try {
        for await (const chunk of response) yield chunk as string;
      } catch (error) {
        throw unreachable(error);
      }
    }
    // Pull-based: the next chunk is read from the socket only when the consumer asks for it.
    return Readable.from(chunks(), { objectMode: false, encoding: "utf8" });
  }

  private parseJson(context: CallContext, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw this.malformed(context, "the response is not JSON");
    }
  }

  private detail(context: CallContext, status?: number): { status?: number; verb: string; resource: string } {
    return {
      ...(status === undefined ? {} : { status }),
      verb: context.endpoint.verb,
      resource: qualified(context.endpoint),
    };
  }

  private describeOrigin(): string {
    return `${this.origin}, context "${this.kubeConfig.getCurrentContext()}"`;
  }

  private unreachable(context: CallContext, error: unknown): ClusterError {
    if (error instanceof ClusterError) return error;
    let reason: string;
    if (error instanceof RequestTimeout) reason = error.message;
    else {
      const code = (error as { code?: unknown } | null)?.code;
      reason = typeof code === "string" ? code : reasonOf(error);
    }
    return new ClusterError(
      this.scrub(
        `cannot reach the Kubernetes API at ${this.server} (${reason}) to ${context.endpoint.verb} ${qualified(context.endpoint)}: ` +
          `${CHECK_HINT} (used ${this.describeOrigin()})`,
      ),
      this.detail(context),
      { cause: error },
    );
  }

  private notServed(context: CallContext): ClusterError {
    const hint =
      context.endpoint.group === "argoproj.io"
        ? "is Argo Rollouts (its CRDs) installed on this cluster?"
        : "is this a Kubernetes API server?";
    return new ClusterError(
      `the Kubernetes API at ${this.server} does not serve ${qualified(context.endpoint)}: ${hint}`,
      this.detail(context, 404),
    );
  }

  private malformed(context: CallContext, what: string): ClusterError {
    return new ClusterError(
      `the Kubernetes API at ${this.server} answered ${context.endpoint.verb} ${qualified(context.endpoint)} unexpectedly (${what}): is the server URL right? (used ${this.describeOrigin()})`,
      this.detail(context),
    );
  }

  /** A non-success status: reads the Status body (small, bounded) and says what to do about it. */
  private async failure(context: CallContext, exchange: Exchange): Promise<ClusterError> {
    const status = exchange.response.statusCode ?? 0;
    let text = "";
    try {
      text = await readBody(exchange.response, 64 * 1024);
    } catch {
      // The status code alone still tells the story.
    } finally {
      exchange.clearDeadline();
    }
    const statusBody = parseStatus(text);
    const serverMessage = firstLine(statusBody?.message ?? text, 200);
    const { verb } = context.endpoint;
    const resource = qualified(context.endpoint);
    const detail = this.detail(context, status);
    let message: string;
    if (status === 401) {
      message =
        `credentials rejected by the Kubernetes API at ${this.server} (401 Unauthorized; used ${this.describeOrigin()}): ` +
        `the token or client certificate is expired or invalid: refresh the kubeconfig (log in to the cluster again) or check the service account token`;
    } else if (status === 403) {
      const user = /User "([^"]+)"/.exec(statusBody?.message ?? "")?.[1];
      const groupResource =
        context.endpoint.group === ""
          ? context.endpoint.resource
          : `${context.endpoint.group}/${context.endpoint.resource}`;
      message =
        `forbidden: ${user ?? "the current user"} cannot ${verb} ${context.endpoint.resource} in namespace ${context.namespace}: ` +
        `grant "${verb}" on "${groupResource}" to the service account (see deploy/ RBAC)`;
    } else if (status === 429 || status >= 500) {
      message =
        `the Kubernetes API at ${this.server} failed to ${verb} ${resource} in namespace ${context.namespace} ` +
        `(${status}${statusBody?.reason ? ` ${statusBody.reason}` : ""}${serverMessage ? `: ${serverMessage}` : ""}): retry later or check the API server's health`;
    } else {
      message =
        `the Kubernetes API at ${this.server} refused to ${verb} ${resource} in namespace ${context.namespace} ` +
        `(${status}${statusBody?.reason ? ` ${statusBody.reason}` : ""}${serverMessage ? `: ${serverMessage}` : ""})`;
    }
    return new ClusterError(this.scrub(message), detail);
  }

  private rememberSecrets(options: https.RequestOptions): void {
    const headers = (options.headers ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() !== "authorization" || typeof value !== "string") continue;
      const credential = value.replace(/^\S+\s+/, "");
      if (credential.length >= 8) this.secrets.add(credential);
    }
    if (typeof options.auth === "string" && options.auth.length > 0) {
      const password = options.auth.slice(options.auth.indexOf(":") + 1);
      if (password.length > 0) this.secrets.add(password);
    }
  }

  private scrub(message: string): string {
    let out = message.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]");
    for (const secret of this.secrets) out = out.split(secret).join("[redacted]");
    return out;
  }
}

/** Detects loadFromDefault's last resort, a guessed http://localhost:8080, which means nothing was found. */
function isLibraryFallback(kubeConfig: KubeConfig): boolean {
  const clusters = kubeConfig.getClusters();
  return (
    kubeConfig.getCurrentContext() === "loaded-context" &&
    clusters.length === 1 &&
    clusters[0]?.name === "cluster" &&
    clusters[0].server === "http://localhost:8080" &&
    kubeConfig.getUsers().length === 1 &&
    kubeConfig.getUsers()[0]?.name === "user"
  );
}

function loadFiles(kubeConfig: KubeConfig, files: string[]): void {
  for (const [index, file] of files.entries()) {
    try {
      if (index === 0) {
        kubeConfig.loadFromFile(file);
        continue;
      }
      const next = new KubeConfig();
      next.loadFromFile(file);
      // As kubectl merges KUBECONFIG: the first file to define a name or set current-context wins
      // (the library's mergeConfig throws on duplicate names instead).
      for (const cluster of next.getClusters()) {
        if (!kubeConfig.getCluster(cluster.name)) kubeConfig.addCluster(cluster);
      }
      for (const user of next.getUsers()) if (!kubeConfig.getUser(user.name)) kubeConfig.addUser(user);
      for (const context of next.getContexts()) {
        if (!kubeConfig.getContextObject(context.name)) kubeConfig.addContext(context);
      }
      if (!kubeConfig.getCurrentContext() && next.getCurrentContext())
        kubeConfig.setCurrentContext(next.getCurrentContext());
    } catch (cause) {
      throw new ClusterError(
        `cannot read kubeconfig ${file} (${reasonOf(cause)}): fix the file or point --kubeconfig / KUBECONFIG at another`,
        {},
        { cause },
      );
    }
  }
}

/**
 * Builds a KubernetesCluster from a kubeconfig file, or from loadFromDefault ($KUBECONFIG, ~/.kube/config,
 * then the in-cluster service account) when no path is given.
 */
export function createKubernetesCluster(options: CreateKubernetesClusterOptions = {}): KubernetesCluster {
  const kubeConfig = new KubeConfig();
  let origin: string;
  if (options.kubeconfigPath) {
    const files = options.kubeconfigPath.split(path.delimiter).filter((file) => file !== "");
    loadFiles(kubeConfig, files);
    origin = `kubeconfig ${files.join(path.delimiter)}`;
  } else {
    try {
      kubeConfig.loadFromDefault();
    } catch (cause) {
      throw new ClusterError(
        `cannot load the default kubeconfig ($KUBECONFIG or ~/.kube/config) (${reasonOf(cause)}): fix the file or pass --kubeconfig`,
        {},
        { cause },
      );
    }
    if (isLibraryFallback(kubeConfig)) {
      throw new ClusterError(
        `no Kubernetes configuration found: tried $KUBECONFIG (not set), ~/.kube/config (absent) and the in-cluster service account ` +
          `(${IN_CLUSTER_TOKEN} absent): set KUBECONFIG or pass --kubeconfig, or run in a pod with a service account`,
      );
    }
    origin =
      kubeConfig.getCurrentContext() === "inClusterContext"
        ? "in-cluster service account"
        : "default kubeconfig ($KUBECONFIG or ~/.kube/config)";
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new ClusterError(
        `context "${options.context}" is not in ${origin}: use one of ${known.length > 0 ? known.join(", ") : "(no contexts defined)"}`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  return new KubernetesCluster(kubeConfig, {
    origin,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
