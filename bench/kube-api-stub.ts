import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/**
 * The smallest Kubernetes API the receiver needs, for the benchmark (test/helpers is not built into
 * dist): Jobs created once by name (AlreadyExists after), Events, /version, and no template ConfigMap.
 */
export interface KubeApiStub {
  kubeconfigPath: string;
  jobsCreated: () => number;
  jobCreateAttempts: () => number;
  close(): Promise<void>;
}

export async function startKubeApiStub(dir: string): Promise<KubeApiStub> {
  const token = "bench-token";
  const jobs = new Map<string, unknown>();
  let attempts = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { kind: "Status", code: 401 });
      const url = req.url ?? "/";
      if (req.method === "GET" && url === "/version") return send(200, { gitVersion: "v1.34.4" });
      const job = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/?]+))?$/.exec(url);
      if (job && req.method === "POST") {
        attempts++;
        const object = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { metadata: { name: string } };
        const key = `${job[1]}/${object.metadata.name}`;
        if (jobs.has(key)) return send(409, { kind: "Status", code: 409, reason: "AlreadyExists" });
        jobs.set(key, object);
        return send(201, object);
      }
      if (job && req.method === "GET" && job[2]) {
        const object = jobs.get(`${job[1]}/${job[2]}`);
        return object
          ? send(200, object)
          : send(404, { kind: "Status", code: 404, details: { name: job[2] } });
      }
      if (req.method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/events$/.test(url)) {
        return send(201, JSON.parse(Buffer.concat(chunks).toString("utf8")));
      }
      return send(404, { kind: "Status", code: 404, message: "not found", details: { name: "x" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigPath = path.join(dir, "kubeconfig.json");
  writeFileSync(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "stub", cluster: { server: url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "stub", user: { token } }],
      contexts: [{ name: "stub", context: { cluster: "stub", user: "stub" } }],
      "current-context": "stub",
    }),
  );
  return {
    kubeconfigPath,
    jobsCreated: () => jobs.size,
    jobCreateAttempts: () => attempts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
