/** Why a notification was refused; bounded so that the metric's label set stays small. */
export const REJECT_REASONS = [
  "unauthorized",
  "bad_signature",
  "unsupported_media_type",
  "too_large",
  "malformed_json",
  "invalid_notification",
  "rate_limited_rollout",
  "rate_limited_global",
  "overloaded",
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The receiver's counters, rendered in the Prometheus text exposition format (version 0.0.4). */
export class ServeMetrics {
  received = 0;
  accepted = 0;
  duplicates = 0;
  ignored = 0;
  readonly rejected = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));
  jobsCreated = 0;
  jobsAlreadyExisted = 0;
  jobCreateFailures = 0;
  eventsRecorded = 0;
  eventRecordFailures = 0;
  pendingJobs = 0;
  private readonly bucketCounts = LATENCY_BUCKETS_SECONDS.map(() => 0);
  private latencyCount = 0;
  private latencySum = 0;

  reject(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  observeLatency(seconds: number): void {
    this.latencyCount++;
    this.latencySum += seconds;
    for (const [index, bound] of LATENCY_BUCKETS_SECONDS.entries()) {
      if (seconds <= bound) this.bucketCounts[index]!++;
    }
  }

  render(): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter(
      "rollout_medic_notifications_received_total",
      "Requests to the notification endpoints.",
      this.received,
    );
    counter(
      "rollout_medic_notifications_accepted_total",
      "Notifications of a new failure, answered 202.",
      this.accepted,
    );
    counter(
      "rollout_medic_notifications_duplicate_total",
      "Notifications of a failure already handled, answered 202 without a Job.",
      this.duplicates,
    );
    counter(
      "rollout_medic_notifications_ignored_total",
      `Notifications for Rollouts annotated rollout-medic.dev/enabled: "false".`,
      this.ignored,
    );
    lines.push(
      "# HELP rollout_medic_notifications_rejected_total Notifications refused, by reason.",
      "# TYPE rollout_medic_notifications_rejected_total counter",
      ...[...this.rejected].map(
        ([reason, value]) => `rollout_medic_notifications_rejected_total{reason="${reason}"} ${value}`,
      ),
    );
    counter("rollout_medic_jobs_created_total", "Remediation Jobs created.", this.jobsCreated);
    counter(
      "rollout_medic_jobs_already_existed_total",
      "Job creations answered AlreadyExists (created by another replica or an earlier delivery).",
      this.jobsAlreadyExisted,
    );
    counter(
      "rollout_medic_job_create_failures_total",
      "Accepted notifications whose Job could not be created after retries.",
      this.jobCreateFailures,
    );
    counter(
      "rollout_medic_rollout_events_recorded_total",
      "Kubernetes Events recorded on Rollouts.",
      this.eventsRecorded,
    );
    counter(
      "rollout_medic_rollout_event_failures_total",
      "Kubernetes Events that could not be recorded.",
      this.eventRecordFailures,
    );
    lines.push(
      "# HELP rollout_medic_pending_jobs Accepted notifications whose Job is not created yet.",
      "# TYPE rollout_medic_pending_jobs gauge",
      `rollout_medic_pending_jobs ${this.pendingJobs}`,
      "# HELP rollout_medic_notification_duration_seconds Time from request to answer on the notification endpoints.",
      "# TYPE rollout_medic_notification_duration_seconds histogram",
      ...LATENCY_BUCKETS_SECONDS.map(
        (bound, index) =>
          `rollout_medic_notification_duration_seconds_bucket{le="${bound}"} ${this.bucketCounts[index]}`,
      ),
      `rollout_medic_notification_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`,
      `rollout_medic_notification_duration_seconds_sum ${this.latencySum}`,
      `rollout_medic_notification_duration_seconds_count ${this.latencyCount}`,
    );
    return `${lines.join("\n")}\n`;
  }
}
