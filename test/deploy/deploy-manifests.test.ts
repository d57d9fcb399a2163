import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { KUBERNETES_API_CALLS } from "../../agent/cluster/kubernetes-cluster.js";
import { defaultJobTemplate, jobTemplateProblem } from "../../agent/jobs/job-template.js";
import { RECEIVER_KUBERNETES_API_CALLS } from "../../agent/jobs/receiver-api-calls.js";
import { RECORD_ROLLOUT_EVENT_API_CALLS } from "../../agent/jobs/record-rollout-event.js";
import { ROLLOUT_EVENTS, jobNameFor } from "../../agent/jobs/rollout-failure.js";
import { parseRolloutNotification } from "../../agent/serve/rollout-notification.js";
import { fixtureNotifications, fixtureRollout } from "../serve/serve-harness.js";
import type { Manifest } from "./deploy-objects.js";
import { ROOT, findHelm, hasKubectl, readManifests, renderHelm, renderKustomize, unknownFields } from "./deploy-objects.js";

const MODELS: Record<string, () => Promise<new (data: never) => { validate(): void }>> = {
  "v1/Namespace": async () => (await import("kubernetes-models/v1/Namespace")).Namespace,
  "v1/ServiceAccount": async () => (await import("kubernetes-models/v1/ServiceAccount")).ServiceAccount,
  "v1/Service": async () => (await import("kubernetes-models/v1/Service")).Service,
  "v1/Secret": async () => (await import("kubernetes-models/v1/Secret")).Secret,
  "v1/ConfigMap": async () => (await import("kubernetes-models/v1/ConfigMap")).ConfigMap,
  "apps/v1/Deployment": async () => (await import("kubernetes-models/apps/v1/Deployment")).Deployment,
  "batch/v1/Job": async () => (await import("kubernetes-models/batch/v1/Job")).Job,
  "networking.k8s.io/v1/NetworkPolicy": async () => (await import("kubernetes-models/networking.k8s.io/v1/NetworkPolicy")).NetworkPolicy,
  "policy/v1/PodDisruptionBudget": async () => (await import("kubernetes-models/policy/v1/PodDisruptionBudget")).PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": async () => (await import("kubernetes-models/rbac.authorization.k8s.io/v1/Role")).Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": async () =>
    (await import("kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding")).RoleBinding,
  "rbac.authorization.k8s.io/v1/ClusterRole": async () =>
    (await import("kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole")).ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": async () =>
    (await import("kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding")).ClusterRoleBinding,
};

/** Kubernetes schema (types, enums, required fields) and strict field validation, as the API server does. */
async function problemsOf(object: Manifest): Promise<string[]> {
  const load = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!load) return [`${object.kind}/${object.metadata.name}: no schema for ${object.apiVersion} ${object.kind}`];
  const problems: string[] = [];
  const Model = await load();
  try {
    new Model(object as never).validate();
  } catch (error) {
    problems.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message.split("\n")[0]}`);
  }
  for (const field of unknownFields(object)) problems.push(`${object.kind}/${object.metadata.name}: unknown field ${field}`);
  return problems;
}

type Call = { verb: string; group: string; resource: string };
const key = (c: Call) => `${c.verb} ${c.group || "core"}/${c.resource}`;

/** Every (verb, group, resource) the Roles and ClusterRoles bound to a service account grant. */
function grants(objects: Manifest[], serviceAccount: string): string[] {
  const bound = new Set(
    objects
      .filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")
      .filter((o) => ((o["subjects"] ?? []) as { kind: string; name: string }[]).some((s) => s.kind === "ServiceAccount" && s.name === serviceAccount))
      .map((o) => `${(o["roleRef"] as { kind: string }).kind}/${(o["roleRef"] as { name: string }).name}`),
  );
  const out = new Set<string>();
  for (const role of objects.filter((o) => bound.has(`${o.kind}/${o.metadata.name}`))) {
    for (const rule of (role["rules"] ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) for (const verb of rule.verbs) out.add(key({ verb, group, resource }));
      }
    }
  }
  return [...out].sort();
}

/** What `rollout-medic run` calls: the read-only cluster layer, plus Events once the run command records them. */
function agentCalls(): string[] {
  let runSource = "";
  try {
    runSource = readFileSync(path.join(ROOT, "agent/cli/run-command.ts"), "utf8");
  } catch {
    // Not written yet.
  }
  const calls: Call[] = [...KUBERNETES_API_CALLS, ...(runSource.includes("record-rollout-event") ? RECORD_ROLLOUT_EVENT_API_CALLS : [])];
  return [...new Set(calls.map(key))].sort();
}

function checkRbac(objects: Manifest[], agent: string, receiver: string): void {
  expect(grants(objects, agent)).toEqual(agentCalls());
  expect(grants(objects, receiver)).toEqual([...new Set(RECEIVER_KUBERNETES_API_CALLS.map(key))].sort());
  for (const role of objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole")) {
    const rules = (role["rules"] ?? []) as { resources: string[]; verbs: string[] }[];
    expect(rules.flatMap((r) => r.resources)).not.toContain("secrets");
    expect(rules.flatMap((r) => [...r.resources, ...r.verbs])).not.toContain("*");
  }
}

const baseFiles = (): Manifest[] => {
  const kustomization = parse(readFileSync(path.join(ROOT, "deploy/base/kustomization.yaml"), "utf8")) as { resources: string[] };
  return kustomization.resources.flatMap((file) => readManifests(`deploy/base/${file}`));
};

describe("deploy: the kustomize base", () => {
  const kubectl = hasKubectl();
  if (!kubectl) console.warn("[deploy] kubectl not found: the kustomize base is checked file by file, not rendered");
  const objects = () => (kubectl ? renderKustomize("deploy/base") : baseFiles());

  it("renders objects that pass the Kubernetes schemas and strict field validation", async () => {
    const rendered = objects();
    expect(rendered.map((o) => o.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRole",
      "ClusterRoleBinding",
      "ClusterRoleBinding",
      "Deployment",
      "Namespace",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
      "ServiceAccount",
    ]);
    const problems = (await Promise.all(rendered.map(problemsOf))).flat();
    expect(problems).toEqual([]);
  });

  it("grants the agent exactly the calls of KUBERNETES_API_CALLS and the receiver exactly its own", () => {
    checkRbac(objects(), "rollout-medic-agent", "rollout-medic-receiver");
  });

  it("gives the Jobs the receiver's image and admits only the Argo Rollouts namespace", () => {
    const rendered = objects();
    const deployment = rendered.find((o) => o.kind === "Deployment")!;
    const container = (deployment["spec"] as { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } })
      .template.spec.containers[0]!;
    expect(container.env.find((e) => e.name === "ROLLOUT_MEDIC_JOB_IMAGE")?.value).toBe(container.image);
    const policy = rendered.find((o) => o.kind === "NetworkPolicy")!;
    expect(JSON.stringify(policy["spec"])).toContain('"kubernetes.io/metadata.name":"argo-rollouts"');
    expect((deployment["spec"] as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
  });

  it("ships Secret templates that are valid objects but not applied", async () => {
    const secrets = [
      ...readManifests("deploy/base/secret.example.yaml"),
      ...readManifests("deploy/notifications/argo-rollouts-notification-secret.example.yaml"),
    ];
    expect((await Promise.all(secrets.map(problemsOf))).flat()).toEqual([]);
    expect(objects().some((o) => o.kind === "Secret")).toBe(false);
  });
});

describe("deploy: the Helm chart", () => {
  const helm = findHelm();
  if (!helm) {
    console.warn(
      "[deploy] helm not found (PATH, $ROLLOUT_MEDIC_HELM, ~/.cache/rollout-medic/helm/bin): the chart is not rendered; " +
        "install it with `go install helm.sh/helm/v3/cmd/helm@v3.19.0` to check it",
    );
  }
  const values = readFileSync(path.join(ROOT, "deploy/helm/rollout-medic/values.yaml"), "utf8");

  it("uses only values that values.yaml defines", () => {
    const defined = parse(values) as Record<string, unknown>;
    const dir = path.join(ROOT, "deploy/helm/rollout-medic/templates");
    const missing: string[] = [];
    for (const file of readdirSync(dir)) {
      for (const match of readFileSync(path.join(dir, file), "utf8").matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        let node: unknown = defined;
        for (const part of match[1]!.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
        if (node === undefined) missing.push(`${file}: .Values.${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.skipIf(!helm)("renders the same objects as the kustomize base, valid and with the same RBAC", async () => {
    const rendered = renderHelm(helm!, "rollout-medic", ["webhook.token=0123456789abcdef0123"]);
    expect((await Promise.all(rendered.map(problemsOf))).flat()).toEqual([]);
    checkRbac(rendered, "rollout-medic-agent", "rollout-medic-receiver");
    const names = (objects: Manifest[]) =>
      objects
        .filter((o) => o.kind !== "Namespace" && o.kind !== "Secret")
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
    const base = hasKubectl() ? renderKustomize("deploy/base") : baseFiles();
    expect(names(rendered)).toEqual(names(base));
    const env = (objects: Manifest[]) =>
      (objects.find((o) => o.kind === "Deployment")!["spec"] as { template: { spec: { containers: { env: { name: string }[] }[] } } }).template.spec.containers[0]!.env.map(
        (e) => e.name,
      );
    expect(env(rendered)).toEqual(expect.arrayContaining(env(base)));
  });

  it.skipIf(!helm)("refuses to render without a token and renders a custom Job template as the ConfigMap", () => {
    expect(() => renderHelm(helm!, "rollout-medic", [])).toThrow(/webhook.token/);
    const template = JSON.stringify(
      defaultJobTemplate({
        image: "registry.example/rollout-medic:1",
        serviceAccount: "rollout-medic-agent",
        secretName: "rollout-medic-agent",
        ttlSecondsAfterFinished: 600,
        backoffLimit: 1,
        activeDeadlineSeconds: 900,
      }),
    );
    const file = path.join(mkdtempSync(path.join(tmpdir(), "helm-values-")), "job.yaml");
    writeFileSync(file, stringify(JSON.parse(template)));
    const rendered = renderHelm(
      helm!,
      "rollout-medic",
      ["webhook.existingSecret=my-secret", "networkPolicy.enabled=false"],
      [`job.template=${file}`],
    );
    expect(rendered.some((o) => o.kind === "NetworkPolicy" || o.kind === "Secret")).toBe(false);
    const configMap = rendered.find((o) => o.kind === "ConfigMap")!;
    expect(configMap.metadata.name).toBe("rollout-medic-job-template");
    expect(jobTemplateProblem(parse((configMap["data"] as Record<string, string>)["job.yaml"]!))).toBeNull();
  });
});

/** Go's text/template with sprig, for exactly the expressions the snippet's bodies use (anything else throws). */
function renderGoTemplate(template: string, vars: Record<string, unknown>): string {
  const lookup = (dotted: string): unknown =>
    dotted
      .split(".")
      .filter(Boolean)
      .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], vars);
  return template.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, expression: string) => {
    let match = /^toJson (\.[\w.]+)$/.exec(expression);
    if (match) return JSON.stringify(lookup(match[1]!) ?? null);
    match = /^index (\.[\w.]+) "([^"]+)" \| toJson$/.exec(expression);
    if (match) return JSON.stringify((lookup(match[1]!) as Record<string, unknown> | undefined)?.[match[2]!] ?? null);
    throw new Error(`expression not emulated: ${expression}`);
  });
}

describe("deploy: the notification ConfigMap snippet", () => {
  const configMap = readManifests("deploy/notifications/argo-rollouts-notification-configmap.yaml")[0]!;
  const data = configMap["data"] as Record<string, string>;

  it("is a valid ConfigMap whose templates, triggers and subscriptions refer to each other", async () => {
    expect(await problemsOf(configMap)).toEqual([]);
    expect(configMap.metadata).toMatchObject({ name: "argo-rollouts-notification-configmap", namespace: "argo-rollouts" });
    const service = parse(data["service.webhook.rollout-medic"]!) as { url: string; headers: { name: string; value: string }[] };
    expect(service.headers).toEqual(
      expect.arrayContaining([
        { name: "Content-Type", value: "application/json" },
        { name: "Authorization", value: "Bearer $rollout-medic-token" },
      ]),
    );
    const templates = Object.keys(data).filter((k) => k.startsWith("template.")).map((k) => k.slice("template.".length));
    const triggers = Object.keys(data).filter((k) => k.startsWith("trigger.")).map((k) => k.slice("trigger.".length));
    for (const trigger of triggers) {
      const conditions = parse(data[`trigger.${trigger}`]!) as { send: string[]; when?: string }[];
      for (const condition of conditions) for (const name of condition.send) expect(templates).toContain(name);
    }
    expect(triggers).toEqual(
      expect.arrayContaining(["on-rollout-aborted", "on-analysis-run-failed", "on-analysis-run-error"]),
    );
    const degraded = triggers.filter((t) => (parse(data[`trigger.${t}`]!) as { when?: string }[]).some((c) => c.when === "rollout.status.phase == 'Degraded'"));
    expect(degraded.length).toBeGreaterThan(0);
    const subscriptions = parse(data["subscriptions"]!) as { recipients: string[]; triggers: string[] }[];
    expect(subscriptions[0]!.recipients).toEqual(["rollout-medic"]);
    expect([...subscriptions[0]!.triggers].sort()).toEqual([...triggers].sort());
    for (const event of ROLLOUT_EVENTS) {
      const webhook = (parse(data[`template.rollout-medic-${event}`]!) as { webhook: { "rollout-medic": { method: string; path: string } } })
        .webhook["rollout-medic"];
      expect(webhook.method).toBe("POST");
      expect(webhook.path).toBe(`/v1/rollout-events/${event}`);
    }
  });

  it("renders, for each recorded fixture Rollout, the compact body of its notification.json", () => {
    const notifications = fixtureNotifications();
    expect(notifications.length).toBeGreaterThan(5);
    for (const { scenario, body } of notifications) {
      const rollout = fixtureRollout(scenario);
      // A Rollout that recovered after its notification (fixtures/not-failed) no longer renders the same body.
      if (rollout.status?.stableRS === rollout.status?.currentPodHash) continue;
      const template = parse(data[`template.rollout-medic-${body["event"]}`]!) as { webhook: { "rollout-medic": { body: string } } };
      const rendered = JSON.parse(renderGoTemplate(template.webhook["rollout-medic"].body, { rollout })) as unknown;
      expect(rendered, scenario).toEqual(body);
      expect(parseRolloutNotification(rendered, body["event"]).ok, scenario).toBe(true);
    }
  });
});

describe("deploy: the Argo Events alternative", () => {
  const objects = [...readManifests("deploy/argo-events/eventsource.yaml"), ...readManifests("deploy/argo-events/sensor.yaml")];
  const secretRef = z.object({ name: z.string(), key: z.string() }).strict();
  // The fields used, as argo-events' pkg/apis/events/v1alpha1 types name them; strict so that typos fail.
  const EventSource = z
    .object({
      apiVersion: z.literal("argoproj.io/v1alpha1"),
      kind: z.literal("EventSource"),
      metadata: z.object({ name: z.string(), namespace: z.string() }).strict(),
      spec: z
        .object({
          template: z.object({ serviceAccountName: z.string() }).strict().optional(),
          service: z.object({ ports: z.array(z.object({ port: z.number(), targetPort: z.number() }).strict()) }).strict().optional(),
          webhook: z
            .record(
              z.string(),
              z.object({ port: z.string(), endpoint: z.string().startsWith("/"), method: z.literal("POST"), authSecret: secretRef }).strict(),
            )
            .optional(),
          resource: z
            .record(
              z.string(),
              z
                .object({
                  namespace: z.string(),
                  group: z.string(),
                  version: z.string(),
                  resource: z.string(),
                  eventTypes: z.array(z.enum(["ADD", "UPDATE", "DELETE"])),
                  filter: z.object({ fields: z.array(z.object({ key: z.string(), operation: z.string(), value: z.string() }).strict()) }).strict(),
                })
                .strict(),
            )
            .optional(),
        })
        .strict(),
    })
    .strict();
  const Parameter = z
    .object({ src: z.object({ dependencyName: z.string(), dataTemplate: z.string() }).strict(), dest: z.string() })
    .strict();
  const Sensor = z
    .object({
      apiVersion: z.literal("argoproj.io/v1alpha1"),
      kind: z.literal("Sensor"),
      metadata: z.object({ name: z.string(), namespace: z.string() }).strict(),
      spec: z
        .object({
          template: z.object({ serviceAccountName: z.string() }).strict(),
          dependencies: z.array(
            z
              .object({
                name: z.string(),
                eventSourceName: z.string(),
                eventName: z.string(),
                filters: z
                  .object({ data: z.array(z.object({ path: z.string(), type: z.literal("string"), value: z.array(z.string()) }).strict()) })
                  .strict()
                  .optional(),
              })
              .strict(),
          ),
          triggers: z.array(
            z
              .object({
                template: z
                  .object({
                    name: z.string(),
                    conditions: z.string(),
                    k8s: z
                      .object({
                        operation: z.literal("create"),
                        source: z.object({ resource: z.record(z.string(), z.unknown()) }).strict(),
                        parameters: z.array(Parameter),
                      })
                      .strict(),
                  })
                  .strict(),
              })
              .strict(),
          ),
        })
        .strict(),
    })
    .strict();

  it("has an EventSource for each notification and a Sensor trigger, valid against the Argo Events types", () => {
    const sources = objects.filter((o) => o.kind === "EventSource").map((o) => EventSource.parse(o));
    const sensor = Sensor.parse(objects.find((o) => o.kind === "Sensor"));
    const webhook = sources.find((s) => s.spec.webhook)!.spec.webhook!;
    expect(Object.keys(webhook).sort()).toEqual([...ROLLOUT_EVENTS].sort());
    for (const [event, hook] of Object.entries(webhook)) expect(hook.endpoint).toBe(`/v1/rollout-events/${event}`);
    const eventNames = new Set(sources.flatMap((s) => [...Object.keys(s.spec.webhook ?? {}), ...Object.keys(s.spec.resource ?? {})]));
    for (const dependency of sensor.spec.dependencies) expect(eventNames.has(dependency.eventName)).toBe(true);
    expect(sensor.spec.triggers.map((t) => t.template.conditions).sort()).toEqual(sensor.spec.dependencies.map((d) => d.name).sort());
  });

  it("creates the built-in Job template, with the receiver's deterministic name", async () => {
    const sensor = Sensor.parse(objects.find((o) => o.kind === "Sensor"));
    const builtIn = defaultJobTemplate({
      image: "ghcr.io/rollout-medic/rollout-medic:0.1.0",
      serviceAccount: "rollout-medic-agent",
      secretName: "rollout-medic-agent",
      ttlSecondsAfterFinished: 86_400,
      backoffLimit: 2,
      activeDeadlineSeconds: 1800,
    });
    for (const trigger of sensor.spec.triggers) {
      const job = trigger.template.k8s.source.resource as unknown as Manifest;
      expect(job["spec"]).toEqual(builtIn.spec);
      expect(await problemsOf(job)).toEqual([]);
      const nameTemplate = trigger.template.k8s.parameters.find((p) => p.dest === "metadata.name")!.src.dataTemplate;
      expect(nameTemplate).toContain("sha256sum | trunc 16");
    }
    // The sprig pipeline of the name, step by step, against jobNameFor.
    const sprigName = (f: { namespace: string; name: string; revision: string; canaryPodHash: string }) => {
      let readable = f.name.replaceAll(".", "-").slice(0, 30); // replace "." "-" | trunc 30
      if (readable.endsWith("-")) readable = readable.slice(0, -1); // trimSuffix "-"
      const digest = createHash("sha256").update(`${f.namespace}/${f.name}/${f.revision}/${f.canaryPodHash}`).digest("hex");
      return `medic-${readable}-${digest.slice(0, 16)}`; // sha256sum | trunc 16
    };
    for (const name of ["checkout", "a.b.c", `${"x".repeat(29)}-tail`, "api.v2.payments-service-blue-green", "x".repeat(253)]) {
      const failure = { namespace: "shop", name, revision: "12", canaryPodHash: "6c9f8d7b5d" };
      expect(sprigName(failure)).toBe(jobNameFor(failure));
      expect(jobNameFor(failure).length).toBeLessThanOrEqual(63);
    }
  });
});

describe("deploy: the Dockerfile", () => {
  const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  it("builds in stages, prunes dev dependencies, ships git and runs as non-root", () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/\bgit\b/);
    expect(dockerfile).toMatch(/^USER 65532/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/bundle\/rollout-medic\.mjs"\]/m);
    const ignored = readFileSync(path.join(ROOT, ".dockerignore"), "utf8");
    for (const entry of ["node_modules", ".git", "dist"]) expect(ignored).toContain(entry);
    // The build stage bundles the CLI: its script is copied in and excepted from the ignore list.
    expect(dockerfile).toMatch(/^COPY scripts\/bundle-cli\.mjs /m);
    expect(ignored).toContain("!scripts/bundle-cli.mjs");
  });
});
