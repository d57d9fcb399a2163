import { defineConfig } from "vitest/config";

// End-to-end tier against real Kubernetes components (see docs/real-cluster.md).
// One cluster per test file, started in beforeAll; files run one after another.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 180_000,
    // Cluster start is ~15-60 s on 2 cores; a cold binary build is done by the
    // build script before collection (top-level await), not inside a hook.
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
  },
});
