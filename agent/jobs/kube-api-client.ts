import { createHash } from "node:crypto";
import http from "node:http";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesApiCall } from "../cluster/kubernetes-cluster.js";
import { ClusterError } from "../errors.js";

export type { KubernetesApiCall };

export interface KubeResponse {
  status: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
}

/** The few raw calls the receiver and the run command make to write Jobs and Events. */
export interface KubeApiClient {
  /** The API server URL, for messages. */
  readonly server: string;
  request(method: "GET" | "POST", path: string, body?: unknown): Promise<KubeResponse>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export interface CreateKubeApiClientOptions {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeconfigPath?: string;
  context?: string;
  timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error).slice(0, 200);
}

export function loadKubeConfig(options: { kubeconfigPath?: string; context?: string } = {}): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfigPath) kubeConfig.loadFromFile(options.kubeconfigPath);
    else kubeConfig.loadFromDefault();
  } catch (cause) {
    throw new ClusterError(
      `cannot read the kubeconfig (${reasonOf(cause)}): fix it or point --kubeconfig / KUBECONFIG at another`,
      {},
      { cause },
    );
  }
  // loadFromDefault's last resort is a guessed http://localhost:8080, which means nothing was found.
  const cluster = kubeConfig.getCurrentCluster();
  if (
    !options.kubeconfigPath &&
    kubeConfig.getCurrentContext() === "loaded-context" &&
    cluster?.server === "http://localhost:8080"
  ) {
    throw new ClusterError(
      "no Kubernetes configuration found: set KUBECONFIG or pass --kubeconfig, or run in a pod with a service account",
    );
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      throw new ClusterError(`context "${options.context}" is not in the kubeconfig`);
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ClusterError(
      "the kubeconfig's current context names no cluster: pick a context with --context",
    );
  }
  return kubeConfig;
}

export function createKubeApiClient(options: CreateKubeApiClientOptions = {}): KubeApiClient {
  return new KubeConfigApiClient(loadKubeConfig(options), options.timeoutMs ?? 10_000);
}

/**
 * node:http(s) with the KubeConfig's credentials and TLS settings, as agent/cluster/kubernetes-cluster.ts
 * does, plus one keep-alive agent: the library builds a new agent (a new TLS handshake) for every call.
 */
export class KubeConfigApiClient implements KubeApiClient {
  readonly server: string;
  private agent: http.Agent | null = null;
  private agentKey = "";

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly timeoutMs: number,
  ) {
    this.server = kubeConfig.getCurrentCluster()?.server ?? "";
  }

  async request(method: "GET" | "POST", path: string, body?: unknown): Promise<KubeResponse> {
    // The server URL may carry a path prefix (a proxy in front of the API server): keep it.
    const base = new URL(this.server);
    const url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, "")}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const options: https.RequestOptions = {
      method,
      headers: {
        Accept: "application/json",
        "User-Agent": "rollout-medic",
        ...(payload ? { "Content-Type": "application/json", "Content-Length": String(payload.length) } : {}),
      },
    };
    try {
      // Called per request: exec plugins and projected service account tokens rotate credentials.
      await this.kubeConfig.applyToHTTPSOptions(options);
    } catch (cause) {
      throw new ClusterError(
        `cannot prepare credentials for the Kubernetes API at ${this.server} (${reasonOf(cause)})`,
        {},
        { cause },
      );
    }
    if (!this.kubeConfig.getCurrentCluster()?.proxyUrl) options.agent = this.keepAliveAgent(url, options);
    const transport = url.protocol === "http:" ? http : https;
    return new Promise<KubeResponse>((resolve, reject) => {
      const request = transport.request(url, { ...options, timeout: this.timeoutMs });
      const fail = (error: unknown): void =>
        reject(
          new ClusterError(
            `cannot reach the Kubernetes API at ${this.server} (${reasonOf(error)})`,
            {},
            { cause: error },
          ),
        );
      const deadline = setTimeout(
        () => request.destroy(new Error(`timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      request.on("timeout", () => request.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      request.on("error", (error) => {
        clearTimeout(deadline);
        fail(error);
      });
      request.on("response", (response) => {
        readBody(response)
          .then((text) => {
            clearTimeout(deadline);
            resolve({ status: response.statusCode ?? 0, body: parseJson(text) });
          })
          .catch((error: unknown) => {
            clearTimeout(deadline);
            fail(error);
          });
      });
      request.end(payload);
    });
  }

  close(): void {
    this.agent?.destroy();
    this.agent = null;
  }

  private keepAliveAgent(url: URL, options: https.RequestOptions): http.Agent {
    const tls = [
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.rejectUnauthorized,
      options.servername,
    ];
    const key = createHash("sha256")
      .update(url.protocol)
      .update(
        JSON.stringify(
          tls.map((value) => (Buffer.isBuffer(value) ? value.toString("base64") : (value ?? null))),
        ),
      )
      .digest("hex");
    if (this.agent && key === this.agentKey) return this.agent;
    this.agent?.destroy();
    const agentOptions = {
      keepAlive: true,
      maxSockets: 16,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined ? {} : { cert: options.cert }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.pfx === undefined ? {} : { pfx: options.pfx }),
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    };
    this.agent = url.protocol === "http:" ? new http.Agent(agentOptions) : new https.Agent(agentOptions);
    this.agentKey = key;
    return this.agent;
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_RESPONSE_BYTES) {
      response.destroy();
      throw new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `message` of a Kubernetes Status body, first line, bounded. */
export function statusMessage(body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message.split("\n")[0]!.slice(0, 300) : "";
}

/** 429, 5xx and network failures may succeed on a later try; the rest will not. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ClusterError)) return false;
  const status = error.detail.status;
  return status === undefined || status === 429 || status >= 500;
}
