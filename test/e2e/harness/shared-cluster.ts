import { inject } from "vitest";
import { connectRealCluster, type RealCluster, type RealClusterConnection } from "./real-cluster.js";

/** What test/e2e/global-setup.ts provides: the run's one cluster, or why the tier is skipped. */
export type SharedRealCluster =
  { available: true; connection: RealClusterConnection } | { available: false; reason: string };

declare module "vitest" {
  export interface ProvidedContext {
    realCluster: SharedRealCluster;
  }
}

/**
 * The run's shared cluster, connected from this test file's process. Call at module level so that
 * `describe.skipIf(!shared.available)` can skip a whole file when the tier is unavailable.
 */
export function sharedRealCluster(): SharedRealCluster {
  return inject("realCluster");
}

/** Connects to the shared cluster; throws when the tier is skipped (guard with sharedRealCluster()). */
export function connectSharedCluster(shared: SharedRealCluster): RealCluster {
  if (!shared.available) throw new Error(`real cluster unavailable: ${shared.reason}`);
  return connectRealCluster(shared.connection);
}
