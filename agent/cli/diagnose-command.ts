import type { Config } from "../config.js";
import { diagnose } from "../diagnosis/diagnose.js";
import { EXIT } from "../errors.js";
import { gatherIncident } from "../incident/gather-incident.js";
import { createLogger } from "../logger.js";
import { toDryRunJson } from "../pipeline/remediation-result.js";
import { renderReport } from "../render/render-report.js";
import type { LiveOptions } from "./live-options.js";
import { openLiveCluster } from "./open-live-cluster.js";

/** Read-only: gathers and diagnoses; proposes nothing. */
export async function diagnoseCommand(
  options: LiveOptions & { json?: boolean },
  config: Config,
): Promise<number> {
  const ref = { namespace: options.namespace, name: options.rollout };
  const logger = createLogger(config.logLevel, { rollout: `${ref.namespace}/${ref.name}`, mode: "diagnose" });
  const cluster = await openLiveCluster(options, config);
  const incident = await gatherIncident(cluster, ref, {
    logTokenBudget: config.gather.logTokenBudget,
    logger,
  });
  const diagnosis = diagnose(incident);
  const result = { incident, diagnosis, fix: null, noFix: null, pullRequest: null, issue: null };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(toDryRunJson(result), null, 2)}\n`);
  } else {
    const color = config.color === "always" || (config.color === "auto" && process.stdout.isTTY === true);
    process.stdout.write(`${renderReport({ ...result, color })}\n`);
  }
  return EXIT.ok;
}
