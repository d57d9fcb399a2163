import { lintSource } from "@secretlint/core";
import { creator as recommendedPreset } from "@secretlint/secretlint-rule-preset-recommend";
import type { SecretLintCoreConfig } from "@secretlint/types";

/**
 * Secret redaction for everything read from a cluster or repository before it reaches
 * an output, a log or a model. `redactLine` is the hot path; `redactSecretsThorough`
 * adds secretlint for small final texts.
 */

const MARK = "[REDACTED:";
const mark = (kind: string): string => `${MARK}${kind}]`;

// ---------------------------------------------------------------------------------
// Secret-looking key names (env vars, JSON/YAML keys, logfmt keys, CLI flags)
// ---------------------------------------------------------------------------------

/** How much evidence a value needs before it is redacted, given its key. */
type KeyStrength = "strong" | "medium" | "weak";

interface KeyVerdict {
  strength: KeyStrength;
  kind: string;
}

const STRONG_PARTS: ReadonlyMap<string, string> = new Map([
  ["PASSWORD", "password"],
  ["PASSWD", "password"],
  ["PWD", "password"],
  ["PASSPHRASE", "password"],
  ["SECRET", "secret"],
  ["SECRETS", "secret"],
  ["TOKEN", "token"],
  ["APIKEY", "api-key"],
  ["CREDENTIAL", "credentials"],
  ["CREDENTIALS", "credentials"],
  ["CREDS", "credentials"],
  ["DSN", "dsn"],
  ["AUTHORIZATION", "auth"],
  ["PRIVATEKEY", "private-key"],
  ["ACCESSKEY", "access-key"],
  ["SECRETKEY", "secret"],
  ["JWT", "token"],
  ["BEARER", "token"],
  ["CONNSTR", "connection-string"],
  ["CONNECTIONSTRING", "connection-string"],
]);

const STRONG_PAIRS: ReadonlyMap<string, string> = new Map([
  ["API KEY", "api-key"],
  ["PRIVATE KEY", "private-key"],
  ["ACCESS KEY", "access-key"],
  ["SECRET KEY", "secret"],
  ["CLIENT SECRET", "secret"],
  ["CONNECTION STRING", "connection-string"],
  ["CONN STRING", "connection-string"],
  ["CONN STR", "connection-string"],
  ["ACCOUNT KEY", "access-key"],
  ["SIGNING KEY", "secret"],
  ["ENCRYPTION KEY", "secret"],
  ["MASTER KEY", "secret"],
  ["SSH KEY", "private-key"],
]);

// Words that are secret often enough to redact plausible values, not every value.
const MEDIUM_PARTS: ReadonlyMap<string, string> = new Map([
  ["PASS", "password"],
  ["AUTH", "auth"],
  ["COOKIE", "cookie"],
  ["SESSION", "session"],
  ["SESSIONID", "session"],
]);

// Words that name secrets and non-secrets alike: only high-entropy values count.
const WEAK_PARTS: ReadonlyMap<string, string> = new Map([
  ["KEY", "key"],
  ["SIG", "signature"],
  ["SIGNATURE", "signature"],
  ["SALT", "secret"],
  ["HMAC", "secret"],
  ["PEPPER", "secret"],
]);

// A trailing part like these means the value describes a secret rather than being one
// (DB_PASSWORD_FILE, secretName, TOKEN_COUNT, secretKeyRef, AWS_ACCESS_KEY_ID).
const SAFE_SUFFIXES = new Set([
  "NAME",
  "NAMES",
  "ID",
  "IDS",
  "FILE",
  "FILES",
  "PATH",
  "DIR",
  "URL",
  "URI",
  "ENDPOINT",
  "HOST",
  "PORT",
  "TYPE",
  "TYPES",
  "MODE",
  "ENABLED",
  "ENABLE",
  "DISABLED",
  "DISABLE",
  "REF",
  "REFS",
  "TTL",
  "TIMEOUT",
  "EXPIRY",
  "EXPIRES",
  "EXPIRATION",
  "LENGTH",
  "LEN",
  "SIZE",
  "COUNT",
  "COUNTS",
  "LIMIT",
  "MAX",
  "MIN",
  "VERSION",
  "REGION",
  "ISSUER",
  "AUDIENCE",
  "HEADER",
  "PROVIDER",
  "METHOD",
  "SCOPE",
  "SCOPES",
  "POLICY",
  "FORMAT",
  "ALGORITHM",
  "ALG",
  "KIND",
  "STRATEGY",
  "RETRIES",
  "INTERVAL",
  "SECONDS",
  "REQUIRED",
  "USED",
  "SOURCE",
  "STORE",
  "MOUNT",
  "VOLUME",
  "LOCATION",
  "ROTATION",
  "PREFIX",
  "LABEL",
  "FIELD",
  "STATUS",
]);

const NON_SECRET_KEY_QUALIFIERS = new Set([
  "PUBLIC",
  "PUBLISHABLE",
  "CACHE",
  "PRIMARY",
  "PARTITION",
  "SORT",
  "ROUTING",
  "IDEMPOTENCY",
  "FOREIGN",
  "SHARD",
  "HASH",
  "LOOKUP",
  "MAP",
  "DEDUP",
  "DEDUPE",
  "OBJECT",
  "S3",
  "REDIS",
  "GROUP",
  "MESSAGE",
]);

const SUBSTRING_STRONG: ReadonlyArray<readonly [string, string]> = [
  ["PASSWORD", "password"],
  ["PASSWD", "password"],
  ["PASSPHRASE", "password"],
  ["CREDENTIAL", "credentials"],
  ["APIKEY", "api-key"],
  ["PRIVATEKEY", "private-key"],
  ["ACCESSKEY", "access-key"],
  ["SECRETKEY", "secret"],
  ["CLIENTSECRET", "secret"],
];

const WORD_SPLIT = /[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;

const verdictCache = new Map<string, KeyVerdict | null>();
const VERDICT_CACHE_LIMIT = 4096;

function classifyKeyUncached(name: string): KeyVerdict | null {
  const parts = name
    .split(WORD_SPLIT)
    .filter((p) => p.length > 0)
    .map((p) => p.toUpperCase());
  const last = parts[parts.length - 1];
  if (last === undefined) return null;
  if (parts.length > 1 && SAFE_SUFFIXES.has(last)) return null;

  let best: KeyVerdict | null = null;
  const consider = (strength: KeyStrength, kind: string): void => {
    const rank = { strong: 3, medium: 2, weak: 1 } as const;
    if (best === null || rank[strength] > rank[best.strength]) best = { strength, kind };
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    const next = parts[i + 1];
    const prev = parts[i - 1];
    const strong = STRONG_PARTS.get(part);
    if (strong !== undefined) consider("strong", strong);
    if (next !== undefined) {
      const pair = STRONG_PAIRS.get(`${part} ${next}`);
      if (pair !== undefined) consider("strong", pair);
    }
    for (const [word, kind] of SUBSTRING_STRONG) if (part.includes(word)) consider("strong", kind);
    if (part.length > 5 && (part.endsWith("TOKEN") || part.endsWith("SECRET"))) {
      consider("strong", part.endsWith("TOKEN") ? "token" : "secret");
    }
    const medium = MEDIUM_PARTS.get(part);
    if (medium !== undefined) consider("medium", medium);
    const weak = WEAK_PARTS.get(part);
    const keyLike = weak !== undefined || (part.endsWith("KEY") && !part.includes("PUBLIC"));
    if (keyLike && !(prev !== undefined && NON_SECRET_KEY_QUALIFIERS.has(prev)))
      consider("weak", weak ?? "key");
  }
  return best;
}

function classifyKey(name: string): KeyVerdict | null {
  const cached = verdictCache.get(name);
  if (cached !== undefined) return cached;
  const verdict = classifyKeyUncached(name);
  if (verdictCache.size >= VERDICT_CACHE_LIMIT) verdictCache.clear();
  verdictCache.set(name, verdict);
  return verdict;
}

/** True when an environment variable (or config key) name looks like it holds a secret. */
export function isSecretEnvName(name: string): boolean {
  return classifyKey(name) !== null;
}

/** The value to show for an environment variable. */
export function redactEnvValue(name: string, value: string): string {
  if (value === "") return value;
  if (isSecretEnvName(name)) return mark("env");
  return redactText(value);
}

// ---------------------------------------------------------------------------------
// Value heuristics
// ---------------------------------------------------------------------------------

// Values that are clearly not secrets: placeholders, references, empties, booleans.
const BENIGN_VALUE =
  /^(?:|\[REDACTED.*|\*+|x{3,}|<.*|\$\{.*|\$\(.*|\{\{.*|%[sv]|null|nil|none|undefined|true|false|yes|no|on|off|bearer|basic|digest|negotiate|ntlm|\||\|-|>|>-|~)$/i;

function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

function characterClasses(value: string): number {
  let classes = 0;
  if (/[a-z]/.test(value)) classes++;
  if (/[A-Z]/.test(value)) classes++;
  if (/[0-9]/.test(value)) classes++;
  if (/[^A-Za-z0-9]/.test(value)) classes++;
  return classes;
}

function looksHighEntropy(value: string): boolean {
  return value.length >= 16 && characterClasses(value) >= 2 && shannonEntropy(value) >= 3.3;
}

// Generated secrets almost always mix letters and digits; prose and class names do not.
function looksLikeToken(value: string): boolean {
  return value.length >= 8 && /\d/.test(value) && /[A-Za-z]/.test(value) && !/^\d[\d.:-]*$/.test(value);
}

/**
 * `structured` is false for `word: value` in running text ("lost its session: Foo"),
 * where only a token-shaped value counts; YAML, JSON, logfmt and env forms are structured.
 */
function valueIsSecret(strength: KeyStrength, value: string, structured: boolean): boolean {
  if (BENIGN_VALUE.test(value)) return false;
  if (!structured) return looksLikeToken(value) && (strength !== "weak" || looksHighEntropy(value));
  switch (strength) {
    case "strong":
      return true;
    case "medium":
      return value.length >= 6 && /\d/.test(value) && !/^\d+$/.test(value);
    case "weak":
      return looksHighEntropy(value);
  }
}

// ---------------------------------------------------------------------------------
// Line rules
// ---------------------------------------------------------------------------------

type Replacer = (match: string, ...groups: (string | undefined)[]) => string;

interface LineRule {
  /** Compiled once; global unless the rule is anchored to the start of the line. */
  re: RegExp;
  replace: string | Replacer;
}

const PEM_BEGIN = "-----BEGIN";
const PEM_KEY_HEADER = "(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----";
const PEM_BLOCK_RE = new RegExp(
  `-----BEGIN ${PEM_KEY_HEADER}[\\s\\S]*?(?:-----END ${PEM_KEY_HEADER}|$)`,
  "g",
);
const PEM_ORPHAN_END_RE = new RegExp(`^[\\s\\S]*?-----END ${PEM_KEY_HEADER}`);
const PEM_BEGIN_LINE_RE = new RegExp(`-----BEGIN ${PEM_KEY_HEADER}`);
const PEM_END_LINE_RE = new RegExp(`-----END ${PEM_KEY_HEADER}`);

const keepPrefix =
  (kind: string): Replacer =>
  (_match, prefix) =>
    `${prefix ?? ""}${mark(kind)}`;

const TOKEN_RULES: ReadonlyArray<readonly [string, RegExp]> = [
  ["anthropic-key", /\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{20,}/g],
  ["openai-key", /\bsk-(?:proj-|svcacct-|admin-|None-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{32,}/g],
  ["aws-access-key-id", /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g],
  ["github-token", /\bgh[pousr]_[A-Za-z0-9]{30,255}\b/g],
  ["github-token", /\bgithub_pat_[A-Za-z0-9_]{30,255}\b/g],
  ["gitlab-token", /\bgl(?:pat|ptt|dt|rt|cbt)-[A-Za-z0-9_-]{20,}/g],
  ["gitlab-token", /\bGR1348941[A-Za-z0-9_-]{20,}/g],
  ["slack-token", /\bxox[abposer]-[A-Za-z0-9-]{10,}/g],
  ["slack-token", /\bxapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+/g],
  ["slack-webhook", /\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g],
  ["stripe-key", /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g],
  ["stripe-webhook-secret", /\bwhsec_[A-Za-z0-9+/=]{24,}/g],
  ["google-api-key", /\bAIza[0-9A-Za-z_-]{35}/g],
  ["google-oauth-secret", /\bGOCSPX-[A-Za-z0-9_-]{20,}/g],
  ["google-oauth-token", /\bya29\.[0-9A-Za-z_-]{20,}/g],
  ["jwt", /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g],
  ["npm-token", /\bnpm_[A-Za-z0-9]{36}\b/g],
  ["sendgrid-key", /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}/g],
  ["twilio-key", /\bSK[0-9a-fA-F]{32}\b/g],
  ["shopify-token", /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g],
  ["huggingface-token", /\bhf_[A-Za-z0-9]{34,}\b/g],
  ["linear-key", /\blin_api_[A-Za-z0-9]{40}\b/g],
  ["1password-token", /\bops_[A-Za-z0-9_-]{40,}/g],
  ["digitalocean-token", /\bdo[opr]_v1_[a-f0-9]{64}\b/g],
  ["vault-token", /\bhv[sbr]\.[A-Za-z0-9_-]{24,}/g],
  ["doppler-token", /\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}/g],
  ["grafana-token", /\bgl(?:sa|c)_[A-Za-z0-9+/_=-]{32,}/g],
  ["newrelic-key", /\bNRAK-[A-Z0-9]{27}\b/g],
  ["age-secret-key", /\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b/g],
  ["pulumi-token", /\bpul-[a-f0-9]{40}\b/g],
];

// `key = value` in logfmt, env, YAML, JSON (also JSON escaped inside JSON), Go maps, PHP arrays.
const KEY_VALUE_RE =
  /(?<![\w.-])([A-Za-z_][\w.-]{0,80})(\\?["']?)([ \t]*(?::=|=>|[:=])[ \t]*)(?:(\\")((?:[^"\\]|\\(?!"))*)(\\")|(")((?:[^"\\\n]|\\.)*)(")|(')([^'\n]*)(')|([^\s"'`,;&{}[\]()<>][^\s"'`,;&}\])<>]*))/g;

// What may precede a key in structured text: line start, indentation, a YAML list dash,
// or an opening bracket or separator of a map, query string or connection string.
const STRUCTURED_BEFORE_KEY = /(?:^|[{[(,;&?|]|^\s*-)\s*$/;

const replaceKeyValue: Replacer = (match, key, keyQuote, separator, ...rest) => {
  const verdict = classifyKey(key ?? "");
  if (verdict === null) return match;
  const [eOpen, eBody, eClose, dOpen, dBody, dClose, sOpen, sBody, sClose, bare, offset, whole] = rest;
  const sep = separator ?? "";
  const before = String(whole ?? "").slice(Math.max(0, Number(offset) - 40), Number(offset));
  const colonThenSpace = /^[ \t]*:[ \t]/.test(sep);
  const structured =
    (keyQuote ?? "") !== "" ||
    !colonThenSpace ||
    STRUCTURED_BEFORE_KEY.test(before.slice(before.lastIndexOf("\n") + 1));
  const head = `${key}${keyQuote ?? ""}${sep}`;
  const kind = /secret.?access.?key/i.test(key ?? "") ? "aws-secret-key" : verdict.kind;
  const secret = (value: string): boolean => valueIsSecret(verdict.strength, value, structured);
  if (eBody !== undefined) return secret(eBody) ? `${head}${eOpen}${mark(kind)}${eClose}` : match;
  if (dBody !== undefined) return secret(dBody) ? `${head}${dOpen}${mark(kind)}${dClose}` : match;
  if (sBody !== undefined) return secret(sBody) ? `${head}${sOpen}${mark(kind)}${sClose}` : match;
  if (bare !== undefined && secret(bare)) return `${head}${mark(kind)}`;
  return match;
};

// {"name":"DB_PASSWORD","value":"..."} and {name: DB_PASSWORD, value: ...} as found in pod specs.
const ENV_PAIR_RE =
  /(?<![\w-])(\\?["']?name\\?["']?\s*[:=]\s*\\?["']?)([A-Za-z_][\w.-]*)(\\?["']?\s*,\s*\\?["']?value\\?["']?\s*[:=]\s*)(\\?["']?)([^"'\\,}\s]*)/g;

const replaceEnvPair: Replacer = (match, head, name, middle, quote, value) => {
  if (!value || !isSecretEnvName(name ?? "") || value.startsWith(MARK)) return match;
  return `${head}${name}${middle}${quote}${mark("env")}`;
};

const AUTH_HEADER_RE =
  /\b((?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*[["']?[ \t]*)(?:(bearer|basic|token|digest|negotiate|ntlm|apikey|sso-key|aws4-hmac-sha256)[ \t]+)?([^\s"',;\]]+)/gi;

const replaceAuthHeader: Replacer = (match, head, scheme, value) => {
  if (value === undefined || value.startsWith(MARK)) return match;
  // "authorization: denied" is a status, not a credential.
  if (!scheme && /^[a-z]{1,15}$/i.test(value)) return match;
  return `${head}${scheme ? `${scheme} ` : ""}${mark("authorization")}`;
};

const CLI_FLAG_RE =
  /(--?[\w-]*(?:password|passwd|token|secret|api-?key|access-key|client-secret)[\w-]*)([ \t]+)(?!-)([^\s"']+|"[^"]*"|'[^']*')/gi;

const XML_SECRET_RE =
  /<([\w:-]*(?:password|passwd|secret|token|apikey|api_key|accesskey|access_key)[\w-]*)>([^<]+)<\/\1>/gi;

// Rules for token formats and structural secrets, run when a token trigger is present.
const TOKEN_GROUP: readonly LineRule[] = [
  { re: PEM_BLOCK_RE, replace: mark("private-key") },
  // scheme://user:password@host keeps scheme, user and host so the target stays visible.
  {
    re: /\b([a-z][a-z0-9+.-]{0,30}:\/\/)([^\s:@/?#"'<>]*):([^\s/?#"'<>]+)@/gi,
    replace: `$1$2:${mark("url-password")}@`,
  },
  // scheme://TOKEN@host (token as user, as in Sentry DSNs and git remotes).
  {
    re: /\b([a-z][a-z0-9+.-]{0,30}:\/\/)((?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,})(?=@)/gi,
    replace: keepPrefix("url-token"),
  },
  ...TOKEN_RULES.map(([kind, re]): LineRule => ({ re, replace: mark(kind) })),
  {
    re: /\b(AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=([^;\s"']+)/g,
    replace: (_m, key) => `${key}=${mark("azure-key")}`,
  },
  { re: /([?&]sig=)[^&\s"']{16,}/g, replace: keepPrefix("azure-sas") },
  { re: PEM_ORPHAN_END_RE, replace: mark("private-key") },
];

// Rules keyed on secret-looking names, run when a word trigger is present.
const WORD_GROUP: readonly LineRule[] = [
  { re: AUTH_HEADER_RE, replace: replaceAuthHeader },
  { re: /\b(bearer[ \t]+)(?!\[REDACTED)[A-Za-z0-9\-._~+/]{16,}=*/gi, replace: keepPrefix("bearer-token") },
  {
    re: /\b(basic[ \t]+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![\w+/=])/gi,
    replace: keepPrefix("basic-auth"),
  },
  { re: ENV_PAIR_RE, replace: replaceEnvPair },
  { re: XML_SECRET_RE, replace: (_m, tag) => `<${tag}>${mark("secret")}</${tag}>` },
  { re: KEY_VALUE_RE, replace: replaceKeyValue },
  {
    re: CLI_FLAG_RE,
    replace: (match, flag, space, value) =>
      value === undefined || value.startsWith(MARK) || BENIGN_VALUE.test(value)
        ? match
        : `${flag}${space}${mark("cli-secret")}`,
  },
];

// Prefilters are plain literal alternations: V8 scans those far faster than alternations
// with classes or groups, and one regex with too many branches loses that speed, so the
// literals are split in two. Every token rule above starts with one of these literals.
const TOKEN_TRIGGER_COMMON =
  /AKIA|ASIA|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|xox|_live_|_test_|AIza|sk-|eyJ|npm_|SG\.|-----|:\/\/|sig=/;
const TOKEN_TRIGGER_RARE =
  /ABIA|ACCA|glptt-|gldt-|glrt-|glcbt-|glsa_|glc_|GR1348941|xapp-|whsec_|GOCSPX-|ya29\.|SK|shp|hf_|lin_api_|ops_|_v1_|hvs\.|hvb\.|hvr\.|dp\.|NRAK-|AGE-SECRET|pul-|Account|Shared/;
const WORD_TRIGGER =
  /pass|pwd|secret|token|key|auth|bearer|basic|cred|cookie|session|signature|salt|hmac|pepper|dsn|jwt|conn[_-]?str|connection[_-]?string/i;

function applyRules(text: string, rules: readonly LineRule[]): string {
  let out = text;
  for (const rule of rules) {
    rule.re.lastIndex = 0;
    // The replacer overload is chosen at runtime; both forms are valid for String#replace.
    out = out.replace(rule.re, rule.replace as string);
  }
  return out;
}

/**
 * Redacts secrets in a single line of text. Synchronous and cheap for lines that cannot
 * hold a secret, because it runs on every log line that leaves the cluster.
 */
export function redactLine(text: string): string {
  if (text.length < 8) return text;
  const tokenHit = TOKEN_TRIGGER_COMMON.test(text) || TOKEN_TRIGGER_RARE.test(text);
  const wordHit = WORD_TRIGGER.test(text);
  if (!tokenHit && !wordHit) return text;
  let out = tokenHit ? applyRules(text, TOKEN_GROUP) : text;
  if (wordHit) out = applyRules(out, WORD_GROUP);
  return out;
}

// ---------------------------------------------------------------------------------
// Multi-line text
// ---------------------------------------------------------------------------------

/**
 * Stateful per-line redactor for streams: it also hides the body of a PEM private key
 * that spans several lines, which a single line cannot reveal as secret on its own.
 */
export function createLineRedactor(): (line: string) => string {
  let inPem = false;
  let pemLines = 0;
  return (line: string): string => {
    if (inPem) {
      pemLines++;
      if (PEM_END_LINE_RE.test(line)) {
        inPem = false;
        return redactLine(line);
      }
      // A key body is under 100 lines; a missing END must not swallow the whole log.
      if (pemLines > 500) inPem = false;
      return mark("private-key");
    }
    if (line.includes(PEM_BEGIN) && PEM_BEGIN_LINE_RE.test(line)) {
      const redacted = redactLine(line);
      const lastBegin = line.lastIndexOf(PEM_BEGIN);
      if (!PEM_END_LINE_RE.test(line.slice(lastBegin))) {
        inPem = true;
        pemLines = 0;
      }
      return redacted;
    }
    return redactLine(line);
  };
}

const YAML_BLOCK_VALUE = /^(\s*)(?:-\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*:\s*[|>][+-]?\d*\s*$/;
const YAML_ENV_NAME = /^\s*(?:-\s+)?name:\s*["']?([A-Za-z_][\w.-]*)["']?\s*$/;
const YAML_ENV_VALUE = /^(\s*(?:-\s+)?value:\s*)(["']?)(.*?)(["']?)\s*$/;

function indentOf(line: string): number {
  const match = /^\s*/.exec(line);
  return match ? match[0].length : 0;
}

/**
 * Redacts secrets in multi-line text: PEM blocks spanning lines, YAML block scalars under
 * secret keys, and `name:`/`value:` env pairs split over two lines, plus every line rule.
 */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  const withoutPem = text.includes(PEM_BEGIN) ? text.replace(PEM_BLOCK_RE, mark("private-key")) : text;
  const lines = withoutPem.split("\n");
  const redact = createLineRedactor();
  let blockIndent = -1;
  let secretEnvName = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (blockIndent >= 0) {
      if (line.trim() === "" || indentOf(line) > blockIndent) {
        if (line.trim() !== "") lines[i] = `${" ".repeat(indentOf(line))}${mark("secret")}`;
        continue;
      }
      blockIndent = -1;
    }
    const block = YAML_BLOCK_VALUE.exec(line);
    if (block && classifyKey(block[2] ?? "")?.strength === "strong") blockIndent = indentOf(line);
    if (secretEnvName) {
      const value = YAML_ENV_VALUE.exec(line);
      if (value && value[3] !== "" && !value[3]?.startsWith(MARK)) {
        lines[i] = `${value[1]}${value[2]}${mark("env")}${value[4]}`;
        secretEnvName = false;
        continue;
      }
    }
    const envName = YAML_ENV_NAME.exec(line);
    secretEnvName = envName !== null && isSecretEnvName(envName[1] ?? "");
    lines[i] = redact(line);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------
// Thorough pass with secretlint
// ---------------------------------------------------------------------------------

const SECRETLINT_CONFIG: SecretLintCoreConfig = {
  rules: [{ id: "@secretlint/secretlint-rule-preset-recommend", rule: recommendedPreset }],
};

function countMarks(text: string): number {
  let count = 0;
  for (let at = text.indexOf(MARK); at !== -1; at = text.indexOf(MARK, at + MARK.length)) count++;
  return count;
}

function ruleKind(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, "").replace(/[^a-z0-9-]+/gi, "-") || "secret";
}

/**
 * `redactText` followed by secretlint's recommended rules; meant for final texts such as a
 * PR body or a model prompt. `findings` counts redactions made by both passes.
 */
export async function redactSecretsThorough(text: string): Promise<{ text: string; findings: number }> {
  const before = countMarks(text);
  const redacted = redactText(text);
  const result = await lintSource({
    source: { content: redacted, filePath: "/rollout-medic/untrusted.txt", ext: ".txt", contentType: "text" },
    options: { config: SECRETLINT_CONFIG, noPhysicFilePath: true, maskSecrets: true },
  });
  const ranges = result.messages
    .map((m) => ({ start: m.range[0], end: m.range[1], kind: ruleKind(m.ruleId) }))
    .filter((r) => r.end > r.start && !redacted.slice(r.start, r.end).includes(MARK))
    .sort((a, b) => a.start - b.start);
  let out = "";
  let cursor = 0;
  let lintFindings = 0;
  for (const range of ranges) {
    if (range.start < cursor) {
      // Overlapping reports: extend the previous redaction instead of nesting marks.
      cursor = Math.max(cursor, range.end);
      continue;
    }
    out += redacted.slice(cursor, range.start) + mark(range.kind);
    cursor = range.end;
    lintFindings++;
  }
  out += redacted.slice(cursor);
  return { text: out, findings: Math.max(0, countMarks(redacted) - before) + lintFindings };
}

// ---------------------------------------------------------------------------------
// Structured values
// ---------------------------------------------------------------------------------

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function redactEnvEntry(entry: unknown): unknown {
  if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
    const record = entry as Record<string, unknown>;
    if (typeof record.name === "string" && typeof record.value === "string" && isSecretEnvName(record.name)) {
      return redactValue({ ...record, value: record.value === "" ? "" : mark("env") }, undefined);
    }
  }
  return redactValue(entry, undefined);
}

function redactSecretResource(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const field of ["data", "stringData"]) {
    const data = copy[field];
    if (data !== null && typeof data === "object" && !Array.isArray(data)) {
      // Key names stay: a missing key is a common cause of failed rollouts.
      copy[field] = Object.fromEntries(Object.keys(data).map((k) => [k, mark("secret-data")]));
    } else if (data !== undefined) {
      copy[field] = mark("secret-data");
    }
  }
  const metadata = copy.metadata;
  if (metadata !== null && typeof metadata === "object" && !Array.isArray(metadata)) {
    const annotations = (metadata as Record<string, unknown>).annotations;
    if (annotations !== null && typeof annotations === "object" && LAST_APPLIED in annotations) {
      // The last applied configuration of a Secret repeats its data.
      copy.metadata = {
        ...(metadata as Record<string, unknown>),
        annotations: { ...(annotations as Record<string, unknown>), [LAST_APPLIED]: mark("secret-data") },
      };
    }
  }
  return copy;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === "string") {
    if (key !== undefined && value !== "") {
      const verdict = classifyKey(key);
      if (verdict !== null && valueIsSecret(verdict.strength, value, true)) return mark(verdict.kind);
    }
    return redactText(value);
  }
  if (Array.isArray(value)) {
    return key === "env" ? value.map(redactEnvEntry) : value.map((item) => redactValue(item, undefined));
  }
  if (value !== null && typeof value === "object") {
    const source = value as Record<string, unknown>;
    const record = source.kind === "Secret" ? redactSecretResource(source) : source;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) out[k] = redactValue(v, k);
    return out;
  }
  return value;
}

/**
 * Deep copy of a JSON-like value with every string redacted, secret-looking env entries
 * hidden, and the data of any `kind: Secret` object replaced.
 */
export function redactObject<T>(value: T): T {
  return redactValue(value, undefined) as T;
}
