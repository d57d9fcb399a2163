import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { ServeSettings } from "../config.js";
import { ConfigError } from "../errors.js";
import { JobTemplateSource } from "../jobs/job-template-source.js";
import type { KubeApiClient } from "../jobs/kube-api-client.js";
import { READINESS_PATH } from "../jobs/receiver-api-calls.js";
import type { Logger } from "../logger.js";
import { createServeApp } from "./create-serve-app.js";
import { JobDispatcher } from "./job-dispatcher.js";
import { RequestAuthenticator } from "./request-authenticator.js";
import { ServeMetrics } from "./serve-metrics.js";

export interface StartServeOptions {
  settings: ServeSettings;
  client: KubeApiClient;
  logger: Logger;
  /** Overrides of settings.host / settings.port (0: any free port). */
  host?: string;
  port?: number;
  /** How long the template ConfigMap read is reused. */
  templateCacheMs?: number;
  /** Between the readiness turning false and the listener closing, for endpoints to drop the pod. */
  shutdownDelayMs?: number;
  retryDelayMs?: number;
}

export interface RunningServe {
  url: string;
  app: FastifyInstance;
  metrics: ServeMetrics;
  dispatcher: JobDispatcher;
  /** Stops accepting, answers what is in flight, then waits for accepted Job creations. */
  close(): Promise<{ drained: boolean }>;
}

const READINESS_CACHE_MS = 5_000;

export async function startServe(options: StartServeOptions): Promise<RunningServe> {
  const { settings, client, logger } = options;
  const authenticator = new RequestAuthenticator(settings.auth);
  if (!authenticator.configured) {
    throw new ConfigError(
      "no webhook credential is set: set ROLLOUT_MEDIC_WEBHOOK_TOKEN (or ROLLOUT_MEDIC_WEBHOOK_USERNAME and _PASSWORD, " +
        "or ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET); see docs/production.md",
    );
  }
  if (!settings.job.image) {
    throw new ConfigError(
      "ROLLOUT_MEDIC_JOB_IMAGE is not set: the image of the remediation Jobs (usually the receiver's own)",
    );
  }
  const metrics = new ServeMetrics();
  const templates = new JobTemplateSource({
    client,
    namespace: settings.namespace,
    ...(settings.job.templateConfigMap ? { configMap: settings.job.templateConfigMap } : {}),
    settings: { ...settings.job, image: settings.job.image },
    logger,
    ...(options.templateCacheMs === undefined ? {} : { cacheMs: options.templateCacheMs }),
  });
  const dispatcher = new JobDispatcher({
    client,
    templates,
    namespace: settings.namespace,
    metrics,
    logger,
    dedupe: settings.dedupe,
    rateLimit: settings.rateLimit,
    maxPendingJobs: settings.maxPendingJobs,
    ...(settings.podName ? { reportingInstance: settings.podName } : {}),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
  });

  let closing = false;
  let lastCheck: { at: number; problem: string | null } | null = null;
  const readiness = async (): Promise<string | null> => {
    if (closing) return "shutting down";
    if (lastCheck && Date.now() - lastCheck.at < READINESS_CACHE_MS) return lastCheck.problem;
    let problem: string | null = null;
    try {
      const response = await client.request("GET", READINESS_PATH);
      if (response.status !== 200)
        problem = `the Kubernetes API at ${client.server} answered ${response.status}`;
      else await templates.get();
    } catch (error) {
      problem = (error as Error).message;
    }
    lastCheck = { at: Date.now(), problem };
    return problem;
  };

  const app = createServeApp({
    authenticator,
    dispatcher,
    metrics,
    readiness,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
  });
  await app.listen({ host: options.host ?? settings.host, port: options.port ?? settings.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url, namespace: settings.namespace }, "serve listening");

  return {
    url,
    app,
    metrics,
    dispatcher,
    async close() {
      closing = true;
      if (options.shutdownDelayMs)
        await new Promise((resolve) => setTimeout(resolve, options.shutdownDelayMs));
      await app.close();
      const drained = await dispatcher.drain(settings.shutdownGraceMs);
      if (!drained)
        logger.warn({ pending: dispatcher.pendingJobs }, "shutdown before every accepted job was created");
      client.close();
      return { drained };
    },
  };
}
