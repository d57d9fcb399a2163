import { createReadStream, existsSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { Scenario } from "../scenario/load-scenario.js";
import type { Cluster, InvolvedObjectRef, LogRequest, RolloutRef } from "./cluster.js";
import type { KubeObject } from "./kube-object.js";
import { matchesLabelSelector } from "./label-selector.js";

const POD_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// Container names are DNS labels: no dots, so "app.previous" can never alias the previous log of "app".
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A recorded cluster: answers the Cluster interface from a scenario folder, as the API server would. */
export class ScenarioCluster implements Cluster {
  readonly source: string;

  constructor(private readonly scenario: Scenario) {
    this.source = `scenario ${path.relative(process.cwd(), scenario.dir) || scenario.dir}`;
  }

  private ofKind(kind: string, namespace: string): KubeObject[] {
    const fallback = this.scenario.manifest.rollout.namespace;
    return (
      this.scenario.objects
        .filter((o) => o.kind === kind && (o.metadata.namespace ?? fallback) === namespace)
        // The API always names the namespace of a namespaced object; recorded files sometimes leave it out.
        .map((o) => (o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace } }))
    );
  }

  async findRollout(ref: RolloutRef): Promise<KubeObject | null> {
    return this.ofKind("Rollout", ref.namespace).find((o) => o.metadata.name === ref.name) ?? null;
  }

  async listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.ofKind("ReplicaSet", namespace).filter((o) =>
      matchesLabelSelector(o.metadata.labels, labelSelector),
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.ofKind("Pod", namespace).filter((o) =>
      matchesLabelSelector(o.metadata.labels, labelSelector),
    );
  }

  async listAnalysisRuns(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.ofKind("AnalysisRun", namespace).filter((o) =>
      matchesLabelSelector(o.metadata.labels, labelSelector),
    );
  }

  async listEvents(namespace: string, involved: InvolvedObjectRef): Promise<KubeObject[]> {
    return this.ofKind("Event", namespace).filter((event) => {
      const target = (event["involvedObject"] ?? {}) as { kind?: string; name?: string; uid?: string };
      if (target.kind !== involved.kind || target.name !== involved.name) return false;
      // As the API's field selector does: with a uid, only events that name that uid match.
      return !involved.uid || target.uid === involved.uid;
    });
  }

  async findAnalysisTemplate(namespace: string, name: string): Promise<KubeObject | null> {
    return this.ofKind("AnalysisTemplate", namespace).find((o) => o.metadata.name === name) ?? null;
  }

  async findArgoApplication(namespace: string, name: string): Promise<KubeObject | null> {
    return this.ofKind("Application", namespace).find((o) => o.metadata.name === name) ?? null;
  }

  async openLog(request: LogRequest): Promise<Readable | null> {
    // Names come from recorded objects: refuse anything that could walk out of logs/.
    if (!POD_NAME.test(request.pod) || request.pod.includes("..") || !CONTAINER_NAME.test(request.container))
      return null;
    const file = path.join(
      this.scenario.logsDir,
      request.pod,
      `${request.container}${request.previous ? ".previous" : ""}.log`,
    );
    if (!existsSync(file)) return null;
    // Bytes, not text: the log reader splits lines on bytes and decodes only what it keeps.
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    if (request.tailLines === undefined) return stream;
    return Readable.from(tail(stream, request.tailLines));
  }
}

async function* tail(stream: Readable, count: number): AsyncGenerator<string> {
  const ring: string[] = [];
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    ring.push(line);
    if (ring.length > count) ring.shift();
  }
  for (const line of ring) yield `${line}\n`;
}
