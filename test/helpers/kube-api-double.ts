import { randomBytes, randomUUID } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import type { KubeObject } from "../../agent/cluster/kube-object.js";
import { matchesLabelSelector } from "../../agent/cluster/label-selector.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";

/**
 * A real HTTP server on 127.0.0.1 that answers the Kubernetes API paths rollout-medic calls, from a
 * scenario folder: objects from cluster/*.yaml, logs from logs/. It checks a bearer token, records every
 * request, injects faults per path, and writes a kubeconfig that points at itself.
 */

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/** The resource types the double serves; callers may add more with the `resourceTypes` option. */
export const DEFAULT_RESOURCE_TYPES: ResourceType[] = [
  { group: "", version: "v1", plural: "pods", kind: "Pod" },
  { group: "", version: "v1", plural: "events", kind: "Event" },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" },
  { group: "", version: "v1", plural: "services", kind: "Service" },
  { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" },
  { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet" },
  { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" },
  { group: "batch", version: "v1", plural: "jobs", kind: "Job" },
  { group: "events.k8s.io", version: "v1", plural: "events", kind: "Event" },
  { group: "argoproj.io", version: "v1alpha1", plural: "rollouts", kind: "Rollout" },
  { group: "argoproj.io", version: "v1alpha1", plural: "analysisruns", kind: "AnalysisRun" },
  { group: "argoproj.io", version: "v1alpha1", plural: "analysistemplates", kind: "AnalysisTemplate" },
  { group: "argoproj.io", version: "v1alpha1", plural: "experiments", kind: "Experiment" },
];

export interface RecordedRequest {
  method: string;
  /** The path exactly as sent, percent-encoding kept and dot segments not resolved. */
  path: string;
  /** Decoded query parameters (the last value wins for repeated keys). */
  query: Record<string, string>;
  /** Whether the request carried the expected bearer token. The token itself is never recorded. */
  authenticated: boolean;
  /** Request headers without Authorization. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body of a write, or the raw text when it is not JSON. */
  body?: unknown;
}

export type KubeApiFault =
  /** Answer with this status and a Kubernetes `Status` body (Forbidden, NotFound, … built from the path) or `body`. */
  | { status: number; message?: string; reason?: string; body?: unknown }
  /** Accept the request and never answer. */
  | { hang: true }
  /** Close the connection without an answer. */
  | { reset: true }
  /** Answer 200 with this text and then stop sending, without ending the response. */
  | { stallAfter: string };

export interface FaultOptions {
  method?: string;
  /** Apply this many times, then answer normally again; default: until cleared. */
  times?: number;
}

export interface RouteContext {
  method: string;
  path: string;
  /** Decoded values of the `{name}` placeholders of the route pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  store: ObjectStore;
  /** The raw response, for handlers that stream; return undefined after writing to it. */
  res: ServerResponse;
}

export interface RouteReply {
  status: number;
  /** A JSON value, or a string sent as text/plain. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (
  context: RouteContext,
) => RouteReply | undefined | Promise<RouteReply | undefined>;

export interface KubeApiRoute {
  method: string;
  /** A path pattern such as "/apis/batch/v1/namespaces/{namespace}/jobs/{name}"; each {x} matches one segment. */
  pattern: string;
  handler: RouteHandler;
}

export interface KubeApiDoubleOptions {
  /** A scenario folder: objects from cluster/*.yaml, logs from logs/. */
  scenarioDir?: string;
  /** Objects to serve in addition to (or without) a scenario. */
  objects?: KubeObject[];
  /** Namespace of objects without one; default: the scenario's rollout namespace, else "default". */
  defaultNamespace?: string;
  /** The bearer token the double accepts; default: random. */
  token?: string;
  /** The user named in Forbidden messages. */
  user?: string;
  /** Routes tried before the built-in ones. */
  extraRoutes?: KubeApiRoute[];
  resourceTypes?: ResourceType[];
}

export interface KubeApiDouble {
  url: string;
  kubeconfigPath: string;
  token: string;
  requests: RecordedRequest[];
  store: ObjectStore;
  /** Injects a fault for requests whose path equals `path` (or matches the RegExp); null clears it. */
  setFault(path: string | RegExp, fault: KubeApiFault | null, options?: FaultOptions): void;
  clearFaults(): void;
  /** Adds a route tried before the built-in ones (and before earlier added routes). */
  route(method: string, pattern: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/** A Kubernetes `Status` body as the API server sends it with errors. */
export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: { name?: string; group?: string; kind?: string },
): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** A kubeconfig (YAML) for a plain-HTTP server, which the client accepts only with insecure-skip-tls-verify. */
export function kubeconfigYaml(options: { server: string; token: string; namespace?: string }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "kube-api-double",
        cluster: { server: options.server, "insecure-skip-tls-verify": options.server.startsWith("http:") },
      },
    ],
    users: [{ name: "double-user", user: { token: options.token } }],
    contexts: [
      {
        name: "kube-api-double",
        context: {
          cluster: "kube-api-double",
          user: "double-user",
          namespace: options.namespace ?? "default",
        },
      },
    ],
    "current-context": "kube-api-double",
  });
}

/** In-memory objects by resource type, namespace and name, as the API server would keep them. */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private version = 1;

  constructor(
    readonly types: ResourceType[],
    private readonly defaultNamespace: string,
  ) {}

  typeOf(group: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.plural === plural);
  }

  typeOfObject(object: KubeObject): ResourceType | undefined {
    const apiVersion = object.apiVersion ?? "";
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    return this.types.find((t) => t.kind === object.kind && t.group === group);
  }

  private key(type: ResourceType, namespace: string, name: string): string {
    return `${type.group}/${type.plural}/${namespace}/${name}`;
  }

  /** Adds or replaces an object; objects of unknown kinds are ignored, as they would not be served. */
  put(object: KubeObject): void {
    const type = this.typeOfObject(object);
    if (!type) return;
    const namespace = object.metadata.namespace ?? this.defaultNamespace;
    this.objects.set(this.key(type, namespace, object.metadata.name), {
      ...object,
      metadata: { ...object.metadata, namespace },
    });
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(this.key(type, namespace, name));
  }

  /** Objects of a type in a namespace, sorted by name as etcd returns them. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    const prefix = `${type.group}/${type.plural}/${namespace === undefined ? "" : `${namespace}/`}`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, object]) => object)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** Creates an object as the API server does; false when the name is taken. */
  create(type: ResourceType, namespace: string, object: KubeObject): KubeObject | null {
    if (this.get(type, namespace, object.metadata.name)) return null;
    const created: KubeObject = {
      ...object,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...object.metadata,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(++this.version),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
    };
    this.objects.set(this.key(type, namespace, created.metadata.name), created);
    return created;
  }

  nextResourceVersion(): string {
    return String(++this.version);
  }
}

interface CompiledRoute {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

interface FaultEntry {
  path: string | RegExp;
  fault: KubeApiFault;
  method?: string;
  remaining: number;
}

function compile(route: KubeApiRoute): CompiledRoute {
  return {
    method: route.method.toUpperCase(),
    segments: route.pattern.split("/").slice(1),
    handler: route.handler,
  };
}

function matchRoute(
  route: CompiledRoute,
  method: string,
  rawSegments: string[],
): Record<string, string> | null {
  if (route.method !== method || route.segments.length !== rawSegments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, pattern] of route.segments.entries()) {
    const raw = rawSegments[index] ?? "";
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      return null;
    }
    const placeholder = /^\{(\w+)\}$/.exec(pattern);
    if (placeholder) params[placeholder[1]!] = value;
    else if (pattern !== value) return null;
  }
  return params;
}

/** Reads a dotted path ("involvedObject.kind") out of an object, as the API's field selectors do. */
function fieldValue(object: unknown, dotted: string): string {
  let current: unknown = object;
  for (const part of dotted.split(".")) {
    if (typeof current !== "object" || current === null) return "";
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? "" : String(current);
}

function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + text[i + 1]!;
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

const unescapeField = (value: string): string => value.replace(/\\(.)/g, "$1");

/** Field selectors: `a.b=v`, `a.b==v`, `a.b!=v`, comma-joined, values escaped with backslashes. */
export function matchesFieldSelector(object: unknown, selector: string): boolean {
  if (selector.trim() === "") return true;
  return splitEscaped(selector, ",").every((term) => {
    const match = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/s.exec(term.trim());
    if (!match) throw new Error(`invalid field selector term "${term}"`);
    const actual = fieldValue(object, match[1]!.trim());
    const expected = unescapeField(match[3]!);
    return match[2] === "!=" ? actual !== expected : actual === expected;
  });
}

function verbOf(method: string, hasName: boolean): string {
  if (method === "POST") return "create";
  if (method === "DELETE") return "delete";
  if (method === "PATCH") return "patch";
  if (method === "PUT") return "update";
  return hasName ? "get" : "list";
}

/** Who and what a path is about, to word Forbidden and NotFound statuses as the API server does. */
function describePath(segments: string[]): {
  group: string;
  resource: string;
  namespace: string;
  name?: string;
} {
  const decoded = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  const core = decoded[0] === "api";
  const rest = core ? decoded.slice(2) : decoded.slice(3);
  const group = core ? "" : (decoded[1] ?? "");
  const namespace = rest[0] === "namespaces" ? (rest[1] ?? "") : "";
  const tail = rest[0] === "namespaces" ? rest.slice(2) : rest;
  const resource = tail.length >= 3 ? `${tail[0]}/${tail[2]}` : (tail[0] ?? "");
  return { group, resource, namespace, ...(tail[1] === undefined ? {} : { name: tail[1] }) };
}

export async function startKubeApiDouble(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
  const scenario = options.scenarioDir ? loadScenario(options.scenarioDir) : null;
  const defaultNamespace = options.defaultNamespace ?? scenario?.manifest.rollout.namespace ?? "default";
  const token = options.token ?? randomBytes(24).toString("base64url");
  const user = options.user ?? "system:serviceaccount:rollout-medic:rollout-medic";
  const store = new ObjectStore(
    [...DEFAULT_RESOURCE_TYPES, ...(options.resourceTypes ?? [])],
    defaultNamespace,
  );
  for (const object of [...(scenario?.objects ?? []), ...(options.objects ?? [])]) store.put(object);
  const logsDir = scenario?.logsDir ?? null;

  const requests: RecordedRequest[] = [];
  let faults: FaultEntry[] = [];
  const callerRoutes: CompiledRoute[] = (options.extraRoutes ?? []).map(compile);

  const builtInRoutes: CompiledRoute[] = [
    compile({ method: "GET", pattern: "/api/v1/namespaces/{namespace}/pods/{name}/log", handler: podLog }),
    ...["/api/{version}", "/apis/{group}/{version}"].flatMap((prefix) => [
      compile({ method: "GET", pattern: `${prefix}/namespaces/{namespace}/{plural}`, handler: listObjects }),
      compile({
        method: "GET",
        pattern: `${prefix}/namespaces/{namespace}/{plural}/{name}`,
        handler: getObject,
      }),
      compile({
        method: "POST",
        pattern: `${prefix}/namespaces/{namespace}/{plural}`,
        handler: createObject,
      }),
    ]),
  ];

  function resourceType(params: Record<string, string>): ResourceType | undefined {
    return store.typeOf(params["group"] ?? "", params["plural"] ?? "");
  }

  function unknownResource(): RouteReply {
    return {
      status: 404,
      body: statusBody(404, "NotFound", "the server could not find the requested resource", {}),
    };
  }

  function notFound(type: ResourceType, name: string): RouteReply {
    const qualified = type.group === "" ? type.plural : `${type.plural}.${type.group}`;
    return {
      status: 404,
      body: statusBody(404, "NotFound", `${qualified} "${name}" not found`, {
        name,
        group: type.group,
        kind: type.plural,
      }),
    };
  }

  function listObjects(context: RouteContext): RouteReply {
    const type = resourceType(context.params);
    if (!type || (context.params["version"] ?? "") !== type.version) return unknownResource();
    const labelSelector = context.query.get("labelSelector") ?? "";
    const fieldSelector = context.query.get("fieldSelector") ?? "";
    let items: KubeObject[];
    try {
      items = store
        .list(type, context.params["namespace"])
        .filter((o) => matchesLabelSelector(o.metadata.labels, labelSelector))
        .filter((o) => matchesFieldSelector(o, fieldSelector));
    } catch (error) {
      return { status: 400, body: statusBody(400, "BadRequest", (error as Error).message) };
    }
    return {
      status: 200,
      body: {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: store.nextResourceVersion() },
        // As the API server does: list items carry neither kind nor apiVersion.
        items: items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
      },
    };
  }

  function getObject(context: RouteContext): RouteReply {
    const type = resourceType(context.params);
    if (!type || (context.params["version"] ?? "") !== type.version) return unknownResource();
    const name = context.params["name"] ?? "";
    const object = store.get(type, context.params["namespace"] ?? "", name);
    if (!object) return notFound(type, name);
    return { status: 200, body: { ...object, apiVersion: apiVersionOf(type), kind: type.kind } };
  }

  function createObject(context: RouteContext): RouteReply {
    const type = resourceType(context.params);
    if (!type || (context.params["version"] ?? "") !== type.version) return unknownResource();
    const namespace = context.params["namespace"] ?? "";
    const body = context.body as KubeObject | undefined;
    if (
      typeof body !== "object" ||
      body === null ||
      typeof body.metadata !== "object" ||
      body.metadata === null
    ) {
      return {
        status: 400,
        body: statusBody(400, "BadRequest", "the body of the request was not a Kubernetes object"),
      };
    }
    const metadata = { ...body.metadata };
    if (metadata.namespace && metadata.namespace !== namespace) {
      return {
        status: 400,
        body: statusBody(
          400,
          "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request",
        ),
      };
    }
    if (!metadata.name && typeof metadata["generateName"] === "string") {
      metadata.name = `${metadata["generateName"]}${randomBytes(3).toString("hex").slice(0, 5)}`;
    }
    if (!metadata.name) {
      return {
        status: 422,
        body: statusBody(422, "Invalid", `${type.kind} is invalid: metadata.name: Required value`),
      };
    }
    const created = store.create(type, namespace, { ...body, metadata });
    if (!created) {
      const qualified = type.group === "" ? type.plural : `${type.plural}.${type.group}`;
      return {
        status: 409,
        body: statusBody(409, "AlreadyExists", `${qualified} "${metadata.name}" already exists`, {
          name: metadata.name,
          group: type.group,
          kind: type.plural,
        }),
      };
    }
    return { status: 201, body: created };
  }

  function podLog(context: RouteContext): RouteReply | undefined {
    const namespace = context.params["namespace"] ?? "";
    const podName = context.params["name"] ?? "";
    const podType = store.typeOf("", "pods")!;
    const pod = store.get(podType, namespace, podName);
    const containers = ((pod?.spec?.containers ?? []) as { name?: string }[]).map((c) => c.name ?? "");
    const container = context.query.get("container") ?? (containers.length === 1 ? containers[0]! : "");
    const previous = context.query.get("previous") === "true";
    const badRequest = (message: string): RouteReply => ({
      status: 400,
      body: statusBody(400, "BadRequest", message),
    });
    if (!container) {
      if (!pod) return notFound(podType, podName);
      return badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${containers.join(" ")}]`,
      );
    }
    // The double reads files named after the request: refuse anything that could leave logs/.
    const file =
      logsDir && SAFE_NAME.test(podName) && SAFE_NAME.test(container)
        ? path.join(logsDir, podName, `${container}${previous ? ".previous" : ""}.log`)
        : null;
    if (!file || !existsSync(file)) {
      if (!pod) return notFound(podType, podName);
      if (previous)
        return badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
      return badRequest(
        `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`,
      );
    }
    const tailText = context.query.get("tailLines");
    context.res.writeHead(200, { "Content-Type": "text/plain" });
    if (tailText === null) {
      createReadStream(file).pipe(context.res);
      return undefined;
    }
    const lines = readFileSync(file, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    const count = Math.max(0, Number.parseInt(tailText, 10) || 0);
    const kept = count === 0 ? [] : lines.slice(-count);
    context.res.end(kept.map((line) => `${line}\n`).join(""));
    return undefined;
  }

  function send(res: ServerResponse, reply: RouteReply): void {
    if (res.headersSent) return;
    const isText = typeof reply.body === "string";
    const payload =
      reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      "Content-Type": isText ? "text/plain; charset=utf-8" : "application/json",
      ...reply.headers,
    });
    res.end(payload);
  }

  function faultFor(method: string, rawPath: string): KubeApiFault | null {
    let decodedPath = rawPath;
    try {
      decodedPath = decodeURI(rawPath);
    } catch {
      // Keep the raw path.
    }
    const entry = faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (typeof f.path === "string"
          ? f.path === rawPath || f.path === decodedPath
          : f.path.test(decodedPath)),
    );
    if (!entry) return null;
    entry.remaining--;
    return entry.fault;
  }

  function faultReply(
    fault: { status: number; message?: string; reason?: string; body?: unknown },
    method: string,
    segments: string[],
  ): RouteReply {
    if (fault.body !== undefined) return { status: fault.status, body: fault.body };
    const about = describePath(segments);
    const verb = verbOf(method, about.name !== undefined);
    const qualified =
      about.group === "" ? about.resource.split("/")[0]! : `${about.resource.split("/")[0]!}.${about.group}`;
    const subject = about.name === undefined ? qualified : `${qualified} "${about.name}"`;
    const details = {
      ...(about.name === undefined ? {} : { name: about.name }),
      group: about.group,
      kind: about.resource.split("/")[0]!,
    };
    const defaults: Record<number, { reason: string; message: string }> = {
      400: { reason: "BadRequest", message: "bad request" },
      401: { reason: "Unauthorized", message: "Unauthorized" },
      403: {
        reason: "Forbidden",
        message:
          `${subject} is forbidden: User "${user}" cannot ${verb} resource "${about.resource}" in API group "${about.group}"` +
          (about.namespace ? ` in the namespace "${about.namespace}"` : ""),
      },
      404: { reason: "NotFound", message: `${subject} not found` },
      409: { reason: "AlreadyExists", message: `${subject} already exists` },
      429: {
        reason: "TooManyRequests",
        message: "the server has received too many requests and has asked us to try again later",
      },
      500: { reason: "InternalError", message: "Internal error occurred: the double was told to fail" },
      503: { reason: "ServiceUnavailable", message: "the server is currently unable to handle the request" },
    };
    const base = defaults[fault.status] ?? { reason: "Unknown", message: `status ${fault.status}` };
    return {
      status: fault.status,
      body: statusBody(
        fault.status,
        fault.reason ?? base.reason,
        fault.message ?? base.message,
        fault.status === 401 ? undefined : details,
      ),
    };
  }

  async function readRequestBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (chunks.length === 0) return undefined;
    const text = Buffer.concat(chunks).toString("utf8");
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    const queryStart = rawUrl.indexOf("?");
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? "" : rawUrl.slice(queryStart + 1));
    const body = method === "GET" || method === "HEAD" ? undefined : await readRequestBody(req);
    const { authorization, ...headers } = req.headers;
    const authenticated = authorization === `Bearer ${token}`;
    requests.push({
      method,
      path: rawPath,
      query: Object.fromEntries(query.entries()),
      authenticated,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    if (!authenticated) {
      send(res, { status: 401, body: statusBody(401, "Unauthorized", "Unauthorized") });
      return;
    }
    const segments = rawPath.split("/").slice(1);
    const fault = faultFor(method, rawPath);
    if (fault) {
      if ("hang" in fault) return;
      if ("reset" in fault) {
        req.socket.destroy();
        return;
      }
      if ("stallAfter" in fault) {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write(fault.stallAfter);
        return;
      }
      send(res, faultReply(fault, method, segments));
      return;
    }
    for (const route of [...callerRoutes, ...builtInRoutes]) {
      const params = matchRoute(route, method, segments);
      if (!params) continue;
      const reply = await route.handler({ method, path: rawPath, params, query, headers, body, store, res });
      if (reply) send(res, reply);
      return;
    }
    send(res, unknownResource());
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, {
        status: 500,
        body: statusBody(500, "InternalError", `double failed: ${(error as Error).message}`),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "kube-api-double-"));
  const kubeconfigPath = path.join(dir, "kubeconfig.yaml");
  writeFileSync(kubeconfigPath, kubeconfigYaml({ server: url, token, namespace: defaultNamespace }), {
    mode: 0o600,
  });

  return {
    url,
    kubeconfigPath,
    token,
    requests,
    store,
    setFault(faultPath, fault, faultOptions = {}) {
      faults = faults.filter(
        (f) => !(String(f.path) === String(faultPath) && f.method === faultOptions.method),
      );
      if (fault) {
        faults.unshift({
          path: faultPath,
          fault,
          ...(faultOptions.method === undefined ? {} : { method: faultOptions.method }),
          remaining: faultOptions.times ?? Number.POSITIVE_INFINITY,
        });
      }
    },
    clearFaults() {
      faults = [];
    },
    route(method, pattern, handler) {
      callerRoutes.unshift(compile({ method, pattern, handler }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ScenarioFolderSpec {
  rollout: { namespace: string; name: string };
  objects: KubeObject[];
  /** Log text by "pod/container.log" or "pod/container.previous.log". */
  logs?: Record<string, string>;
}

/** Writes a minimal scenario folder (scenario.yaml, cluster/objects.yaml, logs/) into a new temporary folder. */
export function writeScenarioFolder(spec: ScenarioFolderSpec): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scenario-"));
  writeFileSync(path.join(dir, "scenario.yaml"), stringify({ name: "temp", rollout: spec.rollout }));
  mkdirSync(path.join(dir, "cluster"));
  writeFileSync(
    path.join(dir, "cluster", "objects.yaml"),
    spec.objects.map((o) => stringify(o)).join("---\n"),
  );
  for (const [file, text] of Object.entries(spec.logs ?? {})) {
    const target = path.join(dir, "logs", file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  return dir;
}

/**
 * A small scenario with the cases selectors and filters must get right: a namespace twin, a pod without a
 * namespace, events for an older pod of the same name and without a uid, logs with a previous instance.
 */
export function sampleScenarioSpec(): ScenarioFolderSpec {
  const argo = "argoproj.io/v1alpha1";
  const hash = "rollouts-pod-template-hash";
  const ts = "2025-05-13T08:57:12Z";
  const event = (
    name: string,
    namespace: string,
    involvedObject: Record<string, string>,
    reason: string,
  ): KubeObject => ({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: ts },
    involvedObject: { namespace, ...involvedObject },
    reason,
    message: `${reason} for ${involvedObject["name"]}`,
    type: "Warning",
    count: 1,
    firstTimestamp: ts,
    lastTimestamp: ts,
  });
  const pod = (
    name: string,
    labels: Record<string, string>,
    uid: string,
    namespace?: string,
  ): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, ...(namespace ? { namespace } : {}), uid, labels, creationTimestamp: ts },
    spec: {
      containers: [
        { name: "checkout", image: "checkout:1.14.0" },
        { name: "istio-proxy", image: "proxyv2" },
      ],
    },
    status: {
      phase: "Running",
      containerStatuses: [
        {
          name: "checkout",
          restartCount: 3,
          lastState: {
            terminated: { reason: "OOMKilled", exitCode: 137, finishedAt: "2025-05-13T09:01:02Z" },
          },
        },
      ],
    },
  });
  return {
    rollout: { namespace: "shop", name: "checkout" },
    objects: [
      {
        apiVersion: argo,
        kind: "Rollout",
        metadata: {
          name: "checkout",
          namespace: "shop",
          uid: "rollout-uid",
          creationTimestamp: ts,
          generation: 7,
        },
        spec: {
          selector: { matchLabels: { app: "checkout" } },
          strategy: { canary: { analysis: { templates: [{ templateName: "success-rate" }] } } },
        },
        status: { currentPodHash: "c1c1c1", stableRS: "s1s1s1", abort: true },
      },
      {
        apiVersion: argo,
        kind: "Rollout",
        metadata: { name: "checkout", namespace: "other", uid: "rollout-uid-other" },
        spec: {},
      },
      ...[
        ["checkout-s1s1s1", { app: "checkout", [hash]: "s1s1s1" }],
        ["checkout-c1c1c1", { app: "checkout", [hash]: "c1c1c1" }],
        ["web-w1w1w1", { app: "web", [hash]: "w1w1w1" }],
        ["legacy", { app: "checkout" }],
      ].map(([name, labels]): KubeObject => ({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: name as string,
          namespace: "shop",
          uid: `rs-${name as string}`,
          labels: labels as Record<string, string>,
        },
        spec: { replicas: 1 },
      })),
      pod("checkout-c1c1c1-aaaaa", { app: "checkout", [hash]: "c1c1c1" }, "pod-uid-a", "shop"),
      pod("checkout-s1s1s1-bbbbb", { app: "checkout", [hash]: "s1s1s1" }, "pod-uid-b"),
      pod("web-w1w1w1-ccccc", { app: "web", [hash]: "w1w1w1" }, "pod-uid-c", "shop"),
      {
        apiVersion: argo,
        kind: "AnalysisRun",
        metadata: {
          name: "checkout-c1c1c1-7",
          namespace: "shop",
          labels: { [hash]: "c1c1c1" },
          uid: "run-7",
        },
        status: { phase: "Failed" },
      },
      {
        apiVersion: argo,
        kind: "AnalysisRun",
        metadata: {
          name: "checkout-0a0a0a-5",
          namespace: "shop",
          labels: { [hash]: "0a0a0a" },
          uid: "run-5",
        },
        status: { phase: "Successful" },
      },
      {
        apiVersion: argo,
        kind: "AnalysisTemplate",
        metadata: { name: "success-rate", namespace: "shop" },
        spec: { metrics: [{ name: "success-rate", successCondition: "result[0] >= 0.95" }] },
      },
      event(
        "checkout-c1c1c1-aaaaa.1",
        "shop",
        { kind: "Pod", name: "checkout-c1c1c1-aaaaa", uid: "pod-uid-a" },
        "BackOff",
      ),
      event(
        "checkout-c1c1c1-aaaaa.2",
        "shop",
        { kind: "Pod", name: "checkout-c1c1c1-aaaaa", uid: "pod-uid-old" },
        "Killing",
      ),
      event("checkout-c1c1c1-aaaaa.3", "shop", { kind: "Pod", name: "checkout-c1c1c1-aaaaa" }, "Unhealthy"),
      event(
        "checkout-c1c1c1.1",
        "shop",
        { kind: "ReplicaSet", name: "checkout-c1c1c1", uid: "rs-checkout-c1c1c1" },
        "SuccessfulCreate",
      ),
      event(
        "checkout.1",
        "shop",
        { kind: "Rollout", name: "checkout", uid: "rollout-uid" },
        "RolloutAborted",
      ),
      event(
        "checkout.2",
        "other",
        { kind: "Rollout", name: "checkout", uid: "rollout-uid-other" },
        "RolloutUpdated",
      ),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "checkout-config", namespace: "shop" },
        data: { a: "b" },
      },
      { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" } },
    ],
    logs: {
      "checkout-c1c1c1-aaaaa/checkout.log": "boot\nserving on :8080\ncache size 400000\n",
      "checkout-c1c1c1-aaaaa/checkout.previous.log":
        "boot\ncache size 400000\nfatal error: runtime: out of memory\n",
      "checkout-c1c1c1-aaaaa/istio-proxy.log": "envoy ready\n",
      "checkout-s1s1s1-bbbbb/checkout.log": "boot\nserving on :8080\n",
    },
  };
}
