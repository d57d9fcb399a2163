import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { once } from "node:events";
import { stringify } from "yaml";
import type { Cluster } from "../cluster/cluster.js";
import type { KubeObject } from "../cluster/kube-object.js";
import type { Config } from "../config.js";
import { ConfigError, EXIT } from "../errors.js";
import { gatherIncident } from "../incident/gather-incident.js";
import { isKnownSidecar } from "../incident/read-objects.js";
import { createLogger } from "../logger.js";
import { readLogLines } from "../logs/reduce-logs.js";
import { redactLine } from "../redaction/redact-secrets.js";
import type { LiveOptions } from "./live-options.js";
import { openLiveCluster } from "./open-live-cluster.js";

/** Enough of a log to replay the failure without copying a day of traffic into a bug report. */
const SNAPSHOT_TAIL_LINES = 20_000;

/** Writes a live Rollout's failure as a scenario folder (redacted) that `dry-run` can replay. */
export async function snapshotCommand(
  options: LiveOptions & { out: string },
  config: Config,
): Promise<number> {
  const out = path.resolve(options.out);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new ConfigError(`${options.out} is not empty: choose a new folder for the scenario`);
  }
  const ref = { namespace: options.namespace, name: options.rollout };
  const logger = createLogger(config.logLevel, { rollout: `${ref.namespace}/${ref.name}`, mode: "snapshot" });
  const cluster = await openLiveCluster(options, config);
  const incident = await gatherIncident(cluster, ref, {
    logTokenBudget: config.gather.logTokenBudget,
    logger,
  });

  mkdirSync(path.join(out, "cluster"), { recursive: true });
  const name = `${ref.namespace}-${ref.name}-${incident.rollout.revision ?? "0"}`;
  writeFileSync(
    path.join(out, "scenario.yaml"),
    stringify({
      name,
      description: `Snapshot of ${ref.namespace}/${ref.name} revision ${incident.rollout.revision ?? "?"} taken ${incident.gatheredAt}`,
      rollout: ref,
    }),
  );
  const write = (file: string, objects: KubeObject[]) => {
    if (objects.length === 0) return;
    writeFileSync(path.join(out, "cluster", file), objects.map((o) => stringify(o)).join("---\n"));
  };
  write("rollout.yaml", [incident.raw.rollout]);
  write("replicasets.yaml", incident.raw.replicaSets);
  write("pods.yaml", incident.raw.pods);
  write("analysisruns.yaml", incident.raw.analysisRuns);
  write("events.yaml", incident.raw.events);

  let logs = 0;
  for (const pod of incident.pods) {
    for (const container of pod.containers) {
      if (container.init || isKnownSidecar(container.name)) continue;
      for (const previous of [false, true]) {
        if (await writeLog(cluster, out, ref.namespace, pod.name, container.name, previous)) logs++;
      }
    }
  }
  logger.info(
    { out, objects: 1 + incident.raw.replicaSets.length + incident.raw.pods.length, logs },
    "snapshot written",
  );
  process.stdout.write(`${out}\n`);
  return EXIT.ok;
}

async function writeLog(
  cluster: Cluster,
  out: string,
  namespace: string,
  pod: string,
  container: string,
  previous: boolean,
): Promise<boolean> {
  const stream = await cluster.openLog({
    namespace,
    pod,
    container,
    previous,
    tailLines: SNAPSHOT_TAIL_LINES,
  });
  if (!stream) return false;
  const dir = path.join(out, "logs", pod);
  mkdirSync(dir, { recursive: true });
  const file = createWriteStream(path.join(dir, `${container}${previous ? ".previous" : ""}.log`));
  for await (const line of readLogLines(stream)) {
    if (!file.write(`${redactLine(line)}\n`)) await once(file, "drain");
  }
  file.end();
  await once(file, "finish");
  return true;
}
