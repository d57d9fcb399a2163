import type { Readable } from "node:stream";
import type { KubeObject } from "./kube-object.js";

export interface RolloutRef {
  namespace: string;
  name: string;
}

export interface InvolvedObjectRef {
  kind: string;
  name: string;
  uid?: string;
}

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  previous?: boolean;
  /** Only the last N lines; undefined reads the whole log the API keeps. */
  tailLines?: number;
}

/**
 * Read-only access to the cluster, scoped to what one incident needs.
 * Implementations: the Kubernetes API (`KubernetesCluster`) and a recorded scenario folder (`ScenarioCluster`).
 * Every method is a single API verb on a single resource so that RBAC can be derived from this interface.
 */
export interface Cluster {
  /** Where the data comes from, for messages: "scenario fixtures/oom-killed" or "cluster https://…". */
  readonly source: string;
  /** get rollouts.argoproj.io */
  findRollout(ref: RolloutRef): Promise<KubeObject | null>;
  /** list replicasets.apps with a label selector */
  listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  /** list pods with a label selector */
  listPods(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  /** list analysisruns.argoproj.io with a label selector */
  listAnalysisRuns(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  /** list events with a field selector on involvedObject */
  listEvents(namespace: string, involved: InvolvedObjectRef): Promise<KubeObject[]>;
  /** get pods/log; null when there is no such log (no previous instance, container never started) */
  openLog(request: LogRequest): Promise<Readable | null>;
  /** get analysistemplates.argoproj.io; null when absent */
  findAnalysisTemplate(namespace: string, name: string): Promise<KubeObject | null>;
  /** get applications.argoproj.io (Argo CD); null when absent or when Argo CD is not installed */
  findArgoApplication(namespace: string, name: string): Promise<KubeObject | null>;
}
