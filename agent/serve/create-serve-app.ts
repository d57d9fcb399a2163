import Fastify from "fastify";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../logger.js";
import type { JobDispatcher } from "./job-dispatcher.js";
import type { RequestAuthenticator } from "./request-authenticator.js";
import { SIGNATURE_HEADER } from "./request-authenticator.js";
import { parseRolloutNotification } from "./rollout-notification.js";
import type { RejectReason, ServeMetrics } from "./serve-metrics.js";

export interface ReadinessCheck {
  /** Null when ready, else why not (one line). */
  (): Promise<string | null>;
}

export interface ServeAppOptions {
  authenticator: RequestAuthenticator;
  dispatcher: JobDispatcher;
  metrics: ServeMetrics;
  readiness: ReadinessCheck;
  logger: Logger;
  maxBodyBytes: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authentication hook: the body's signature must still be checked. */
    signaturePending?: boolean;
  }
}

const NOTIFICATION_ROUTES = new Set(["/v1/rollout-events", "/v1/rollout-events/:event"]);

function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type("application/json; charset=utf-8")
    .send({ error, message, ...extra });
}

/** The HTTP side of `rollout-medic serve`; listening and shutdown belong to the caller. */
export function createServeApp(options: ServeAppOptions): FastifyInstance {
  const { authenticator, dispatcher, metrics, logger } = options;
  const app = Fastify({
    // No Fastify logger: it would build a child logger for every request. Failures are logged below.
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // Bounds slow or stalled senders; a notification is small and sent at once.
    requestTimeout: 10_000,
    connectionTimeout: 15_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    routerOptions: { ignoreTrailingSlash: true },
  });
  const isNotification = (request: FastifyRequest): boolean =>
    request.routeOptions.url !== undefined && NOTIFICATION_ROUTES.has(request.routeOptions.url);

  const reject = (reply: FastifyReply, reason: RejectReason, status: number, message: string, extra = {}) => {
    metrics.reject(reason);
    return sendError(reply, status, reason, message, extra);
  };

  // The raw bytes are kept for the HMAC signature; only JSON is accepted (anything else is 415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/json",
    { parseAs: "buffer", bodyLimit: options.maxBodyBytes },
    (_r, body, done) => done(null, body),
  );

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      "not_found",
      `no route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`,
    ),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const notification = isNotification(request);
    switch (error.code) {
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      case "FST_ERR_CTP_INVALID_TYPE":
      case "FST_ERR_CTP_EMPTY_TYPE":
        if (notification) metrics.reject("unsupported_media_type");
        return sendError(
          reply,
          415,
          "unsupported_media_type",
          "send the notification as Content-Type: application/json",
        );
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        if (notification) metrics.reject("too_large");
        return sendError(reply, 413, "too_large", `the body is larger than ${options.maxBodyBytes} bytes`);
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        if (notification) metrics.reject("malformed_json");
        return sendError(reply, 400, "malformed_json", "the body does not match its Content-Length");
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, "bad_request", error.message.split("\n")[0]!.slice(0, 300));
    }
    logger.error({ err: error, method: request.method, url: request.url.slice(0, 200) }, "request failed");
    return sendError(reply, 500, "internal", "the receiver failed; see its logs");
  });

  app.addHook("onResponse", async (request, reply) => {
    if (isNotification(request)) metrics.observeLatency(reply.elapsedTime / 1000);
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.received++;
    const signature = request.headers[SIGNATURE_HEADER];
    const verdict = authenticator.checkHeaders(
      request.headers.authorization,
      typeof signature === "string" ? signature : undefined,
    );
    if (verdict === "unauthorized") {
      reply.header("WWW-Authenticate", 'Bearer realm="rollout-medic"');
      return reject(reply, "unauthorized", 401, "missing or invalid credentials");
    }
    request.signaturePending = verdict === "signature-pending";
    return undefined;
  };

  const handle = async (request: FastifyRequest<{ Params: { event?: string } }>, reply: FastifyReply) => {
    const raw = request.body;
    if (!Buffer.isBuffer(raw)) {
      return reject(
        reply,
        "unsupported_media_type",
        415,
        "send the notification as Content-Type: application/json",
      );
    }
    const signature = request.headers[SIGNATURE_HEADER];
    if (typeof signature === "string" && authenticator.verifiesSignatures) {
      if (!authenticator.signatureValid(signature, raw)) {
        reply.header("WWW-Authenticate", 'Bearer realm="rollout-medic"');
        return reject(reply, "bad_signature", 401, "missing or invalid credentials");
      }
    } else if (request.signaturePending) {
      return reject(reply, "unauthorized", 401, "missing or invalid credentials");
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (error) {
      const detail = raw.length === 0 ? "the body is empty" : (error as Error).message.slice(0, 200);
      return reject(reply, "malformed_json", 400, `the body is not JSON: ${detail}`);
    }
    const parsed = parseRolloutNotification(body, request.params.event);
    if (!parsed.ok) {
      return reject(reply, "invalid_notification", 422, parsed.message, { issues: parsed.issues });
    }
    const { failure } = parsed;
    if (parsed.disabled) {
      metrics.ignored++;
      return reply
        .code(202)
        .send({ status: "ignored", reason: 'the Rollout is annotated rollout-medic.dev/enabled: "false"' });
    }
    const result = dispatcher.submit(failure);
    switch (result.status) {
      case "accepted":
        metrics.accepted++;
        return reply.code(202).send({ status: "accepted", job: result.job });
      case "duplicate":
        metrics.duplicates++;
        return reply.code(202).send({ status: "duplicate", job: result.job });
      case "overloaded":
        reply.header("Retry-After", String(result.retryAfterSeconds));
        return reject(reply, "overloaded", 503, "too many Jobs are waiting to be created; retry later");
      default:
        reply.header("Retry-After", String(Math.max(1, result.retryAfterSeconds)));
        return reject(
          reply,
          result.status,
          429,
          result.status === "rate_limited_rollout"
            ? `too many new failures of Rollout ${failure.namespace}/${failure.name}; retry later`
            : "too many new failures across Rollouts; retry later",
        );
    }
  };

  for (const url of NOTIFICATION_ROUTES) {
    app.post<{ Params: { event?: string } }>(url, { onRequest: authenticate }, handle);
  }

  app.get("/healthz", async (_request, reply) => reply.send({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const problem = await options.readiness().catch((error: unknown) => (error as Error).message);
    if (problem) return sendError(reply, 503, "not_ready", problem);
    return reply.send({ status: "ready" });
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type("text/plain; version=0.0.4; charset=utf-8").send(metrics.render()),
  );
  return app;
}
