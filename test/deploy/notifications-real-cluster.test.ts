import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../agent/config.js";
import { buildRemediationJob, defaultJobTemplate } from "../../agent/jobs/job-template.js";
import { createKubeApiClient } from "../../agent/jobs/kube-api-client.js";
import { silentLogger } from "../../agent/logger.js";
import { startServe } from "../../agent/serve/start-serve.js";
import type { RunningServe } from "../../agent/serve/start-serve.js";
import { ensureRealClusterBinaries, startRealCluster } from "../e2e/harness/real-cluster.js";
import type { RealCluster } from "../e2e/harness/real-cluster.js";
import { findHelm } from "./deploy-objects.js";

/**
 * The shipped notification snippet in a real Argo Rollouts controller, the receiver on loopback and a real
 * kube-apiserver: a crash-looping canary with progressDeadlineAbort gives one Job and one Event, and every
 * shipped manifest passes the API server's own validation (strict, dry run). Runs only where the
 * real-cluster binaries are already built (scripts/real-cluster/build.sh); it never builds them.
 */
const binaries = await ensureRealClusterBinaries({ build: false });
if (!binaries.available) {
  console.warn(`[notifications-real-cluster] SKIPPED: ${binaries.reason}`);
}

const TOKEN = "real-cluster-token-0123456789";
const PLURALS: Record<string, string> = {
  Namespace: "namespaces",
  ServiceAccount: "serviceaccounts",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
  Role: "roles",
  RoleBinding: "rolebindings",
  Deployment: "deployments",
  Service: "services",
  NetworkPolicy: "networkpolicies",
  PodDisruptionBudget: "poddisruptionbudgets",
  Secret: "secrets",
  ConfigMap: "configmaps",
  Job: "jobs",
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

function objectPath(object: Manifest, namespace: string): string {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const plural = PLURALS[object.kind];
  if (!plural) throw new Error(`no plural for ${object.kind}`);
  const clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(object.kind);
  const ns = clusterScoped ? "" : `/namespaces/${object.metadata.namespace ?? namespace}`;
  return `${prefix}${ns}/${plural}/${object.metadata.name}`;
}

describe.skipIf(!binaries.available)("deploy: against a real API server and Argo Rollouts controller", () => {
  let cluster: RealCluster | undefined;
  let serve: RunningServe | undefined;
  const k = () => cluster!;

  beforeAll(async () => {
    cluster = await startRealCluster({
      ...(binaries.available ? { binDir: binaries.bin } : {}),
      crashLoopStages: [{ labelKey: "crash", labelValue: "yes", reason: "Error", exitCode: 1, restartEverySeconds: 3 }],
    });
  }, 300_000);

  afterAll(async () => {
    await serve?.close();
    await cluster?.stop();
  });

  async function dryRunStrict(objects: Manifest[], namespace: string): Promise<string[]> {
    const problems: string[] = [];
    for (const object of objects) {
      const response = await k().request(
        "PATCH",
        `${objectPath(object, namespace)}?fieldManager=rollout-medic-test&force=true&dryRun=All&fieldValidation=Strict`,
        object,
        { contentType: "application/apply-patch+yaml" },
      );
      if (response.status >= 300) {
        problems.push(`${object.kind}/${object.metadata.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 400)}`);
      }
    }
    return problems;
  }

  it("accepts every object of the kustomize base, the Helm chart and the Job with strict validation", async () => {
    await k().createNamespace("rollout-medic");
    const base = parseAllDocuments(execFileSync("kubectl", ["kustomize", "deploy/base"], { encoding: "utf8" })).map(
      (d) => d.toJS() as Manifest,
    );
    expect(await dryRunStrict(base, "rollout-medic")).toEqual([]);
    const helm = findHelm();
    if (helm) {
      const rendered = execFileSync(
        helm,
        ["template", "medic", "deploy/helm/rollout-medic", "-n", "rollout-medic", "--set", `webhook.token=${TOKEN}`],
        { encoding: "utf8" },
      );
      const objects = parseAllDocuments(rendered)
        .map((d) => d.toJS() as Manifest | null)
        .filter((o): o is Manifest => o !== null);
      expect(await dryRunStrict(objects, "rollout-medic")).toEqual([]);
    }
    const job = buildRemediationJob(
      defaultJobTemplate({
        image: "registry.invalid/rollout-medic:test",
        serviceAccount: "rollout-medic-agent",
        secretName: "rollout-medic-agent",
        ttlSecondsAfterFinished: 86_400,
        backoffLimit: 2,
        activeDeadlineSeconds: 1800,
      }),
      {
        event: "rollout-aborted",
        namespace: "shop",
        name: "checkout",
        uid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
        revision: "7",
        canaryPodHash: "6c9f8d7b5d",
      },
      "rollout-medic",
    );
    expect(await dryRunStrict([job as unknown as Manifest], "rollout-medic")).toEqual([]);
    // The restricted Pod Security Standard of the namespace admits the Job's pod (a dry-run create).
    const created = await k().request("POST", "/apis/batch/v1/namespaces/rollout-medic/jobs?dryRun=All", job);
    expect(created.status, JSON.stringify(created.body).slice(0, 400)).toBe(201);
  }, 120_000);

  it("turns an aborted crash-looping canary into exactly one Job and one Event on the Rollout", async () => {
    const settings = loadConfig({
      ROLLOUT_MEDIC_WEBHOOK_TOKEN: TOKEN,
      ROLLOUT_MEDIC_JOB_IMAGE: "registry.invalid/rollout-medic:test",
    }).serve;
    serve = await startServe({
      settings,
      client: createKubeApiClient({ kubeconfigPath: k().kubeconfigPath }),
      logger: silentLogger(),
      host: "127.0.0.1",
      port: 0,
    });
    const configMap = parse(readFileSync("deploy/notifications/argo-rollouts-notification-configmap.yaml", "utf8")) as {
      data: Record<string, string>;
    };
    configMap.data["service.webhook.rollout-medic"] = configMap.data["service.webhook.rollout-medic"]!.replace(
      "http://rollout-medic.rollout-medic.svc.cluster.local:8080",
      serve.url,
    );
    await k().applyYaml(stringify(configMap));
    await k().applyYaml(
      stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "argo-rollouts-notification-secret", namespace: "argo-rollouts" },
        stringData: { "rollout-medic-token": TOKEN },
      }),
    );
    const ns = "shop";
    await k().createNamespace(ns);
    const rollout = (image: string, crash: boolean) =>
      stringify({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: { name: "checkout", namespace: ns },
        spec: {
          replicas: 2,
          progressDeadlineSeconds: 10,
          progressDeadlineAbort: true,
          selector: { matchLabels: { app: "checkout" } },
          template: {
            metadata: { labels: { app: "checkout", ...(crash ? { crash: "yes" } : {}) } },
            spec: { containers: [{ name: "app", image, resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
          },
          strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
        },
      });
    const phase = async () =>
      (await k().request<{ status?: { phase?: string } }>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/checkout`))
        .body.status?.phase;
    await k().applyYaml(rollout("registry.invalid/checkout:1", false));
    await k().waitFor("Rollout Healthy", async () => (await phase()) === "Healthy", 90_000);
    await k().applyYaml(rollout("registry.invalid/checkout:2", true));
    await k().waitFor("Rollout Degraded", async () => (await phase()) === "Degraded", 120_000);

    const jobs = await k().waitFor(
      "the remediation Job",
      async () => {
        await serve!.dispatcher.drain(5_000);
        const r = await k().request<{ items: { metadata: { name: string; annotations?: Record<string, string> }; spec: { template: { spec: { containers: { args: string[] }[] } } } }[] }>(
          "GET",
          "/apis/batch/v1/namespaces/rollout-medic/jobs",
        );
        return r.body.items.length > 0 ? r.body.items : undefined;
      },
      60_000,
    );
    // The controller records RolloutAborted twice; the second notification is a duplicate.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await serve.dispatcher.drain(5_000);
    const all = await k().request<{ items: unknown[] }>("GET", "/apis/batch/v1/namespaces/rollout-medic/jobs");
    expect(all.body.items).toHaveLength(1);
    expect(jobs[0]!.metadata.annotations?.["rollout-medic.dev/event"]).toBe("rollout-aborted");
    expect(jobs[0]!.spec.template.spec.containers[0]!.args).toEqual(["run", "--namespace", ns, "--rollout", "checkout"]);
    const events = await k().request<{ items: { reason: string; involvedObject: { kind: string; name: string } }[] }>(
      "GET",
      `/api/v1/namespaces/${ns}/events`,
    );
    const ours = events.body.items.filter((e) => e.reason === "RemediationJobCreated");
    expect(ours).toHaveLength(1);
    expect(ours[0]!.involvedObject).toMatchObject({ kind: "Rollout", name: "checkout" });
    expect(serve.metrics.jobsCreated).toBe(1);
    expect(serve.metrics.rejected.get("invalid_notification")).toBe(0);
    expect(serve.metrics.rejected.get("unauthorized")).toBe(0);
  }, 300_000);
});
