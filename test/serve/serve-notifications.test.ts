import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { jobNameFor } from "../../agent/jobs/rollout-failure.js";
import type { Harness } from "./serve-harness.js";
import {
  COMPACT,
  TOKEN,
  fixtureNotifications,
  fixtureRollout,
  startDouble,
  startHarness,
} from "./serve-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const jobPosts = (h: Harness) =>
  h.double.requests.filter(
    (r) => r.method === "POST" && r.path === "/apis/batch/v1/namespaces/rollout-medic/jobs",
  );

describe("serve: notifications create one Job per failure", () => {
  it("answers a compact body 202 at once and then creates the Job and an Event on the Rollout", async () => {
    harness = await startHarness();
    const answer = await harness.post(COMPACT);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ status: "accepted", job: jobNameFor(COMPACT) });
    await harness.settle();

    const jobs = harness.jobs();
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.metadata.name).toBe(jobNameFor(COMPACT));
    expect(job.metadata.labels).toMatchObject({
      "rollout-medic.dev/rollout-namespace": "shop",
      "rollout-medic.dev/rollout-name": "checkout",
      "rollout-medic.dev/revision": "7",
      "rollout-medic.dev/canary-pod-hash": "6c9f8d7b5d",
    });
    expect(job.metadata.annotations).toMatchObject({
      "rollout-medic.dev/rollout": "shop/checkout",
      "rollout-medic.dev/rollout-uid": COMPACT.uid,
      "rollout-medic.dev/event": "rollout-aborted",
      "rollout-medic.dev/failure-key": "shop/checkout/7/6c9f8d7b5d",
    });
    const pod = job.spec.template.spec;
    expect(pod.serviceAccountName).toBe("rollout-medic-agent");
    expect(pod.containers[0].image).toBe("ghcr.io/rollout-medic/rollout-medic:test");
    expect(pod.containers[0].args).toEqual(["run", "--namespace", "shop", "--rollout", "checkout"]);

    const events = harness.events("shop");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      reason: "RemediationJobCreated",
      type: "Normal",
      involvedObject: {
        kind: "Rollout",
        apiVersion: "argoproj.io/v1alpha1",
        name: "checkout",
        uid: COMPACT.uid,
      },
      related: { kind: "Job", name: jobNameFor(COMPACT), namespace: "rollout-medic" },
      source: { component: "rollout-medic" },
    });
    expect(harness.serve.metrics.jobsCreated).toBe(1);
  });

  it("accepts the full Rollout dump and the /:event path, and treats them as the same failure", async () => {
    harness = await startHarness();
    const rollout = fixtureRollout("oom-killed");
    const dump = await harness.post({ rollout }, { path: "/v1/rollout-events/rollout-aborted" });
    expect(dump.status).toBe(202);
    expect(dump.body).toEqual({ status: "accepted", job: jobNameFor(COMPACT) });
    const compact = await harness.post(COMPACT);
    expect(compact.body).toEqual({ status: "duplicate", job: jobNameFor(COMPACT) });
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);
    expect(harness.jobs()[0]!.metadata.annotations?.["rollout-medic.dev/stable-pod-hash"]).toBe("7d4b9c8f6b");
  });

  it("creates exactly one Job for each recorded fixture notification", async () => {
    harness = await startHarness();
    const notifications = fixtureNotifications();
    expect(notifications.length).toBeGreaterThanOrEqual(10);
    for (const { body } of notifications) expect((await harness.post(body)).status).toBe(202);
    await harness.settle();
    const names = harness
      .jobs()
      .map((j) => j.metadata.name)
      .sort();
    expect(names).toEqual(notifications.map(({ body }) => jobNameFor(body as never)).sort());
  });

  it("creates no Job for replays and concurrent duplicates", async () => {
    harness = await startHarness();
    const first = await Promise.all(Array.from({ length: 50 }, () => harness!.post(COMPACT)));
    expect(first.map((a) => a.status)).toEqual(Array(50).fill(202));
    expect(first.filter((a) => a.body["status"] === "accepted")).toHaveLength(1);
    await harness.settle();
    for (let i = 0; i < 20; i++) expect((await harness.post(COMPACT)).body["status"]).toBe("duplicate");
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);
    expect(jobPosts(harness)).toHaveLength(1);
    expect(harness.serve.metrics.duplicates).toBe(69);
  });

  it("deduplicates across replicas through the Job name (AlreadyExists)", async () => {
    const double = await startDouble();
    const a = await startHarness({ double });
    const b = await startHarness({ double });
    try {
      expect((await a.post(COMPACT)).body["status"]).toBe("accepted");
      await a.settle();
      // Replica b has never seen the failure: it accepts it, and the API server answers AlreadyExists.
      expect((await b.post(COMPACT)).body["status"]).toBe("accepted");
      await b.settle();
      expect(a.jobs()).toHaveLength(1);
      expect(b.serve.metrics.jobsAlreadyExisted).toBe(1);
      expect(b.serve.metrics.jobCreateFailures).toBe(0);
      // Only the replica that created the Job records the Event.
      expect(a.events("shop")).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      await double.close();
    }
  });

  it("ignores a Rollout annotated rollout-medic.dev/enabled: false", async () => {
    harness = await startHarness();
    const rollout = fixtureRollout("oom-killed");
    rollout.metadata.annotations = { ...rollout.metadata.annotations, "rollout-medic.dev/enabled": "false" };
    const answer = await harness.post({ rollout });
    expect(answer.status).toBe(202);
    expect(answer.body["status"]).toBe("ignored");
    await harness.settle();
    expect(harness.jobs()).toHaveLength(0);
  });
});

describe("serve: authentication", () => {
  it("refuses requests without valid credentials with 401 and nothing else", async () => {
    harness = await startHarness();
    const cases: Record<string, string>[] = [
      { authorization: "" },
      { authorization: "Bearer wrong-token-0123456789" },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString("base64")}` },
      { authorization: `Token ${TOKEN}` },
      { authorization: "Bearer" },
    ];
    for (const headers of cases) {
      const answer = await harness.post(COMPACT, { headers });
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.headers.get("www-authenticate")).toContain("Bearer");
      expect(answer.body).toEqual({ error: "unauthorized", message: "missing or invalid credentials" });
    }
    // Without credentials even a malformed body or a wrong content type is only "unauthorized".
    expect((await harness.post(null, { headers: { authorization: "" }, raw: "{not json" })).status).toBe(401);
    expect(
      (await harness.post(null, { headers: { authorization: "", "content-type": "text/plain" }, raw: "x" }))
        .status,
    ).toBe(401);
    await harness.settle();
    expect(harness.jobs()).toHaveLength(0);
    expect(harness.double.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });

  it("accepts basic auth when configured", async () => {
    harness = await startHarness({
      env: {
        ROLLOUT_MEDIC_WEBHOOK_USERNAME: "argo",
        ROLLOUT_MEDIC_WEBHOOK_PASSWORD: "basic-password-0123456789",
      },
    });
    const good = `Basic ${Buffer.from("argo:basic-password-0123456789").toString("base64")}`;
    const bad = `Basic ${Buffer.from("argo:basic-password-012345678").toString("base64")}`;
    expect((await harness.post(COMPACT, { headers: { authorization: good } })).status).toBe(202);
    expect((await harness.post(COMPACT, { headers: { authorization: bad } })).status).toBe(401);
  });

  it("accepts an HMAC signature alone and refuses a wrong one even with a valid token", async () => {
    const secret = "hmac-secret-0123456789abcdef";
    harness = await startHarness({ env: { ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET: secret } });
    const raw = JSON.stringify(COMPACT);
    const sign = (text: string) => `sha256=${createHmac("sha256", secret).update(text).digest("hex")}`;
    const signedOnly = await harness.post(null, {
      raw,
      headers: { authorization: "", "x-signature-256": sign(raw) },
    });
    expect(signedOnly.status).toBe(202);
    const tampered = await harness.post(null, {
      raw: raw.replace('"7"', '"8"'),
      headers: { authorization: "", "x-signature-256": sign(raw) },
    });
    expect(tampered.status).toBe(401);
    const badWithToken = await harness.post(null, { raw, headers: { "x-signature-256": "sha256=00" } });
    expect(badWithToken.status).toBe(401);
    expect(badWithToken.body["error"]).toBe("bad_signature");
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);
  });
});

describe("serve: bad input gets a clear JSON error and never a Job", () => {
  it("answers each kind of bad body with its status", async () => {
    harness = await startHarness({ env: { ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES: "4096" } });
    const cases: { name: string; status: number; error: string; send: Parameters<Harness["post"]> }[] = [
      {
        name: "malformed JSON",
        status: 400,
        error: "malformed_json",
        send: [null, { raw: '{"schemaVersion": "1",' }],
      },
      { name: "empty body", status: 400, error: "malformed_json", send: [null, { raw: "" }] },
      {
        name: "revision as a number",
        status: 422,
        error: "invalid_notification",
        send: [{ ...COMPACT, revision: 7 }],
      },
      {
        name: "missing canaryPodHash",
        status: 422,
        error: "invalid_notification",
        send: [{ ...COMPACT, canaryPodHash: undefined }],
      },
      {
        name: "unknown event",
        status: 422,
        error: "invalid_notification",
        send: [{ ...COMPACT, event: "rollout-paused" }],
      },
      {
        name: "bad namespace",
        status: 422,
        error: "invalid_notification",
        send: [{ ...COMPACT, namespace: "../etc" }],
      },
      { name: "array body", status: 422, error: "invalid_notification", send: [[COMPACT]] },
      { name: "JSON string", status: 422, error: "invalid_notification", send: ["rollout-aborted"] },
      {
        name: "path and body disagree",
        status: 422,
        error: "invalid_notification",
        send: [COMPACT, { path: "/v1/rollout-events/analysis-run-failed" }],
      },
      {
        name: "unknown path event",
        status: 422,
        error: "invalid_notification",
        send: [COMPACT, { path: "/v1/rollout-events/boom" }],
      },
      {
        name: "rollout dump without status",
        status: 422,
        error: "invalid_notification",
        send: [{ rollout: { metadata: {} } }],
      },
      {
        name: "oversized body",
        status: 413,
        error: "too_large",
        send: [{ ...COMPACT, padding: "x".repeat(8192) }],
      },
      {
        name: "text/plain",
        status: 415,
        error: "unsupported_media_type",
        send: [COMPACT, { headers: { "content-type": "text/plain" } }],
      },
      {
        name: "form encoded",
        status: 415,
        error: "unsupported_media_type",
        send: [null, { raw: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } }],
      },
    ];
    for (const { name, status, error, send } of cases) {
      const answer = await harness.post(...send);
      expect(answer.status, name).toBe(status);
      expect(answer.body["error"], name).toBe(error);
      expect(typeof answer.body["message"], name).toBe("string");
    }
    const invalid = await harness.post({ ...COMPACT, revision: 7 });
    expect(invalid.body["message"]).toMatch(/^revision: /);
    expect(invalid.body["issues"]).toEqual([{ path: "revision", message: expect.any(String) }]);
    await harness.settle();
    expect(harness.jobs()).toHaveLength(0);
    expect(harness.serve.metrics.rejected.get("invalid_notification")).toBeGreaterThan(5);
  });

  it("answers a body without Content-Type 415 and a chunked oversized body 413", async () => {
    harness = await startHarness({ env: { ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES: "4096" } });
    const noType = await fetch(`${harness.serve.url}/v1/rollout-events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: new Blob([JSON.stringify(COMPACT)]),
    });
    expect(noType.status).toBe(415);
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const chunked = await fetch(`${harness.serve.url}/v1/rollout-events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(harness.jobs()).toHaveLength(0);
  });
});

describe("serve: limits", () => {
  it("rate-limits new failures per Rollout and overall with 429 and Retry-After", async () => {
    harness = await startHarness({
      env: { ROLLOUT_MEDIC_RATE_PER_ROLLOUT_PER_HOUR: "2", ROLLOUT_MEDIC_RATE_GLOBAL_PER_MINUTE: "3" },
    });
    const revision = (r: string, name = "checkout") => ({ ...COMPACT, name, revision: r });
    expect((await harness.post(revision("1"))).status).toBe(202);
    expect((await harness.post(revision("2"))).status).toBe(202);
    const perRollout = await harness.post(revision("3"));
    expect(perRollout.status).toBe(429);
    expect(perRollout.body["error"]).toBe("rate_limited_rollout");
    expect(Number(perRollout.headers.get("retry-after"))).toBeGreaterThan(0);
    // Duplicates of accepted failures are not limited.
    expect((await harness.post(revision("1"))).body["status"]).toBe("duplicate");
    expect((await harness.post(revision("1", "cart"))).status).toBe(202);
    const global = await harness.post(revision("1", "payments"));
    expect(global.status).toBe(429);
    expect(global.body["error"]).toBe("rate_limited_global");
    await harness.settle();
    expect(harness.jobs()).toHaveLength(3);
  });

  it("answers 503 when too many Jobs wait to be created", async () => {
    const double = await startDouble();
    double.setFault("/apis/batch/v1/namespaces/rollout-medic/jobs", { hang: true }, { method: "POST" });
    harness = await startHarness({ double, env: { ROLLOUT_MEDIC_MAX_PENDING_JOBS: "2" } });
    try {
      expect((await harness.post({ ...COMPACT, revision: "1" })).status).toBe(202);
      expect((await harness.post({ ...COMPACT, revision: "2" })).status).toBe(202);
      const busy = await harness.post({ ...COMPACT, revision: "3" });
      expect(busy.status).toBe(503);
      expect(busy.body["error"]).toBe("overloaded");
      expect(busy.headers.get("retry-after")).toBe("5");
    } finally {
      await harness.serve.app.close();
      harness = undefined;
      await double.close();
    }
  });
});

describe("serve: failures of the Kubernetes API", () => {
  it("retries a 5xx, gives up on a 403 and lets a redelivery try again", async () => {
    harness = await startHarness();
    const path = "/apis/batch/v1/namespaces/rollout-medic/jobs";
    harness.double.setFault(path, { status: 503 }, { method: "POST", times: 2 });
    expect((await harness.post(COMPACT)).status).toBe(202);
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);

    const other = { ...COMPACT, revision: "8", canaryPodHash: "5c9b8f7d6d" };
    harness.double.setFault(path, { status: 403 }, { method: "POST" });
    expect((await harness.post(other)).status).toBe(202);
    await harness.settle();
    expect(harness.serve.metrics.jobCreateFailures).toBe(1);
    expect(harness.jobs()).toHaveLength(1);
    harness.double.clearFaults();
    expect((await harness.post(other)).body["status"]).toBe("accepted");
    await harness.settle();
    expect(harness.jobs()).toHaveLength(2);
  });

  it("creates the Job even when the Event cannot be recorded", async () => {
    harness = await startHarness();
    harness.double.setFault("/api/v1/namespaces/shop/events", { status: 403 }, { method: "POST" });
    await harness.post(COMPACT);
    await harness.settle();
    expect(harness.jobs()).toHaveLength(1);
    expect(harness.serve.metrics.eventRecordFailures).toBe(1);
  });
});

describe("serve: health, readiness, metrics and shutdown", () => {
  it("reports health, readiness from the Kubernetes API and Prometheus metrics", async () => {
    harness = await startHarness();
    const get = (path: string) => fetch(`${harness!.serve.url}${path}`);
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
    await harness.post(COMPACT);
    await harness.post(COMPACT);
    await harness.post({ ...COMPACT, revision: "x" });
    await harness.settle();
    const metrics = await get("/metrics");
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain("rollout_medic_notifications_received_total 3");
    expect(text).toContain("rollout_medic_notifications_duplicate_total 1");
    expect(text).toContain('rollout_medic_notifications_rejected_total{reason="invalid_notification"} 1');
    expect(text).toContain("rollout_medic_jobs_created_total 1");
    expect(text).toMatch(/rollout_medic_notification_duration_seconds_count 3\n/);
    expect(text).toMatch(/# TYPE rollout_medic_notification_duration_seconds histogram/);
  });

  it("is not ready when the Kubernetes API fails", async () => {
    const double = await startDouble();
    double.setFault("/version", { status: 500 });
    harness = await startHarness({ double });
    try {
      const answer = await fetch(`${harness.serve.url}/readyz`);
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { error: string }).error).toBe("not_ready");
    } finally {
      await harness.close();
      harness = undefined;
      await double.close();
    }
  });

  it("finishes accepted Job creations on shutdown and then stops accepting", async () => {
    const double = await startDouble();
    // A slow API server: the Job is created 300 ms after the notification was answered.
    double.route("POST", "/apis/batch/v1/namespaces/{namespace}/jobs", async (context) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = context.store.create(
        context.store.typeOf("batch", "jobs")!,
        context.params["namespace"]!,
        context.body as never,
      );
      return created ? { status: 201, body: created } : { status: 409, body: {} };
    });
    harness = await startHarness({ double });
    try {
      expect((await harness.post(COMPACT)).status).toBe(202);
      const url = harness.serve.url;
      const { drained } = await harness.serve.close();
      expect(drained).toBe(true);
      expect(harness.jobs()).toHaveLength(1);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      harness = undefined;
      await double.close();
    }
  });
});
