import type { Cluster } from "../cluster/cluster.js";
import type { Config } from "../config.js";
import type { LiveOptions } from "./live-options.js";

/** The Kubernetes client costs about half a second to load: only live commands pay for it. */
export async function openLiveCluster(options: LiveOptions, config: Config): Promise<Cluster> {
  const { createKubernetesCluster } = await import("../cluster/kubernetes-cluster.js");
  return createKubernetesCluster({
    kubeconfigPath: options.kubeconfig ?? config.kubeconfig,
    context: options.context,
  });
}
