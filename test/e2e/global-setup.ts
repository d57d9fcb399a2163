/**
 * vitest globalSetup of the end-to-end tier: builds (or finds) the real-cluster binaries and starts ONE
 * cluster for the whole run; every test file connects to it through `inject("realCluster")` and works in
 * its own namespaces. Where Go is missing the tier is skipped with a message instead of failing.
 */
import type { TestProject } from "vitest/node";
import {
  ensureRealClusterBinaries,
  realClusterConnection,
  startRealCluster,
  type RealCluster,
} from "./harness/real-cluster.js";
// Type-only: brings the ProvidedContext augmentation without loading vitest's runtime here.
import type { SharedRealCluster } from "./harness/shared-cluster.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureRealClusterBinaries();
  if (!binaries.available) {
    console.warn(`[e2e] SKIPPED: real Kubernetes components unavailable: ${binaries.reason}`);
    project.provide("realCluster", { available: false, reason: binaries.reason });
    return async () => undefined;
  }
  // A start failure throws and fails the run (the binaries exist, so something is broken): no skip.
  const cluster: RealCluster = await startRealCluster({
    binDir: binaries.bin,
    log: (m) => console.log(`[real-cluster] ${m}`),
  });
  const v = cluster.versions;
  console.log(`[e2e] cluster started in ${(cluster.startupMs / 1000).toFixed(1)} s at ${cluster.server}`);
  console.log(
    `[e2e] kube-apiserver /version: ${v.kubernetes} (${String(v.kubernetesVersionInfo.goVersion ?? "")}, ${String(v.kubernetesVersionInfo.platform ?? "")})`,
  );
  console.log(`[e2e] rollouts-controller --version: ${v.rollouts}`);
  console.log(`[e2e] etcd: ${v.etcd}; kwok: ${v.kwok}`);
  const shared: SharedRealCluster = { available: true, connection: realClusterConnection(cluster) };
  project.provide("realCluster", shared);
  return async () => {
    await cluster.stop();
    console.log("[e2e] cluster stopped");
  };
}
