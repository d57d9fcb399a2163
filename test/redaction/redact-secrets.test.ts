import { describe, it, expect } from "vitest";
import {
  createLineRedactor,
  isSecretEnvName,
  redactEnvValue,
  redactLine,
  redactObject,
  redactSecretsThorough,
  redactText,
} from "../../agent/redaction/redact-secrets.js";

// Fake but correctly shaped values, assembled at runtime so that this file does not
// trip secret scanners itself.
const j = (...parts: string[]): string => parts.join("");
const alnum = (n: number, seed = 7): string => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += chars[x % chars.length];
  }
  return out;
};
const hex = (n: number, seed = 3): string =>
  alnum(n * 2, seed)
    .split("")
    .map((c) => (c.charCodeAt(0) % 16).toString(16))
    .join("")
    .slice(0, n);
const upper = (n: number, seed = 5): string => alnum(n, seed).toUpperCase();
const b64 = (n: number, seed = 11): string =>
  alnum(n, seed)
    .replace(/[AEIOU]/g, "+")
    .replace(/[xyz]/g, "/");

const awsKeyId = j("AK", "IA", upper(16, 21).replace(/[^A-Z0-9]/g, "Q"));
const awsStsKeyId = j("AS", "IA", upper(16, 22).replace(/[^A-Z0-9]/g, "Q"));
const awsSecret = b64(40, 23);
const awsSessionToken = j("FwoGZXIvYXdz", b64(120, 24));
const ghp = j("gh", "p_", alnum(36, 31));
const gho = j("gh", "o_", alnum(36, 32));
const ghs = j("gh", "s_", alnum(36, 33));
const ghr = j("gh", "r_", alnum(36, 34));
const ghPat = j("github", "_pat_", alnum(22, 35), "_", alnum(59, 36));
const glpat = j("gl", "pat-", alnum(20, 41));
const slackBot = j("xo", "xb-", "2048", "1234567", "-", "40961234567", "-", alnum(24, 42));
const slackHook = j(
  "https://hooks.",
  "slack.com/services/",
  "T0",
  upper(7, 43),
  "/B0",
  upper(7, 44),
  "/",
  alnum(24, 45),
);
const stripeLive = j("sk", "_live_", alnum(24, 51));
const stripeRestricted = j("rk", "_live_", alnum(24, 52));
const googleKey = j("AI", "za", "Sy", alnum(33, 53));
const openaiLegacy = j("sk", "-", alnum(48, 54));
const openaiProject = j("sk", "-proj-", alnum(40, 55), "_", alnum(40, 56));
const anthropicKey = j("sk", "-ant-api03-", alnum(90, 57));
const jwt = j(
  "ey",
  "JhbGciOiJSUzI1NiIsImtpZCI6IjEifQ",
  ".",
  "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ",
  ".",
  alnum(43, 58),
);
const saJwt = j("ey", "JhbGciOiJIUzI1NiJ9", ".", "eyJpc3MiOiJrdWJlcm5ldGVzIn0", ".", alnum(43, 59));
const pemBody = [b64(64, 61), b64(64, 62), b64(64, 63), b64(40, 64)];
const ecBody = [b64(64, 65), b64(52, 66)];
const sshBody = [b64(70, 67), b64(70, 68)];
const gcpBody = b64(64, 69);
const pgPass = j("Pg", alnum(14, 71), "!9");
const mongoPass = j("Mo", alnum(16, 72));
const redisPass = j("Re", alnum(18, 73));
const amqpPass = j("Am", alnum(12, 74));
const bearer = alnum(40, 75);
const basic = Buffer.from(j("deploy:", alnum(12, 76))).toString("base64");
const logfmtPass = j("hunter", alnum(6, 77));
const jsonPass = j("Sup3r", alnum(8, 78));
const yamlPasswd = j("pw-", alnum(10, 79));
const connPwd = j("Cs", alnum(12, 80));
const clientSecret = alnum(32, 81);
const yamlApiKey = alnum(28, 82);
const queryApiKey = alnum(26, 83);
const accessKey = alnum(30, 84);
const yamlSecret = alnum(24, 85);
const queryToken = alnum(32, 86);
const npmToken = j("np", "m_", alnum(36, 87));
const azureKey = j(b64(86, 88), "==");
const sendgrid = j("SG", ".", alnum(22, 89), ".", alnum(43, 90));
const twilio = j("S", "K", hex(32, 91));
const signingKey = j(hex(16, 92), alnum(16, 93));
const envYamlPass = alnum(20, 94);
const envJsonToken = alnum(32, 95);
const cliPass = j("Cli", alnum(14, 96));
const vaultToken = j("hv", "s.", alnum(24, 97));
const sentryKey = hex(32, 98);
const dockerAuth = Buffer.from(j("robot:", alnum(20, 99))).toString("base64");
const cookieSession = alnum(32, 100);
const sasSig = j(b64(43, 101), "%3D");
const refreshToken = alnum(40, 102);
const prosePassword = j("Xk9", alnum(9, 103));

interface Case {
  name: string;
  text: string;
  secrets: string[];
}

const corpus: Case[] = [
  {
    name: "AWS access key id in a credentials file",
    text: `aws_access_key_id = ${awsKeyId}`,
    secrets: [awsKeyId],
  },
  {
    name: "AWS secret access key in an env dump",
    text: `AWS_REGION=eu-west-1\nAWS_SECRET_ACCESS_KEY=${awsSecret}\nHOME=/root`,
    secrets: [awsSecret],
  },
  {
    name: "AWS STS credentials as JSON",
    text: `{"Credentials":{"AccessKeyId":"${awsStsKeyId}","SessionToken":"${awsSessionToken}","Expiration":"2024-05-01T13:00:00Z"}}`,
    secrets: [awsStsKeyId, awsSessionToken],
  },
  { name: "GitHub classic token in an env dump", text: `GITHUB_TOKEN=${ghp}`, secrets: [ghp] },
  {
    name: "GitHub OAuth token in a log line",
    text: `2024-05-01T12:00:00Z INFO cloning with ${gho} as credential helper`,
    secrets: [gho],
  },
  {
    name: "GitHub app token in a git remote URL",
    text: `fatal: unable to access 'https://x-access-token:${ghs}@github.com/acme/shop.git/': 403`,
    secrets: [ghs],
  },
  { name: "GitHub fine-grained token", text: `token: ${ghPat}`, secrets: [ghPat] },
  {
    name: "GitHub refresh token as a query value",
    text: `POST /oauth?grant=refresh&refresh_token=${ghr}`,
    secrets: [ghr],
  },
  { name: "GitLab token in a request header", text: `PRIVATE-TOKEN: ${glpat}`, secrets: [glpat] },
  {
    name: "Slack bot token in JSON",
    text: `{"channel":"#deploys","bot":"${slackBot}"}`,
    secrets: [slackBot],
  },
  {
    name: "Slack webhook URL",
    text: `notify url=${slackHook} status=sent`,
    secrets: [slackHook.split("/").pop() ?? ""],
  },
  { name: "Stripe live secret key in YAML", text: `stripe:\n  apiKey: ${stripeLive}`, secrets: [stripeLive] },
  {
    name: "Stripe restricted key in a log line",
    text: `2024-05-01 12:00:01,003 INFO charging with ${stripeRestricted}`,
    secrets: [stripeRestricted],
  },
  {
    name: "Google API key in a URL query",
    text: `GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=${googleKey} 200`,
    secrets: [googleKey],
  },
  {
    name: "OpenAI legacy key in plain text",
    text: `client configured with ${openaiLegacy}`,
    secrets: [openaiLegacy],
  },
  {
    name: "OpenAI project key in a Python dict",
    text: `settings={'model': 'gpt-4o', 'api_key': '${openaiProject}'}`,
    secrets: [openaiProject],
  },
  { name: "Anthropic key", text: `ANTHROPIC_API_KEY="${anthropicKey}"`, secrets: [anthropicKey] },
  {
    name: "JWT in a log line",
    text: `level=debug msg="validated id_token" jwt=${jwt} sub=system`,
    secrets: [jwt],
  },
  { name: "Service account token on its own line", text: saJwt, secrets: [saJwt] },
  {
    name: "PEM RSA private key spanning lines",
    text: [
      "before",
      "-----BEGIN RSA PRIVATE KEY-----",
      ...pemBody,
      "-----END RSA PRIVATE KEY-----",
      "after",
    ].join("\n"),
    secrets: pemBody,
  },
  {
    name: "PEM EC private key in a YAML block scalar",
    text: [
      "data:",
      "  tls.key: |",
      "    -----BEGIN EC PRIVATE KEY-----",
      ...ecBody.map((l) => `    ${l}`),
      "    -----END EC PRIVATE KEY-----",
      "kind: Secret",
    ].join("\n"),
    secrets: ecBody,
  },
  {
    name: "PEM key escaped inside a JSON service account file",
    text: `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\n${gcpBody}\\n-----END PRIVATE KEY-----\\n","client_email":"x@y.iam.gserviceaccount.com"}`,
    secrets: [gcpBody],
  },
  {
    name: "OpenSSH private key",
    text: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...sshBody, "-----END OPENSSH PRIVATE KEY-----"].join("\n"),
    secrets: sshBody,
  },
  {
    name: "Postgres URL with a password",
    text: `connecting to postgres://orders:${pgPass}@db.internal:5432/orders?sslmode=require`,
    secrets: [pgPass],
  },
  {
    name: "MongoDB SRV URL with a password",
    text: `MONGO_URL=mongodb+srv://admin:${mongoPass}@cluster0.abcde.mongodb.net/app`,
    secrets: [mongoPass],
  },
  {
    name: "Redis URL with only a password",
    text: `cache: redis://:${redisPass}@redis-master:6379/0`,
    secrets: [redisPass],
  },
  {
    name: "AMQP URL in a stack trace message",
    text: `Error: connect ECONNREFUSED amqp://svc:${amqpPass}@rabbit:5672`,
    secrets: [amqpPass],
  },
  {
    name: "Bearer token in a curl command",
    text: `curl -H "Authorization: Bearer ${bearer}" https://api.internal/v1`,
    secrets: [bearer],
  },
  {
    name: "Basic credentials in a header dump",
    text: `headers: map[Authorization:[Basic ${basic}] Accept:[*/*]]`,
    secrets: [basic],
  },
  {
    name: "Password in logfmt",
    text: `level=warn msg="login retry" user=svc password=${logfmtPass} attempt=2`,
    secrets: [logfmtPass],
  },
  {
    name: "Password in JSON",
    text: `{"user":"svc","password":"${jsonPass}","remember":true}`,
    secrets: [jsonPass],
  },
  { name: "passwd in YAML", text: `smtp:\n  host: mail\n  passwd: ${yamlPasswd}`, secrets: [yamlPasswd] },
  {
    name: "Pwd in an ADO.NET connection string",
    text: `Server=sql;Database=app;Uid=svc;Pwd=${connPwd};Encrypt=true`,
    secrets: [connPwd],
  },
  {
    name: "client_secret in a form body",
    text: `grant_type=client_credentials&client_id=app&client_secret=${clientSecret}`,
    secrets: [clientSecret],
  },
  { name: "api_key in YAML", text: `datadog:\n  api_key: "${yamlApiKey}"`, secrets: [yamlApiKey] },
  {
    name: "apikey as a query parameter",
    text: `GET /v2/forecast?apikey=${queryApiKey}&city=Oslo 200 12ms`,
    secrets: [queryApiKey],
  },
  { name: "access_key in an INI file", text: `[default]\naccess_key = ${accessKey}`, secrets: [accessKey] },
  { name: "secret in YAML", text: `webhook:\n  secret: ${yamlSecret}`, secrets: [yamlSecret] },
  {
    name: "token as a query parameter",
    text: `GET /download?token=${queryToken}&page=2 HTTP/1.1`,
    secrets: [queryToken],
  },
  { name: "npm token in .npmrc", text: `//registry.npmjs.org/:_authToken=${npmToken}`, secrets: [npmToken] },
  {
    name: "Azure storage connection string",
    text: `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${azureKey};EndpointSuffix=core.windows.net`,
    secrets: [azureKey.slice(0, 40)],
  },
  { name: "SendGrid key", text: `mailer initialised key=${sendgrid}`, secrets: [sendgrid] },
  { name: "Twilio API key", text: `twilio: using ${twilio} for sms`, secrets: [twilio] },
  { name: "High-entropy signing key", text: `jwt.signing_key=${signingKey}`, secrets: [signingKey] },
  {
    name: "Env var pair in a pod spec (YAML)",
    text: `env:\n- name: DB_PASSWORD\n  value: ${envYamlPass}\n- name: LOG_LEVEL\n  value: info`,
    secrets: [envYamlPass],
  },
  {
    name: "Env var pair in a pod spec (JSON)",
    text: `"env":[{"name":"API_TOKEN","value":"${envJsonToken}"},{"name":"PORT","value":"8080"}]`,
    secrets: [envJsonToken],
  },
  {
    name: "Password as a CLI flag",
    text: `exec: /bin/migrate --user svc --password ${cliPass} --host db`,
    secrets: [cliPass],
  },
  { name: "Vault token", text: `vault: renewed lease for ${vaultToken}`, secrets: [vaultToken] },
  {
    name: "Sentry DSN with the key as user",
    text: `sentry: dsn configured https://${sentryKey}@o12345.ingest.sentry.io/67890`,
    secrets: [sentryKey],
  },
  {
    name: "Docker config auth",
    text: `{"auths":{"ghcr.io":{"auth":"${dockerAuth}"}}}`,
    secrets: [dockerAuth],
  },
  {
    name: "Session cookie header",
    text: `Cookie: sessionid=${cookieSession}; theme=dark`,
    secrets: [cookieSession],
  },
  {
    name: "Azure SAS signature in a URL",
    text: `PUT https://acme.blob.core.windows.net/c/b?sv=2022-11-02&se=2024-05-02&sig=${sasSig} 201`,
    secrets: [sasSig],
  },
  {
    name: "refresh_token in JSON",
    text: `{"access":"short","refresh_token":"${refreshToken}"}`,
    secrets: [refreshToken],
  },
  {
    name: "Password after a colon in running text",
    text: `WARN login for svc failed, password: ${prosePassword} rejected`,
    secrets: [prosePassword],
  },
];

describe("redactText and redactSecretsThorough", () => {
  it("the corpus covers at least 35 distinct secret forms", () => {
    expect(new Set(corpus.map((c) => c.name)).size).toBeGreaterThanOrEqual(35);
    for (const c of corpus) for (const s of c.secrets) expect(s.length).toBeGreaterThan(7);
  });

  for (const c of corpus) {
    it(`removes the planted value: ${c.name}`, async () => {
      for (const secret of c.secrets) expect(c.text).toContain(secret);
      const fast = redactText(c.text);
      const thorough = await redactSecretsThorough(c.text);
      for (const secret of c.secrets) {
        expect(fast).not.toContain(secret);
        expect(thorough.text).not.toContain(secret);
      }
      expect(fast).toContain("[REDACTED:");
      expect(thorough.findings).toBeGreaterThan(0);
    });
  }

  it("keeps the text around a redaction intact", () => {
    expect(redactText(`GITHUB_TOKEN=${ghp} next=1`)).toBe("GITHUB_TOKEN=[REDACTED:github-token] next=1");
    expect(redactText(`postgres://orders:${pgPass}@db.internal:5432/orders`)).toBe(
      "postgres://orders:[REDACTED:url-password]@db.internal:5432/orders",
    );
    expect(redactText(`{"password":"${jsonPass}","user":"svc"}`)).toBe(
      '{"password":"[REDACTED:password]","user":"svc"}',
    );
    expect(redactText(`Authorization: Bearer ${bearer}`)).toBe(
      "Authorization: Bearer [REDACTED:authorization]",
    );
    expect(redactText(`{"Credentials":{"AccessKeyId":"${awsStsKeyId}"}}`)).toBe(
      '{"Credentials":{"AccessKeyId":"[REDACTED:aws-access-key-id]"}}',
    );
    expect(redactText(`dsn https://${sentryKey}@o1.ingest.sentry.io/2`)).toBe(
      "dsn https://[REDACTED:url-token]@o1.ingest.sentry.io/2",
    );
  });

  it("collapses a PEM block spanning lines into one marker and keeps the lines around it", () => {
    const text = [
      "before",
      "-----BEGIN RSA PRIVATE KEY-----",
      ...pemBody,
      "-----END RSA PRIVATE KEY-----",
      "after",
    ].join("\n");
    expect(redactText(text)).toBe("before\n[REDACTED:private-key]\nafter");
  });

  it("redacts to the end of the text when a PEM block has no END line", () => {
    const text = ["-----BEGIN PRIVATE KEY-----", ...pemBody].join("\n");
    const out = redactText(text);
    for (const line of pemBody) expect(out).not.toContain(line);
  });

  it("reports secretlint findings beyond the fast pass", async () => {
    const result = await redactSecretsThorough(`token ${slackBot} and ${npmToken}`);
    expect(result.text).toBe("token [REDACTED:slack-token] and [REDACTED:npm-token]");
    expect(result.findings).toBe(2);
  });

  it("leaves clean text unchanged and reports no findings", async () => {
    const result = await redactSecretsThorough(
      "Rollout web: canary step 2/4 failed analysis (error rate 7.5% > 5%)",
    );
    expect(result).toEqual({
      text: "Rollout web: canary step 2/4 failed analysis (error rate 7.5% > 5%)",
      findings: 0,
    });
  });
});

describe("redactText on ordinary logs", () => {
  const ordinary = [
    "2024-05-01T12:00:00.123Z INFO request served method=GET path=/api/v1/users/42 status=200 duration=12ms",
    "request_id=5913b75c-6c48-4b73-a92a-992a7b788616 trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 (HEAD -> main)",
    "Pulled image ghcr.io/acme/shop:v1.4.2@sha256:9b2f5e1c0d8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e",
    "pod/web-7d4b9c8f6-x2k9p condition met; replicaset web-7d4b9c8f6 scaled to 3",
    "I0501 12:00:00.123456       1 controller.go:123] Reconciling rollout default/web",
    "llm call finished token_count=42 max_tokens=4096 tokens_used: 1234",
    "GET https://api.example.com/v1/users?page=2&per_page=50 200",
    "fetching https://user@example.com/repo.git",
    "cache lookup key=user:123 hit=true",
    "secretName: db-credentials",
    "valueFrom:\n  secretKeyRef:\n    name: db\n    key: password",
    "authorization failed for user bob",
    "Bearer token expired, refreshing",
    "passed 42 tests, failed 0",
    "Back-off restarting failed container app in pod web-7d4b9c8f6-x2k9p",
    "Last State: Terminated Reason: OOMKilled Exit Code: 137",
    "session started for user 42",
    "1714564800 epoch tick",
    "-------------------------------------------------------",
    "task-runner-5 picked job sk-reindex",
    "password: ",
    "DB_PASSWORD: <set to the key 'password' in secret 'db'>  Optional: false",
    "ERROR unhandled exception in cart lost its session: java.lang.IllegalStateException",
    "WARN failed to refresh token: java.net.SocketTimeoutException: Read timed out",
    "invalid password: too short",
    "session=anonymous cookie=disabled",
  ];
  for (const line of ordinary) {
    it(`leaves unchanged: ${line.split("\n")[0]}`, () => {
      expect(redactText(line)).toBe(line);
      expect(redactLine(line.split("\n")[0] ?? "")).toBe(line.split("\n")[0]);
    });
  }
});

describe("redactLine", () => {
  it("is synchronous and returns a string", () => {
    const out = redactLine(`x ${ghp}`);
    expect(typeof out).toBe("string");
    expect(out).toBe("x [REDACTED:github-token]");
  });

  it("redacts a PEM BEGIN line to its end when the key continues on later lines", () => {
    expect(redactLine(`key=-----BEGIN PRIVATE KEY-----${pemBody[0]}`)).toBe("key=[REDACTED:private-key]");
  });
});

describe("createLineRedactor", () => {
  it("hides every body line of a private key streamed line by line", () => {
    const redact = createLineRedactor();
    const lines = ["ok", "-----BEGIN PRIVATE KEY-----", ...pemBody, "-----END PRIVATE KEY-----", "after"].map(
      redact,
    );
    for (const body of pemBody) expect(lines.join("\n")).not.toContain(body);
    expect(lines[0]).toBe("ok");
    expect(lines[lines.length - 1]).toBe("after");
  });
});

describe("isSecretEnvName", () => {
  const secret = [
    "DB_PASSWORD",
    "PASSWD",
    "MYSQL_ROOT_PWD",
    "GITHUB_TOKEN",
    "api_key",
    "APIKEY",
    "x-api-key",
    "stripeSecret",
    "CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AWS_SECRET_ACCESS_KEY",
    "SSH_PRIVATE_KEY",
    "SENTRY_DSN",
    "DATABASE_CONNECTION_STRING",
    "AUTH",
    "REDIS_AUTH",
    "dbPassword",
    "STRIPE_KEY",
  ];
  const plain = [
    "PATH",
    "HOME",
    "LOG_LEVEL",
    "TOKEN_COUNT",
    "MAX_TOKENS",
    "SECRET_NAME",
    "DB_PASSWORD_FILE",
    "AWS_ACCESS_KEY_ID",
    "PUBLIC_KEY",
    "TOKENIZER_MODEL",
    "AUTH_URL",
    "KUBERNETES_SERVICE_HOST",
  ];
  for (const name of secret) it(`treats ${name} as secret`, () => expect(isSecretEnvName(name)).toBe(true));
  for (const name of plain)
    it(`treats ${name} as not secret`, () => expect(isSecretEnvName(name)).toBe(false));
});

describe("redactEnvValue", () => {
  it("hides the value of a secret-looking name", () => {
    expect(redactEnvValue("DB_PASSWORD", "x")).toBe("[REDACTED:env]");
  });

  it("keeps an ordinary value but still redacts secrets inside it", () => {
    expect(redactEnvValue("LOG_LEVEL", "debug")).toBe("debug");
    expect(redactEnvValue("DATABASE_URL", `postgres://u:${pgPass}@db/x`)).toBe(
      "postgres://u:[REDACTED:url-password]@db/x",
    );
  });

  it("keeps an empty value empty", () => {
    expect(redactEnvValue("API_TOKEN", "")).toBe("");
  });
});

describe("redactObject", () => {
  it("returns a deep copy and leaves the input untouched", () => {
    const input = { a: { b: [`token ${ghp}`] } };
    const out = redactObject(input);
    expect(out).toEqual({ a: { b: ["token [REDACTED:github-token]"] } });
    expect(input.a.b[0]).toContain(ghp);
  });

  it("hides env entries with secret-looking names and keeps the rest", () => {
    const pod = {
      kind: "Pod",
      spec: {
        containers: [
          {
            name: "app",
            env: [
              { name: "DB_PASSWORD", value: envYamlPass },
              { name: "LOG_LEVEL", value: "debug" },
              { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } },
            ],
          },
        ],
      },
    };
    const out = redactObject(pod);
    expect(out.spec.containers[0]?.env).toEqual([
      { name: "DB_PASSWORD", value: "[REDACTED:env]" },
      { name: "LOG_LEVEL", value: "debug" },
      { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } },
    ]);
  });

  it("strips the data of a Secret, including the last applied configuration, but keeps key names", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "db",
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({
            data: { password: dockerAuth },
          }),
        },
      },
      data: { password: dockerAuth, username: "c3Zj" },
      stringData: { url: `postgres://u:${pgPass}@db/x` },
    };
    const out = redactObject(secret);
    const serialized = JSON.stringify(out);
    expect(serialized).not.toContain(dockerAuth);
    expect(serialized).not.toContain(pgPass);
    expect(serialized).not.toContain("c3Zj");
    expect(Object.keys(out.data)).toEqual(["password", "username"]);
    expect(out.metadata.name).toBe("db");
  });

  it("hides string values under secret-looking keys", () => {
    expect(redactObject({ auth: { token: queryToken, user: "svc" } })).toEqual({
      auth: { token: "[REDACTED:token]", user: "svc" },
    });
  });

  it("keeps numbers, booleans and null as they are", () => {
    expect(redactObject({ replicas: 3, paused: false, note: null })).toEqual({
      replicas: 3,
      paused: false,
      note: null,
    });
  });
});
