import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeApiDouble } from "../helpers/kube-api-double.js";
import { COMPACT, TOKEN, startDouble } from "./serve-harness.js";

const CLI = path.resolve(import.meta.dirname, "../../dist/agent/cli/main.js");
if (!existsSync(CLI)) console.warn("[serve-cli] SKIPPED: dist/ is not built (npm run build)");

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, [CLI, "serve", "--host", "127.0.0.1", ...args], {
    env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

let double: KubeApiDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

describe.skipIf(!existsSync(CLI))("serve: the command", () => {
  it("serves until SIGTERM, then finishes the Job it accepted and exits 0", async () => {
    double = await startDouble();
    const port = await freePort();
    const serve = run(
      {
        KUBECONFIG: double.kubeconfigPath,
        ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN,
        ROLLOUT_MEDIC_JOB_IMAGE: "registry.invalid/medic:1",
      },
      ["--port", String(port)],
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        const up = await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const answer = await fetch(`${url}/v1/rollout-events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(COMPACT),
      });
      expect(answer.status).toBe(202);
      serve.child.kill("SIGTERM");
      expect(await serve.exited).toBe(0);
      expect(double.store.list(double.store.typeOf("batch", "jobs")!, "rollout-medic")).toHaveLength(1);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill("SIGKILL");
    }
  }, 30_000);

  it("refuses to start without credentials or a Job image (exit 78)", async () => {
    double = await startDouble();
    const noToken = run(
      { KUBECONFIG: double.kubeconfigPath, ROLLOUT_MEDIC_JOB_IMAGE: "registry.invalid/medic:1" },
      ["--port", "0"],
    );
    expect(await noToken.exited).toBe(78);
    expect(noToken.stderr()).toContain("no webhook credential is set");
    const noImage = run({ KUBECONFIG: double.kubeconfigPath, ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN }, [
      "--port",
      "0",
    ]);
    expect(await noImage.exited).toBe(78);
    expect(noImage.stderr()).toContain("ROLLOUT_MEDIC_JOB_IMAGE");
    const shortToken = run({ KUBECONFIG: double.kubeconfigPath, ROLLOUT_MEDIC_WEBHOOK_TOKEN: "short" }, [
      "--port",
      "0",
    ]);
    expect(await shortToken.exited).toBe(78);
    const badPort = run({ KUBECONFIG: double.kubeconfigPath, ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN }, [
      "--port",
      "http",
    ]);
    expect(await badPort.exited).toBe(78);
  }, 30_000);
});
