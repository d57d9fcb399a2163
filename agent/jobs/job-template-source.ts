import { parse } from "yaml";
import { ClusterError, ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import { defaultJobTemplate, jobTemplateProblem } from "./job-template.js";
import type { JobObject, JobTemplateSettings } from "./job-template.js";
import type { KubeApiClient, KubernetesApiCall } from "./kube-api-client.js";
import { statusMessage } from "./kube-api-client.js";

/** The key of the ConfigMap that holds the Job template. */
export const JOB_TEMPLATE_KEY = "job.yaml";

export const JOB_TEMPLATE_API_CALLS: readonly KubernetesApiCall[] = [
  { verb: "get", group: "", resource: "configmaps" },
];

export interface JobTemplate {
  job: JobObject;
  origin: string;
}

export interface JobTemplateSourceOptions {
  client: KubeApiClient;
  namespace: string;
  /** The ConfigMap that may replace the built-in template; undefined: always the built-in one. */
  configMap?: string;
  settings: JobTemplateSettings;
  logger: Logger;
  /** How long one read of the ConfigMap is used; edits take effect within this time. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * The Job template in force: the ConfigMap's `job.yaml` when the ConfigMap exists, else the built-in one.
 * An invalid ConfigMap stops Job creation (and readiness) rather than falling back: a silently ignored
 * override could run Jobs with another image, service account or security context than intended.
 */
export class JobTemplateSource {
  private cached: { template: JobTemplate; at: number } | null = null;
  private loading: Promise<JobTemplate> | null = null;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly options: JobTemplateSourceOptions) {
    this.cacheMs = options.cacheMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<JobTemplate> {
    if (this.cached && this.now() - this.cached.at < this.cacheMs) return this.cached.template;
    // One read for all the notifications that arrive while it is in flight.
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<JobTemplate> {
    const { configMap, namespace, client, logger } = this.options;
    if (!configMap)
      return this.remember({ job: defaultJobTemplate(this.options.settings), origin: "built-in" });
    let response;
    try {
      response = await client.request(
        "GET",
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(configMap)}`,
      );
    } catch (error) {
      if (this.cached) {
        logger.warn({ err: error, configMap }, "job template read failed, using the last one read");
        return this.cached.template;
      }
      throw error;
    }
    if (response.status === 404) {
      return this.remember({ job: defaultJobTemplate(this.options.settings), origin: "built-in" });
    }
    if (response.status !== 200) {
      const error = new ClusterError(
        `cannot read ConfigMap ${namespace}/${configMap} (${response.status}${statusMessage(response.body) ? `: ${statusMessage(response.body)}` : ""}): ` +
          `grant "get" on configmaps/${configMap} to the receiver's service account (see deploy/)`,
        { status: response.status, verb: "get", resource: "configmaps" },
      );
      if (this.cached && response.status >= 500) {
        logger.warn({ err: error, configMap }, "job template read failed, using the last one read");
        return this.cached.template;
      }
      throw error;
    }
    const text = (response.body as { data?: Record<string, unknown> } | undefined)?.data?.[JOB_TEMPLATE_KEY];
    const origin = `ConfigMap ${namespace}/${configMap}`;
    if (typeof text !== "string") {
      throw new ConfigError(
        `${origin} has no "${JOB_TEMPLATE_KEY}" key: add the Job template there or delete the ConfigMap`,
      );
    }
    let value: unknown;
    try {
      value = parse(text);
    } catch (error) {
      throw new ConfigError(
        `${origin} key ${JOB_TEMPLATE_KEY} is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
      );
    }
    const problem = jobTemplateProblem(value);
    if (problem)
      throw new ConfigError(`${origin} key ${JOB_TEMPLATE_KEY} is not a usable Job template: ${problem}`);
    return this.remember({ job: value as JobObject, origin });
  }

  private remember(template: JobTemplate): JobTemplate {
    this.cached = { template, at: this.now() };
    return template;
  }
}
