import { setTimeout as sleep } from "node:timers/promises";
import { createRemediationJob } from "../jobs/create-remediation-job.js";
import { buildRemediationJob } from "../jobs/job-template.js";
import type { JobTemplateSource } from "../jobs/job-template-source.js";
import { isRetryable } from "../jobs/kube-api-client.js";
import type { KubeApiClient } from "../jobs/kube-api-client.js";
import { recordRolloutEvent } from "../jobs/record-rollout-event.js";
import { failureKey, jobNameFor } from "../jobs/rollout-failure.js";
import type { RolloutFailure } from "../jobs/rollout-failure.js";
import type { Logger } from "../logger.js";
import { KeyedRateLimiter, TokenBucket } from "./rate-limiter.js";
import type { ServeMetrics } from "./serve-metrics.js";
import { TtlLru } from "./ttl-lru.js";

export type SubmitResult =
  | { status: "accepted" | "duplicate"; job: string }
  | { status: "rate_limited_rollout" | "rate_limited_global" | "overloaded"; retryAfterSeconds: number };

export interface JobDispatcherOptions {
  client: KubeApiClient;
  templates: JobTemplateSource;
  /** Namespace of the Jobs. */
  namespace: string;
  metrics: ServeMetrics;
  logger: Logger;
  dedupe: { ttlMs: number; maxEntries: number };
  rateLimit: { perRolloutPerHour: number; globalPerMinute: number };
  maxPendingJobs: number;
  /** Job creations in flight at once. */
  concurrency?: number;
  /** Tries per Job for 429, 5xx and network failures. */
  attempts?: number;
  retryDelayMs?: number;
  reportingInstance?: string;
  now?: () => number;
}

/**
 * Decides, synchronously and so atomically within this process, whether a notification is a new failure;
 * then creates its Job after the answer has gone. Across replicas the deterministic Job name does the
 * deduplication: the second creation is answered AlreadyExists.
 */
export class JobDispatcher {
  private readonly seen: TtlLru<string>;
  private readonly perRollout: KeyedRateLimiter;
  private readonly global: TokenBucket;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private pending = 0;
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: JobDispatcherOptions) {
    const now = options.now ?? Date.now;
    this.seen = new TtlLru(options.dedupe.maxEntries, options.dedupe.ttlMs, now);
    this.perRollout = new KeyedRateLimiter(options.rateLimit.perRolloutPerHour, 3_600_000, 10_000, now);
    this.global = new TokenBucket(options.rateLimit.globalPerMinute, 60_000, now);
    this.concurrency = options.concurrency ?? 8;
    this.attempts = options.attempts ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  get pendingJobs(): number {
    return this.pending;
  }

  submit(failure: RolloutFailure): SubmitResult {
    const key = failureKey(failure);
    const seen = this.seen.get(key);
    if (seen !== undefined) return { status: "duplicate", job: seen };
    const job = jobNameFor(failure);
    if (this.pending >= this.options.maxPendingJobs) return { status: "overloaded", retryAfterSeconds: 5 };
    const rolloutBucket = this.perRollout.bucket(`${failure.namespace}/${failure.name}`);
    if (!rolloutBucket.available()) {
      return { status: "rate_limited_rollout", retryAfterSeconds: Math.ceil(rolloutBucket.waitMs() / 1000) };
    }
    if (!this.global.available()) {
      return { status: "rate_limited_global", retryAfterSeconds: Math.ceil(this.global.waitMs() / 1000) };
    }
    rolloutBucket.take();
    this.global.take();
    this.seen.set(key, job);
    this.pending++;
    this.options.metrics.pendingJobs = this.pending;
    const work = this.dispatch(failure, key).finally(() => {
      this.pending--;
      this.options.metrics.pendingJobs = this.pending;
      this.inFlight.delete(work);
    });
    this.inFlight.add(work);
    return { status: "accepted", job };
  }

  /** Waits for the Job creations already accepted; false when the time ran out first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), left);
      });
      const result = await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
      clearTimeout(timer);
      if (result === "timeout") return false;
    }
    return true;
  }

  private async slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  private async dispatch(failure: RolloutFailure, key: string): Promise<void> {
    // Never on the request's tick: the answer goes out first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.slot();
    const { logger, metrics } = this.options;
    const log = logger.child({ rollout: `${failure.namespace}/${failure.name}`, revision: failure.revision });
    try {
      const outcome = await this.withRetries(async () => {
        const template = await this.options.templates.get();
        const job = buildRemediationJob(template.job, failure, this.options.namespace);
        return { job, result: await createRemediationJob(this.options.client, job) };
      });
      if (outcome.result === "exists") {
        metrics.jobsAlreadyExisted++;
        log.debug({ job: outcome.job.metadata.name }, "job already exists");
        return;
      }
      metrics.jobsCreated++;
      log.info({ job: outcome.job.metadata.name, event: failure.event }, "remediation job created");
      await this.recordEvent(failure, outcome.job.metadata.name, log);
    } catch (error) {
      // Forget the failure so that a redelivery of the notification tries again.
      this.seen.delete(key);
      metrics.jobCreateFailures++;
      log.error({ err: error }, "remediation job not created");
    } finally {
      this.release();
    }
  }

  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (tries >= this.attempts || !isRetryable(error)) throw error;
        await sleep(this.retryDelayMs * 2 ** (tries - 1));
      }
    }
  }

  private async recordEvent(failure: RolloutFailure, jobName: string, log: Logger): Promise<void> {
    try {
      await this.withRetries(() =>
        recordRolloutEvent(this.options.client, {
          rollout: { namespace: failure.namespace, name: failure.name, uid: failure.uid },
          type: "Normal",
          reason: "RemediationJobCreated",
          action: "Create",
          message:
            `rollout-medic created Job ${this.options.namespace}/${jobName} for revision ${failure.revision} ` +
            `(canary ${failure.canaryPodHash}, ${failure.event}); its logs: kubectl logs -n ${this.options.namespace} job/${jobName}`,
          related: { apiVersion: "batch/v1", kind: "Job", namespace: this.options.namespace, name: jobName },
          ...(this.options.reportingInstance ? { reportingInstance: this.options.reportingInstance } : {}),
        }),
      );
      this.options.metrics.eventsRecorded++;
    } catch (error) {
      // The Job runs either way; the Event only tells people about it.
      this.options.metrics.eventRecordFailures++;
      log.warn({ err: error, job: jobName }, "rollout event not recorded");
    }
  }
}
