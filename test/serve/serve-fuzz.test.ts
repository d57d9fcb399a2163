import { createHmac } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRolloutNotification } from "../../agent/serve/rollout-notification.js";
import type { Harness } from "./serve-harness.js";
import { COMPACT, TOKEN, fixtureRollout, startHarness } from "./serve-harness.js";

/**
 * Thousands of malformed or hostile requests, sent only to the receiver on 127.0.0.1, in a bounded loop
 * with a seeded generator: the receiver must answer each with a 4xx (or close a broken connection),
 * create no Job, and still work afterwards.
 */

const HTTP_REQUESTS = 2400;
const RAW_CONNECTIONS = 300;
const MAX_BODY = 16 * 1024;
const HMAC_SECRET = "fuzz-hmac-secret-0123456789";

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(0x5eed);
let rolloutFixture: Record<string, unknown> | undefined;
const oomRollout = () => structuredClone((rolloutFixture ??= fixtureRollout("oom-killed") as never));
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

const HOSTILE_VALUES: unknown[] = [
  7,
  -1,
  1e308,
  0.5,
  true,
  null,
  {},
  [],
  ["shop"],
  { $gt: "" },
  "",
  " ",
  "../../etc/passwd",
  "shop/../kube-system",
  "Shop",
  "shop\u0000",
  "shop\nX-Injected: 1",
  "💥",
  "a".repeat(300),
  "'; DROP TABLE jobs; --",
  "${jndi:ldap://127.0.0.1/a}",
  "{{.rollout}}",
  "0x1f",
  "00",
  "-7",
  "1e3",
  "__proto__",
];

const FIELDS = ["schemaVersion", "event", "namespace", "name", "uid", "revision", "canaryPodHash"] as const;

/** A JSON value that is never a valid notification (checked with the receiver's own parser). */
function invalidNotification(): unknown {
  for (;;) {
    let body: unknown;
    switch (int(8)) {
      case 0: {
        const copy: Record<string, unknown> = { ...COMPACT };
        copy[pick(FIELDS)] = pick(HOSTILE_VALUES);
        body = copy;
        break;
      }
      case 1: {
        const copy: Record<string, unknown> = { ...COMPACT };
        delete copy[pick(FIELDS)];
        body = copy;
        break;
      }
      case 2:
        body = JSON.parse(
          `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, "event": 1}`,
        );
        break;
      case 3: {
        const rollout = oomRollout() as Record<string, unknown>;
        const target = pick(["metadata", "status"] as const);
        (rollout[target] as Record<string, unknown>)[
          pick(["name", "namespace", "uid", "currentPodHash", "annotations"])
        ] = pick(HOSTILE_VALUES);
        body = { rollout };
        break;
      }
      case 4:
        body = pick([
          null,
          0,
          "x",
          true,
          [],
          [COMPACT],
          { rollout: null },
          { rollout: [] },
          { rollout: "x" },
        ]);
        break;
      case 5: {
        // Deep nesting, which recursive parsers or validators would choke on.
        const depth = 1000 + int(3000);
        body = JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
        break;
      }
      case 6:
        body = { ...COMPACT, schemaVersion: pick(["2", "", 1, null, "1.0"]) };
        break;
      default:
        body = Object.fromEntries(
          Array.from({ length: int(50) }, (_, i) => [`k${i}${int(1000)}`, pick(HOSTILE_VALUES)]),
        );
    }
    if (!parseRolloutNotification(body).ok) return body;
  }
}

function malformedJson(): string {
  const valid = JSON.stringify(COMPACT);
  return pick([
    () => valid.slice(0, int(valid.length)),
    () => `${valid},`,
    () => valid.replace(":", "="),
    () => `{"a": NaN}`,
    () => `{'single': 'quotes'}`,
    () => `${"{".repeat(200)}`,
    () => "\u0000\u0001\u0002",
    () => bytes(1 + int(512)).toString("latin1"),
    () => `${valid}${valid}`,
    () => "\ufeff" + valid.replace("7", "\\u"),
  ])();
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

function hostileRequest(): Sent {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const json = { "content-type": "application/json" };
  switch (int(12)) {
    case 0:
    case 1:
    case 2:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, ...json },
        body: JSON.stringify(invalidNotification()),
      };
    case 3:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, ...json },
        body: malformedJson(),
      };
    case 4:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, ...json },
        body: bytes(int(4096)),
      };
    case 5:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, ...json },
        body: JSON.stringify({ ...COMPACT, padding: "x".repeat(MAX_BODY + int(MAX_BODY)) }),
      };
    case 6:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: {
          ...auth,
          "content-type": pick([
            "text/plain",
            "application/xml",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "*/*",
            "json",
          ]),
        },
        body: JSON.stringify(COMPACT),
      };
    case 7: {
      // Credentials that are wrong in every way; the body would be valid.
      const headers: Record<string, string> = { ...json };
      const variant = int(5);
      if (variant === 0) headers["authorization"] = `Bearer ${TOKEN.slice(0, int(TOKEN.length))}`;
      if (variant === 1) headers["authorization"] = `Basic ${bytes(int(64)).toString("base64")}`;
      if (variant === 2)
        headers["authorization"] = pick([
          "Bearer",
          "Bearer  ",
          "bearer\t",
          "Negotiate abc",
          bytes(40).toString("hex"),
        ]);
      if (variant === 3) headers["x-signature-256"] = `sha256=${bytes(32).toString("hex")}`;
      if (variant === 4) {
        const raw = JSON.stringify(COMPACT);
        headers["x-signature-256"] =
          `sha256=${createHmac("sha256", "not-the-secret").update(raw).digest("hex")}`;
      }
      return { method: "POST", path: "/v1/rollout-events", headers, body: JSON.stringify(COMPACT) };
    }
    case 8:
      return {
        method: "POST",
        path: pick([
          "/v1/rollout-events/%2e%2e",
          "/v1/rollout-events/..%2f..%2fjobs",
          `/v1/rollout-events/${"a".repeat(90)}`,
          "/v1/rollout-events/rollout-aborted%00",
          "/v1/rollout-events/ROLLOUT-ABORTED",
          "/v1/rollout-events/__proto__",
        ]),
        headers: { ...auth, ...json },
        body: JSON.stringify({ ...COMPACT, event: undefined }),
      };
    case 9:
      return {
        method: pick(["PUT", "PATCH", "DELETE", "OPTIONS", "GET"]),
        path: pick([
          "/v1/rollout-events",
          "/v1/rollout-events/rollout-aborted",
          "/",
          "/v2/rollout-events",
          "/apis/batch/v1/jobs",
        ]),
        headers: { ...auth, ...json },
        body: JSON.stringify(COMPACT),
      };
    case 10:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, ...json, "x-filler": "y".repeat(20_000 + int(20_000)) },
        body: JSON.stringify(COMPACT),
      };
    default:
      return {
        method: "POST",
        path: "/v1/rollout-events",
        headers: { ...auth, "content-type": "application/json; charset=utf-16" },
        body: Buffer.from(JSON.stringify(invalidNotification()), "utf16le"),
      };
  }
}

/**
 * A keep-alive socket the server has just closed (after a 413 or 431 it closes the connection) fails the
 * next request on it with ECONNRESET: such a failure is tried once more on a fresh connection.
 */
async function sendOnce(agent: http.Agent, base: URL, request: Sent): Promise<number> {
  const status = await send(agent, base, request);
  return status === -1 ? send(false, base, request) : status;
}

function send(agent: http.Agent | false, base: URL, request: Sent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(-1));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(-1));
    req.end(request.body);
  });
}

const RAW_PAYLOADS = [
  "GARBAGE\r\n\r\n",
  "POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
  "POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
  "POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot-hex\r\n0\r\n\r\n",
  "POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
  "POST /v1/rollout-events HTTP/1.1\r\nHo\u0000st: x\r\n\r\n",
  "POST /v1/rollout-events HTTP/9.9\r\n\r\n",
  "POST  HTTP/1.1\r\n\r\n",
  `POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"schemaVersion":`,
  `POST /v1/rollout-events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"sch\r\n`,
  "\r\n\r\n\r\n",
  "GET /healthz HTTP/1.1\r\nHost: x\r\n" + "X: y\r\n".repeat(3000) + "\r\n",
];

function rawConnection(port: number, payload: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.end(payload);
    });
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("data", () => undefined);
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
}

describe("serve: fuzzing with malformed and hostile requests", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      env: {
        ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY),
        ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET: HMAC_SECRET,
      },
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  it(`answers ${HTTP_REQUESTS} hostile requests and ${RAW_CONNECTIONS} broken connections without a Job`, async () => {
    const base = new URL(harness.serve.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const started = Date.now();
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < HTTP_REQUESTS && Date.now() - started < 60_000) {
        next++;
        const status = await sendOnce(agent, base, hostileRequest());
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    agent.destroy();

    const port = Number(base.port);
    for (let i = 0; i < RAW_CONNECTIONS; i++) {
      const payload = i % 4 === 3 ? bytes(1 + int(2048)) : pick(RAW_PAYLOADS);
      await rawConnection(port, payload);
    }

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(HTTP_REQUESTS);
    const allowed = new Set([400, 401, 404, 413, 415, 422, 431, -1]);
    const unexpected = [...statuses.keys()].filter((status) => !allowed.has(status));
    expect(unexpected, JSON.stringify(Object.fromEntries(statuses))).toEqual([]);
    // A connection closed without an answer, even on a fresh connection, is rare (a body still being
    // written when the 413 arrives).
    expect(statuses.get(-1) ?? 0).toBeLessThan(HTTP_REQUESTS / 100);

    await harness.settle();
    expect(harness.jobs()).toHaveLength(0);
    expect(harness.double.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    expect(harness.serve.metrics.accepted).toBe(0);

    // Still up, and still doing its job.
    expect((await fetch(`${harness.serve.url}/healthz`)).status).toBe(200);
    expect((await harness.post(COMPACT)).status).toBe(202);
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);
  }, 120_000);
});
