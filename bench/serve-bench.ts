import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import type { Benchmark } from "./benchmark.js";
import { figure } from "./benchmark.js";
import { startKubeApiStub } from "./kube-api-stub.js";

const TOKEN = "bench-webhook-token-0123456789";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** CPU seconds a process has used (Linux /proc), or null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

interface Answer {
  status: number;
  ms: number;
}

function post(agent: http.Agent, port: number, body: string): Promise<Answer> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/rollout-events",
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
        );
      },
    );
    request.on("error", () => resolve({ status: -1, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    request.end(body);
  });
}

/** Notifications in the order sent: one new failure in ten, the rest repeats of recent ones. */
function workload(count: number): { bodies: string[]; unique: number } {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const failures: string[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) {
      const n = failures.length;
      failures.push(
        JSON.stringify({
          schemaVersion: "1",
          event: n % 3 === 0 ? "analysis-run-failed" : "rollout-aborted",
          namespace: `team-${n % 40}`,
          name: `service-${n % 400}`,
          uid: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
          revision: String(1 + Math.floor(n / 400)),
          canaryPodHash: `c${n.toString(36).padStart(9, "0")}`,
          stablePodHash: "7d4b9c8f6b",
        }),
      );
      bodies.push(failures[n]!);
    } else {
      const recent = Math.max(0, failures.length - 50);
      bodies.push(failures[recent + Math.floor(random() * (failures.length - recent))]!);
    }
  }
  return { bodies, unique: failures.length };
}

/**
 * serve.notifications_per_s, serve.p99_ms and serve.jobs_per_unique_failure: the built `rollout-medic serve`
 * in its own process, fed by node's http client with keep-alive over loopback, against a Kubernetes API stub.
 */
export const serveBench: Benchmark = {
  id: "serve",
  async run(ctx) {
    const count = ctx.quick ? 10_000 : 40_000;
    const connections = 8;
    const stub = await startKubeApiStub(ctx.scratch);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [path.join(ctx.root, "dist/agent/cli/main.js"), "serve", "--host", "127.0.0.1", "--port", String(port)],
      {
        cwd: ctx.root,
        stdio: ["ignore", "ignore", "pipe"],
        env: {
          PATH: process.env["PATH"] ?? "",
          KUBECONFIG: stub.kubeconfigPath,
          LOG_LEVEL: "warn",
          ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN,
          ROLLOUT_MEDIC_JOB_IMAGE: "ghcr.io/rollout-medic/rollout-medic:bench",
          ROLLOUT_MEDIC_JOB_TEMPLATE_CONFIGMAP: "",
          ROLLOUT_MEDIC_RATE_PER_ROLLOUT_PER_HOUR: "100000",
          ROLLOUT_MEDIC_RATE_GLOBAL_PER_MINUTE: "1000000",
          ROLLOUT_MEDIC_MAX_PENDING_JOBS: "100000",
          ROLLOUT_MEDIC_DEDUPE_MAX_ENTRIES: "1000000",
        },
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ready) break;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`serve did not get ready: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { bodies, unique } = workload(count);
      const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
      // Warm-up: the first requests pay for JIT compilation on both sides.
      await Promise.all(Array.from({ length: 200 }, () => post(agent, port, bodies[1]!)));
      const latencies: number[] = [];
      let next = 0;
      let failed = 0;
      const started = Date.now();
      const serverCpuBefore = cpuSeconds(child.pid);
      const clientCpuBefore = process.cpuUsage();
      const timeLimitMs = ctx.quick ? 30_000 : 120_000;
      const worker = async () => {
        while (next < bodies.length && Date.now() - started < timeLimitMs) {
          const answer = await post(agent, port, bodies[next++]!);
          if (answer.status !== 202) failed++;
          latencies.push(answer.ms);
        }
      };
      await Promise.all(Array.from({ length: connections }, worker));
      const elapsedS = (Date.now() - started) / 1000;
      const serverCpuAfter = cpuSeconds(child.pid);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      agent.destroy();
      if (failed > 0) throw new Error(`${failed} notifications were not answered 202`);
      // SIGTERM: the receiver finishes the Job creations it accepted before it exits.
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) throw new Error(`serve exited ${code}: ${stderr}`);
      latencies.sort((a, b) => a - b);
      const sent = latencies.length;
      const uniqueSent = Math.ceil(sent / 10);
      ctx.log(
        `serve: ${sent} notifications (${unique} unique planned, ${uniqueSent} sent) in ${elapsedS.toFixed(1)} s over ${connections} connections; ` +
          `p50 ${percentile(latencies, 50).toFixed(2)} ms; ${stub.jobsCreated()} Jobs from ${stub.jobCreateAttempts()} creations; ` +
          `CPU per notification: receiver ${serverCpuBefore === null || serverCpuAfter === null ? "?" : (((serverCpuAfter - serverCpuBefore) / sent) * 1e6).toFixed(0)} µs, ` +
          `load generator and API stub ${(((clientCpu.user + clientCpu.system) / 1e6 / sent) * 1e6).toFixed(0)} µs`,
      );
      const note = `${sent} notifications, 90% duplicates, ${connections} keep-alive connections, loopback`;
      return [
        figure("serve.notifications_per_s", sent / elapsedS, "req/s", "≥ 2000", null, note),
        figure("serve.p99_ms", percentile(latencies, 99), "ms", "≤ 20", null, "time to the 202 answer"),
        figure(
          "serve.jobs_per_unique_failure",
          stub.jobsCreated() / uniqueSent,
          "ratio",
          "exactly 1",
          null,
          `${uniqueSent} unique failures`,
        ),
      ];
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await stub.close();
    }
  },
};
