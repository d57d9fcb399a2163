import type { Cluster } from "../cluster/cluster.js";
import type { Config } from "../config.js";
import { DEFAULT_DELIVERY_LIMITS } from "../delivery/delivery-limits.js";
import { describeOutcome, exitCodeForOutcome } from "../delivery/delivery-outcome.js";
import type { DeliveryOutcome } from "../delivery/delivery-outcome.js";
import { deliver } from "../delivery/deliver.js";
import { DryRunEventRecorder, recordOutcomeEvent } from "../delivery/rollout-event.js";
import type { RolloutEventRecorder } from "../delivery/rollout-event.js";
import { diagnose } from "../diagnosis/diagnose.js";
import { ConfigError } from "../errors.js";
import { DryRunForge } from "../forge/dry-run-forge.js";
import type { Forge } from "../forge/forge.js";
import { GitHubForge, gitHostForApi } from "../forge/github-forge.js";
import { gatherIncident } from "../incident/gather-incident.js";
import { createLogger } from "../logger.js";
import { packageInfo } from "../package-root.js";
import { remediate } from "../pipeline/remediate.js";
import type { RemediationResult } from "../pipeline/remediation-result.js";
import { loadRepositoryMapping } from "../repository/repository-mapping.js";
import type { RepositoryTarget } from "../repository/repository-target.js";
import { resolveRepository } from "../repository/resolve-repository.js";
import { cloneRepository } from "../workspace/clone-repository.js";
import type { CloneProtocol } from "../workspace/clone-repository.js";
import type { LiveOptions } from "./live-options.js";
import { createAgentModel } from "./model-option.js";
import type { ModelOptions } from "./model-option.js";
import { openLiveCluster } from "./open-live-cluster.js";

export interface RunOptions extends LiveOptions, ModelOptions {
  /** Selects the DryRunForge: everything runs, nothing is pushed or opened. */
  dryRun?: boolean;
  json?: boolean;
  /** The revision the notification was about: a Rollout now at another revision has nothing to do. */
  revision?: string;
  fullClone?: boolean;
}

/** Injected by tests; the command itself builds the real ones. */
export interface RunSeams {
  cluster?: Cluster;
  /** Where the outcome's Event on the Rollout goes; default: the Kubernetes API, or the dry run's log. */
  events?: RolloutEventRecorder;
  print?: (text: string) => void;
}

interface RunSummary {
  rollout: { namespace: string; name: string; revision: string | null };
  dryRun: boolean;
  repository: { url: string; baseBranch: string | null; source: string; detail: string } | null;
  diagnosis: { category: string; summary: string; confidence: number } | null;
  fix: { strategy: string; fixer: string; files: string[] } | null;
  outcome: DeliveryOutcome;
  exitCode: number;
  /** What the dry run would have done, as `DRY-RUN: would …` lines. */
  actions: string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

/**
 * `rollout-medic run`: the whole pipeline against a live cluster and a real forge. The seams are chosen
 * here and only here: the Kubernetes cluster, the clone as Workspace, GitHub or the DryRunForge
 * (`--dry-run`), the Event recorder (the Kubernetes API, or the dry run's log), and the model from
 * configuration or `--model`.
 */
export async function runCommand(options: RunOptions, config: Config, seams: RunSeams = {}): Promise<number> {
  const ref = { namespace: options.namespace, name: options.rollout };
  const dryRun = options.dryRun === true;
  const logger = createLogger(config.logLevel, {
    rollout: `${ref.namespace}/${ref.name}`,
    mode: dryRun ? "run-dry" : "run",
  });
  const print = seams.print ?? ((text: string) => void process.stdout.write(text));
  const settings = config.delivery;

  if (!dryRun && !settings.github.auth) {
    throw new ConfigError(
      "no GitHub credentials: set GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID (or use --dry-run)",
    );
  }
  const github = settings.github.auth
    ? new GitHubForge({ apiUrl: settings.github.apiUrl, auth: settings.github.auth, logger })
    : null;
  const actions: string[] = [];
  const forge: Forge = dryRun ? new DryRunForge(logger, (line) => actions.push(line)) : github!;
  const events: RolloutEventRecorder =
    seams.events ??
    (dryRun
      ? new DryRunEventRecorder(logger, (line) => actions.push(line))
      : kubernetesEventRecorder(options, config));
  const cluster = seams.cluster ?? (await openLiveCluster(options, config));

  const finish = (
    summary: Omit<RunSummary, "exitCode" | "actions" | "dryRun" | "rollout"> & { revision: string | null },
  ) => {
    const exitCode = exitCodeForOutcome(summary.outcome);
    const full: RunSummary = {
      rollout: { ...ref, revision: summary.revision },
      dryRun,
      repository: summary.repository,
      diagnosis: summary.diagnosis,
      fix: summary.fix,
      outcome: summary.outcome,
      exitCode,
      actions,
    };
    if (options.json) print(`${JSON.stringify(full, null, 2)}\n`);
    else
      print(
        `${actions.map((line) => `${line}\n`).join("")}${ref.namespace}/${ref.name}: ${describeOutcome(summary.outcome)}\n`,
      );
    return exitCode;
  };

  const rollout = await cluster.findRollout(ref);
  if (!rollout) {
    logger.info("the Rollout no longer exists");
    return finish({
      revision: null,
      repository: null,
      diagnosis: null,
      fix: null,
      outcome: { kind: "nothing-to-do", reason: "the Rollout no longer exists" },
    });
  }

  const forgeHost = gitHostForApi(settings.github.apiUrl);
  const resolution = await resolveRepository({
    rollout,
    forgeHost,
    mapping: settings.repoMappingFile ? loadRepositoryMapping(settings.repoMappingFile) : null,
    ...(settings.repoMappingFile ? { mappingSource: settings.repoMappingFile } : {}),
    cluster,
    argocdNamespace: settings.argocdNamespace,
  });
  if (resolution.kind === "opted-out") {
    return finish({
      revision: null,
      repository: null,
      diagnosis: null,
      fix: null,
      outcome: { kind: "nothing-to-do", reason: resolution.reason },
    });
  }

  // Re-read before doing anything costly: a notification can arrive after the Rollout recovered or moved on.
  const incident = await gatherIncident(cluster, ref, {
    logTokenBudget: config.gather.logTokenBudget,
    logger,
  });
  const revision = incident.rollout.revision ?? null;
  const diagnosis = diagnose(incident);
  if (diagnosis.category === "not-failed") {
    return finish({
      revision,
      repository: null,
      diagnosis: summaryOf(diagnosis),
      fix: null,
      outcome: { kind: "nothing-to-do", reason: `${ref.namespace}/${ref.name} is not failed` },
    });
  }
  if (options.revision !== undefined && revision !== null && options.revision !== revision) {
    return finish({
      revision,
      repository: null,
      diagnosis: summaryOf(diagnosis),
      fix: null,
      outcome: {
        kind: "nothing-to-do",
        reason: `the Rollout is at revision ${revision} now, not ${options.revision}`,
      },
    });
  }
  if (resolution.kind === "unknown") {
    throw new ConfigError(`${resolution.reason} (tried: ${resolution.tried.join("; ")})`);
  }

  const model = await createAgentModel(config, options);
  const target = resolution.target;
  logger.info(
    { repository: target.url, source: target.source, baseBranch: target.baseBranch },
    "repository resolved",
  );
  const workspace = await cloneRepository({
    url: target.url,
    ...(target.baseBranch ? { baseBranch: target.baseBranch } : {}),
    mode: options.fullClone ? "full" : settings.clone.mode,
    depth: settings.clone.depth,
    ...(github ? { credentials: github.gitCredentials() } : {}),
    protocols: protocolsFor(target),
    timeoutMs: settings.clone.timeoutMs,
    maxFileBytes: config.policy.maxFileBytes,
    logger,
  });
  try {
    const version = packageInfo().version;
    const result = await remediate({
      cluster,
      ref,
      config,
      logger,
      workspace,
      ...(target.paths.length > 0 ? { allowPaths: target.paths } : {}),
      version,
      model,
    });
    const outcome = await deliver({
      result,
      forge,
      repo: { owner: target.owner, repo: target.repo },
      workspace,
      bot: settings.bot,
      limits: { ...DEFAULT_DELIVERY_LIMITS, ...settings.limits },
      version,
      logger,
    });
    logger.info({ outcome: outcome.kind }, "delivered");
    await recordOutcomeEvent(
      events,
      outcome,
      {
        rollout: { ...ref, ...(rollout.metadata.uid ? { uid: rollout.metadata.uid } : {}) },
        category: result.diagnosis.category,
        revision: result.incident.rollout.revision ?? revision,
      },
      logger,
    );
    return finish({
      revision: result.incident.rollout.revision ?? revision,
      repository: describeTarget(target),
      diagnosis: summaryOf(result.diagnosis),
      fix: fixOf(result),
      outcome,
    });
  } finally {
    await workspace.dispose();
  }
}

/**
 * Events through the Kubernetes API (create events: agent/jobs/record-rollout-event.ts, in the agent's RBAC).
 * The client is loaded and opened only when there is an Event to record, and closed after it.
 */
function kubernetesEventRecorder(options: LiveOptions, config: Config): RolloutEventRecorder {
  return {
    async record(event) {
      const [{ createKubeApiClient }, { recordRolloutEvent }] = await Promise.all([
        import("../jobs/kube-api-client.js"),
        import("../jobs/record-rollout-event.js"),
      ]);
      const kubeconfigPath = options.kubeconfig ?? config.kubeconfig;
      const client = createKubeApiClient({
        ...(kubeconfigPath ? { kubeconfigPath } : {}),
        ...(options.context ? { context: options.context } : {}),
      });
      try {
        await recordRolloutEvent(client, event);
      } finally {
        client.close();
      }
    },
  };
}

/** https always; plain http only to a loopback address (a port-forward or a test server), never across a network. */
function protocolsFor(target: RepositoryTarget): CloneProtocol[] {
  return target.url.startsWith("http://") && LOOPBACK.test(target.host) ? ["https", "http"] : ["https"];
}

function describeTarget(target: RepositoryTarget): RunSummary["repository"] {
  return { url: target.url, baseBranch: target.baseBranch, source: target.source, detail: target.detail };
}

function summaryOf(diagnosis: {
  category: string;
  summary: string;
  confidence: number;
}): RunSummary["diagnosis"] {
  return { category: diagnosis.category, summary: diagnosis.summary, confidence: diagnosis.confidence };
}

function fixOf(result: RemediationResult): RunSummary["fix"] {
  return result.fix
    ? { strategy: result.fix.strategy, fixer: result.fix.fixer, files: result.fix.files }
    : null;
}
