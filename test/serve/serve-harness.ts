import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../agent/cluster/kube-object.js";
import { loadConfig } from "../../agent/config.js";
import type { EnvInput, ServeSettings } from "../../agent/config.js";
import { createKubeApiClient } from "../../agent/jobs/kube-api-client.js";
import { silentLogger } from "../../agent/logger.js";
import { startServe } from "../../agent/serve/start-serve.js";
import type { RunningServe, StartServeOptions } from "../../agent/serve/start-serve.js";
import { startKubeApiDouble } from "../helpers/kube-api-double.js";
import type { KubeApiDouble, KubeApiDoubleOptions } from "../helpers/kube-api-double.js";

export const TOKEN = "test-token-0123456789abcdef";
export const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures");

export function serveSettings(env: EnvInput = {}): ServeSettings {
  return loadConfig({
    ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN,
    ROLLOUT_MEDIC_JOB_IMAGE: "ghcr.io/rollout-medic/rollout-medic:test",
    ROLLOUT_MEDIC_NAMESPACE: "rollout-medic",
    ROLLOUT_MEDIC_RATE_PER_ROLLOUT_PER_HOUR: "1000",
    ROLLOUT_MEDIC_RATE_GLOBAL_PER_MINUTE: "100000",
    ROLLOUT_MEDIC_SHUTDOWN_GRACE_SECONDS: "5",
    ...env,
  }).serve;
}

/** Serves GET /version, which the receiver's readiness asks. */
export async function startDouble(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
  const double = await startKubeApiDouble(options);
  double.route("GET", "/version", () => ({
    status: 200,
    body: { major: "1", minor: "34", gitVersion: "v1.34.4" },
  }));
  return double;
}

export interface Harness {
  double: KubeApiDouble;
  serve: RunningServe;
  post(
    body: unknown,
    options?: { path?: string; headers?: Record<string, string>; raw?: string | Buffer },
  ): Promise<Answer>;
  jobs(): KubeObject[];
  events(namespace: string): KubeObject[];
  /** Waits until every accepted notification's Job creation has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function startHarness(
  options: { env?: EnvInput; double?: KubeApiDouble; serve?: Partial<StartServeOptions> } = {},
): Promise<Harness> {
  const double = options.double ?? (await startDouble());
  const client = createKubeApiClient({ kubeconfigPath: double.kubeconfigPath });
  const serve = await startServe({
    settings: serveSettings(options.env),
    client,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    retryDelayMs: 10,
    ...options.serve,
  });
  const jobType = double.store.typeOf("batch", "jobs")!;
  const eventType = double.store.typeOf("", "events")!;
  return {
    double,
    serve,
    async post(body, postOptions = {}) {
      const response = await fetch(`${serve.url}${postOptions.path ?? "/v1/rollout-events"}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${TOKEN}`,
          ...postOptions.headers,
        },
        body: postOptions.raw ?? JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { text };
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    jobs: () => double.store.list(jobType, "rollout-medic"),
    events: (namespace) => double.store.list(eventType, namespace),
    async settle() {
      await serve.dispatcher.drain(10_000);
    },
    async close() {
      await serve.close();
      if (!options.double) await double.close();
    },
  };
}

/** The notification bodies recorded in fixtures/<scenario>/notification.json. */
export function fixtureNotifications(): { scenario: string; body: Record<string, string> }[] {
  return readdirSync(FIXTURES)
    .filter((scenario) => existsSync(path.join(FIXTURES, scenario, "notification.json")))
    .map((scenario) => ({
      scenario,
      body: JSON.parse(readFileSync(path.join(FIXTURES, scenario, "notification.json"), "utf8")) as Record<
        string,
        string
      >,
    }));
}

/** The Rollout object of a fixture scenario, as `kubectl get -o yaml` printed it. */
export function fixtureRollout(scenario: string): KubeObject {
  const dir = path.join(FIXTURES, scenario, "cluster");
  for (const file of readdirSync(dir)) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), "utf8"))) {
      const value = doc.toJS() as KubeObject | { kind?: string; items?: KubeObject[] } | null;
      const candidates = value && "items" in value && Array.isArray(value.items) ? value.items : [value];
      for (const object of candidates) {
        if (object && (object as KubeObject).kind === "Rollout") return object as KubeObject;
      }
    }
  }
  throw new Error(`no Rollout in ${dir}`);
}

export const COMPACT = {
  schemaVersion: "1",
  event: "rollout-aborted",
  namespace: "shop",
  name: "checkout",
  uid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
  revision: "7",
  canaryPodHash: "6c9f8d7b5d",
  stablePodHash: "7d4b9c8f6b",
} as const;
