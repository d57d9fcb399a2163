import { defineConfig } from "vitest/config";

// End-to-end tier against real Kubernetes components (see docs/real-cluster.md).
// ONE cluster per run, started by the globalSetup (which also runs the build script first, so a cold
// build happens before any test and outside every timeout); each test works in its own namespace.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    pool: "forks",
    // The tests share one cluster and one Argo Rollouts notification ConfigMap: one at a time.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
