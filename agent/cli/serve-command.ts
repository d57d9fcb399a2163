import type { Config } from "../config.js";
import { ConfigError, EXIT } from "../errors.js";
import { createKubeApiClient } from "../jobs/kube-api-client.js";
import { createLogger } from "../logger.js";
import { startServe } from "../serve/start-serve.js";

export interface ServeOptions {
  host?: string;
  port?: string;
  kubeconfig?: string;
  context?: string;
}

/** Runs the webhook receiver until SIGTERM or SIGINT, then shuts down gracefully. */
export async function serveCommand(options: ServeOptions, config: Config): Promise<number> {
  const logger = createLogger(config.logLevel, { component: "serve" });
  const kubeconfigPath = options.kubeconfig ?? config.kubeconfig;
  const client = createKubeApiClient({
    ...(kubeconfigPath ? { kubeconfigPath } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new ConfigError(`--port ${options.port} is not a TCP port (0-65535)`);
  }
  const running = await startServe({
    settings: config.serve,
    client,
    logger,
    ...(options.host ? { host: options.host } : {}),
    ...(port === undefined ? {} : { port }),
    // Lets the endpoints controller take the pod out of the Service before the listener closes.
    shutdownDelayMs: 2_000,
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "shutting down");
  const { drained } = await running.close();
  logger.info({ drained }, "serve stopped");
  return EXIT.ok;
}
