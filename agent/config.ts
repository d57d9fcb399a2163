import { z } from "zod";
import { ConfigError } from "./errors.js";

// `export OPENAI_BASE_URL=` in a shell profile means "not set", not "invalid".
function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema);
}

/**
 * Every setting rollout-medic reads from its environment, validated in one place.
 * No other module reads process.env: commands receive a Config.
 */
const Env = z.object({
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ROLLOUT_MEDIC_LOG_TOKEN_BUDGET: z.coerce.number().int().min(100).max(100_000).default(1500),
  ROLLOUT_MEDIC_MAX_MEMORY_LIMIT: z.string().default("4Gi"),
  ROLLOUT_MEDIC_MAX_DIFF_LINES: z.coerce.number().int().min(1).max(100_000).default(400),
  ROLLOUT_MEDIC_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024),
  KUBECONFIG: z.string().optional(),
  NO_COLOR: z.string().optional(),
  FORCE_COLOR: z.string().optional(),
  // --- remediation agent (docs/agent.md) ---
  ROLLOUT_MEDIC_MODEL: unsetWhenEmpty(z.string().trim().min(1).optional()),
  OPENAI_API_KEY: unsetWhenEmpty(z.string().min(1).optional()),
  OPENAI_BASE_URL: unsetWhenEmpty(z.string().url().optional()),
  ROLLOUT_MEDIC_MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  ROLLOUT_MEDIC_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  ROLLOUT_MEDIC_MODEL_TEMPERATURE: z.coerce.number().min(0).max(2).optional(),
  ROLLOUT_MEDIC_MODEL_PRICE_INPUT_PER_1K: z.coerce.number().min(0).default(0),
  ROLLOUT_MEDIC_MODEL_PRICE_OUTPUT_PER_1K: z.coerce.number().min(0).default(0),
  ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS: z.coerce.number().int().min(1).max(200).default(12),
  ROLLOUT_MEDIC_AGENT_MAX_TOOL_CALLS: z.coerce.number().int().min(1).max(1000).default(40),
  ROLLOUT_MEDIC_AGENT_TOKEN_BUDGET: z.coerce.number().int().min(1000).max(10_000_000).default(60_000),
  ROLLOUT_MEDIC_AGENT_DEADLINE_SECONDS: z.coerce.number().min(1).max(3600).default(180),
  ROLLOUT_MEDIC_AGENT_TOOL_OUTPUT_TOKENS: z.coerce.number().int().min(200).max(50_000).default(2000),
  ROLLOUT_MEDIC_AGENT_MAX_REPEATED_CALLS: z.coerce.number().int().min(2).max(20).default(3),
  // --- serve: the webhook receiver and the Jobs it creates (docs/production.md) ---
  ROLLOUT_MEDIC_SERVE_HOST: z.string().trim().min(1).default("0.0.0.0"),
  ROLLOUT_MEDIC_SERVE_PORT: z.coerce.number().int().min(1).max(65_535).default(8080),
  // Comma-separated so that a new token can be added before the old one is removed.
  ROLLOUT_MEDIC_WEBHOOK_TOKEN: unsetWhenEmpty(z.string().optional()),
  ROLLOUT_MEDIC_WEBHOOK_USERNAME: unsetWhenEmpty(z.string().min(1).optional()),
  ROLLOUT_MEDIC_WEBHOOK_PASSWORD: unsetWhenEmpty(z.string().min(16).optional()),
  ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET: unsetWhenEmpty(z.string().min(16).optional()),
  ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(16_777_216).default(1_048_576),
  ROLLOUT_MEDIC_DEDUPE_TTL_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3600),
  ROLLOUT_MEDIC_DEDUPE_MAX_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  ROLLOUT_MEDIC_RATE_PER_ROLLOUT_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(6),
  ROLLOUT_MEDIC_RATE_GLOBAL_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
  ROLLOUT_MEDIC_MAX_PENDING_JOBS: z.coerce.number().int().min(1).max(100_000).default(500),
  ROLLOUT_MEDIC_NAMESPACE: z.string().trim().min(1).default("rollout-medic"),
  ROLLOUT_MEDIC_POD_NAME: unsetWhenEmpty(z.string().optional()),
  ROLLOUT_MEDIC_JOB_IMAGE: unsetWhenEmpty(z.string().trim().min(1).optional()),
  ROLLOUT_MEDIC_JOB_SERVICE_ACCOUNT: z.string().trim().min(1).default("rollout-medic-agent"),
  ROLLOUT_MEDIC_JOB_SECRET: z.string().trim().min(1).default("rollout-medic-agent"),
  ROLLOUT_MEDIC_JOB_TEMPLATE_CONFIGMAP: z.string().trim().default("rollout-medic-job-template"),
  ROLLOUT_MEDIC_JOB_TTL_SECONDS: z.coerce.number().int().min(0).max(2_592_000).default(86_400),
  ROLLOUT_MEDIC_JOB_BACKOFF_LIMIT: z.coerce.number().int().min(0).max(10).default(2),
  ROLLOUT_MEDIC_JOB_DEADLINE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  ROLLOUT_MEDIC_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(1).max(300).default(20),
  // --- delivery: forge, clone, limits (docs/merge-reruns-canary.md, README "Delivery") ---
  GITHUB_TOKEN: unsetWhenEmpty(z.string().trim().min(1).optional()),
  GITHUB_APP_ID: unsetWhenEmpty(z.string().trim().regex(/^\d+$/, "must be the numeric App ID").optional()),
  // PEM text; `\n` escapes (as a one-line secret often holds it) are turned into newlines.
  GITHUB_APP_PRIVATE_KEY: unsetWhenEmpty(z.string().min(1).optional()),
  GITHUB_APP_INSTALLATION_ID: unsetWhenEmpty(z.coerce.number().int().positive().optional()),
  GITHUB_API_URL: unsetWhenEmpty(z.string().url().default("https://api.github.com")),
  ROLLOUT_MEDIC_BOT_NAME: z.string().trim().min(1).default("rollout-medic[bot]"),
  ROLLOUT_MEDIC_BOT_EMAIL: z.string().trim().email().default("rollout-medic@users.noreply.github.com"),
  ROLLOUT_MEDIC_MAX_NEW_PRS_PER_HOUR: z.coerce.number().int().min(0).max(1000).default(2),
  ROLLOUT_MEDIC_MAX_OPEN_PRS: z.coerce.number().int().min(0).max(1000).default(5),
  ROLLOUT_MEDIC_MAX_ATTEMPTS_PER_ROLLOUT: z.coerce.number().int().min(0).max(1000).default(3),
  ROLLOUT_MEDIC_REPO_MAPPING_FILE: unsetWhenEmpty(z.string().optional()),
  ROLLOUT_MEDIC_ARGOCD_NAMESPACE: z.string().trim().min(1).default("argocd"),
  ROLLOUT_MEDIC_CLONE_DEPTH: z.coerce.number().int().min(0).max(100_000).default(1),
  ROLLOUT_MEDIC_FULL_CLONE: z.enum(["true", "false", "1", "0", ""]).default("false"),
  ROLLOUT_MEDIC_GIT_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(300),
});

export type EnvInput = Record<string, string | undefined>;

export interface Config {
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
  gather: { logTokenBudget: number };
  playbooks: { maxMemoryLimit: string };
  policy: { maxDiffLines: number; maxFileBytes: number };
  color: "auto" | "never" | "always";
  kubeconfig?: string;
  model: ModelSettings;
  agent: AgentLimits;
  serve: ServeSettings;
  delivery: DeliverySettings;
}

/** Where fixes go and how politely: the forge, its credentials, the bot identity, limits and cloning. */
export interface DeliverySettings {
  github: {
    /** `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
    apiUrl: string;
    /** Null when neither a token nor a GitHub App is configured (enough for a dry run of a public repository). */
    auth:
      | { kind: "token"; token: string }
      | { kind: "app"; appId: string; privateKey: string; installationId: number }
      | null;
  };
  /** Commits are authored as this identity; a branch head by anyone else is a person's. */
  bot: { name: string; email: string };
  limits: { maxNewPullRequestsPerHour: number; maxOpenPullRequests: number; maxAttemptsPerRollout: number };
  repoMappingFile?: string;
  argocdNamespace: string;
  clone: { mode: "partial" | "full"; depth: number; timeoutMs: number };
}

function deliverySettings(e: z.infer<typeof Env>): DeliverySettings {
  const app = [e.GITHUB_APP_ID, e.GITHUB_APP_PRIVATE_KEY, e.GITHUB_APP_INSTALLATION_ID];
  const appCount = app.filter((v) => v !== undefined).length;
  if (appCount > 0 && appCount < 3) {
    throw new ConfigError(
      "environment variables GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID go together: set all three or none",
    );
  }
  if (appCount === 3 && e.GITHUB_TOKEN !== undefined) {
    throw new ConfigError("set either GITHUB_TOKEN or the GitHub App variables (GITHUB_APP_*), not both");
  }
  let auth: DeliverySettings["github"]["auth"] = null;
  if (appCount === 3) {
    const privateKey = e.GITHUB_APP_PRIVATE_KEY!.replace(/\\n/g, "\n");
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
      throw new ConfigError(
        "environment variable GITHUB_APP_PRIVATE_KEY is invalid: expected the App's PEM private key",
      );
    }
    auth = {
      kind: "app",
      appId: e.GITHUB_APP_ID!,
      privateKey,
      installationId: e.GITHUB_APP_INSTALLATION_ID!,
    };
  } else if (e.GITHUB_TOKEN !== undefined) {
    auth = { kind: "token", token: e.GITHUB_TOKEN };
  }
  return {
    github: { apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ""), auth },
    bot: { name: e.ROLLOUT_MEDIC_BOT_NAME, email: e.ROLLOUT_MEDIC_BOT_EMAIL },
    limits: {
      maxNewPullRequestsPerHour: e.ROLLOUT_MEDIC_MAX_NEW_PRS_PER_HOUR,
      maxOpenPullRequests: e.ROLLOUT_MEDIC_MAX_OPEN_PRS,
      maxAttemptsPerRollout: e.ROLLOUT_MEDIC_MAX_ATTEMPTS_PER_ROLLOUT,
    },
    ...(e.ROLLOUT_MEDIC_REPO_MAPPING_FILE === undefined
      ? {}
      : { repoMappingFile: e.ROLLOUT_MEDIC_REPO_MAPPING_FILE }),
    argocdNamespace: e.ROLLOUT_MEDIC_ARGOCD_NAMESPACE,
    clone: {
      mode: e.ROLLOUT_MEDIC_FULL_CLONE === "true" || e.ROLLOUT_MEDIC_FULL_CLONE === "1" ? "full" : "partial",
      depth: e.ROLLOUT_MEDIC_CLONE_DEPTH,
      timeoutMs: e.ROLLOUT_MEDIC_GIT_TIMEOUT_SECONDS * 1000,
    },
  };
}

/** Which chat model the remediation agent uses; `spec` unset keeps every run deterministic. */
export interface ModelSettings {
  /** `provider:name` (`openai:gpt-4.1`), or `replay` for a scenario's recorded conversation. */
  spec?: string;
  apiKey?: string;
  /** Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, LiteLLM, Azure-compatible gateways). */
  baseUrl?: string;
  timeoutMs: number;
  maxRetries: number;
  temperature?: number;
  /** Price per 1000 tokens in USD for the usage report; 0 when unknown. */
  pricePer1k: { input: number; output: number };
}

/** Guardrails of one agent run, enforced in code (agent/agent/agent-guard.ts). */
export interface AgentLimits {
  maxModelCalls: number;
  maxToolCalls: number;
  /** Input plus output tokens over every model call of the run. */
  tokenBudget: number;
  deadlineMs: number;
  /** The most one tool result may put into the conversation. */
  toolOutputTokens: number;
  /** The same tool call with the same arguments this many times stops the run as a loop. */
  maxRepeatedCalls: number;
}

/** The webhook receiver (`rollout-medic serve`) and the Jobs it creates; see docs/production.md. */
export interface ServeSettings {
  host: string;
  port: number;
  auth: {
    /** Accepted bearer tokens: more than one while a token is being rotated. */
    tokens: string[];
    basic?: { username: string; password: string };
    /** Secret of the optional `X-Signature-256: sha256=<hex>` HMAC over the raw body. */
    hmacSecret?: string;
  };
  maxBodyBytes: number;
  dedupe: { ttlMs: number; maxEntries: number };
  rateLimit: { perRolloutPerHour: number; globalPerMinute: number };
  /** Accepted notifications whose Job is not created yet; past this the receiver answers 503. */
  maxPendingJobs: number;
  /** Namespace of the receiver, where the Jobs run. */
  namespace: string;
  podName?: string;
  job: {
    image?: string;
    serviceAccount: string;
    /** Secret with the agent's credentials (forge token, model key), mounted as environment. */
    secretName: string;
    /** ConfigMap whose `job.yaml` replaces the built-in Job template; undefined: built-in only. */
    templateConfigMap?: string;
    ttlSecondsAfterFinished: number;
    backoffLimit: number;
    activeDeadlineSeconds: number;
  };
  shutdownGraceMs: number;
}

function serveSettings(e: z.infer<typeof Env>): ServeSettings {
  const tokens = (e.ROLLOUT_MEDIC_WEBHOOK_TOKEN ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  if (tokens.some((token) => token.length < 16)) {
    throw new ConfigError(
      "environment variable ROLLOUT_MEDIC_WEBHOOK_TOKEN is invalid: each token needs 16 characters or more",
    );
  }
  if ((e.ROLLOUT_MEDIC_WEBHOOK_USERNAME === undefined) !== (e.ROLLOUT_MEDIC_WEBHOOK_PASSWORD === undefined)) {
    throw new ConfigError(
      "environment variables ROLLOUT_MEDIC_WEBHOOK_USERNAME and ROLLOUT_MEDIC_WEBHOOK_PASSWORD go together: set both or neither",
    );
  }
  return {
    host: e.ROLLOUT_MEDIC_SERVE_HOST,
    port: e.ROLLOUT_MEDIC_SERVE_PORT,
    auth: {
      tokens,
      ...(e.ROLLOUT_MEDIC_WEBHOOK_USERNAME !== undefined && e.ROLLOUT_MEDIC_WEBHOOK_PASSWORD !== undefined
        ? {
            basic: { username: e.ROLLOUT_MEDIC_WEBHOOK_USERNAME, password: e.ROLLOUT_MEDIC_WEBHOOK_PASSWORD },
          }
        : {}),
      ...(e.ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET === undefined
        ? {}
        : { hmacSecret: e.ROLLOUT_MEDIC_WEBHOOK_HMAC_SECRET }),
    },
    maxBodyBytes: e.ROLLOUT_MEDIC_WEBHOOK_MAX_BODY_BYTES,
    dedupe: {
      ttlMs: e.ROLLOUT_MEDIC_DEDUPE_TTL_SECONDS * 1000,
      maxEntries: e.ROLLOUT_MEDIC_DEDUPE_MAX_ENTRIES,
    },
    rateLimit: {
      perRolloutPerHour: e.ROLLOUT_MEDIC_RATE_PER_ROLLOUT_PER_HOUR,
      globalPerMinute: e.ROLLOUT_MEDIC_RATE_GLOBAL_PER_MINUTE,
    },
    maxPendingJobs: e.ROLLOUT_MEDIC_MAX_PENDING_JOBS,
    namespace: e.ROLLOUT_MEDIC_NAMESPACE,
    ...(e.ROLLOUT_MEDIC_POD_NAME === undefined ? {} : { podName: e.ROLLOUT_MEDIC_POD_NAME }),
    job: {
      ...(e.ROLLOUT_MEDIC_JOB_IMAGE === undefined ? {} : { image: e.ROLLOUT_MEDIC_JOB_IMAGE }),
      serviceAccount: e.ROLLOUT_MEDIC_JOB_SERVICE_ACCOUNT,
      secretName: e.ROLLOUT_MEDIC_JOB_SECRET,
      ...(e.ROLLOUT_MEDIC_JOB_TEMPLATE_CONFIGMAP === ""
        ? {}
        : { templateConfigMap: e.ROLLOUT_MEDIC_JOB_TEMPLATE_CONFIGMAP }),
      ttlSecondsAfterFinished: e.ROLLOUT_MEDIC_JOB_TTL_SECONDS,
      backoffLimit: e.ROLLOUT_MEDIC_JOB_BACKOFF_LIMIT,
      activeDeadlineSeconds: e.ROLLOUT_MEDIC_JOB_DEADLINE_SECONDS,
    },
    shutdownGraceMs: Math.round(e.ROLLOUT_MEDIC_SHUTDOWN_GRACE_SECONDS * 1000),
  };
}

export function loadConfig(env: EnvInput = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join(".") ?? "environment";
    throw new ConfigError(`environment variable ${name} is invalid: ${issue?.message ?? "unknown problem"}`);
  }
  const e = parsed.data;
  return {
    logLevel: e.LOG_LEVEL,
    gather: { logTokenBudget: e.ROLLOUT_MEDIC_LOG_TOKEN_BUDGET },
    playbooks: { maxMemoryLimit: e.ROLLOUT_MEDIC_MAX_MEMORY_LIMIT },
    policy: { maxDiffLines: e.ROLLOUT_MEDIC_MAX_DIFF_LINES, maxFileBytes: e.ROLLOUT_MEDIC_MAX_FILE_BYTES },
    color: e.NO_COLOR !== undefined ? "never" : e.FORCE_COLOR !== undefined ? "always" : "auto",
    kubeconfig: e.KUBECONFIG,
    model: {
      spec: e.ROLLOUT_MEDIC_MODEL,
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      timeoutMs: e.ROLLOUT_MEDIC_MODEL_TIMEOUT_MS,
      maxRetries: e.ROLLOUT_MEDIC_MODEL_MAX_RETRIES,
      temperature: e.ROLLOUT_MEDIC_MODEL_TEMPERATURE,
      pricePer1k: {
        input: e.ROLLOUT_MEDIC_MODEL_PRICE_INPUT_PER_1K,
        output: e.ROLLOUT_MEDIC_MODEL_PRICE_OUTPUT_PER_1K,
      },
    },
    agent: {
      maxModelCalls: e.ROLLOUT_MEDIC_AGENT_MAX_MODEL_CALLS,
      maxToolCalls: e.ROLLOUT_MEDIC_AGENT_MAX_TOOL_CALLS,
      tokenBudget: e.ROLLOUT_MEDIC_AGENT_TOKEN_BUDGET,
      deadlineMs: Math.round(e.ROLLOUT_MEDIC_AGENT_DEADLINE_SECONDS * 1000),
      toolOutputTokens: e.ROLLOUT_MEDIC_AGENT_TOOL_OUTPUT_TOKENS,
      maxRepeatedCalls: e.ROLLOUT_MEDIC_AGENT_MAX_REPEATED_CALLS,
    },
    serve: serveSettings(e),
    delivery: deliverySettings(e),
  };
}
