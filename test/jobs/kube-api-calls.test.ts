import { afterEach, describe, expect, it } from "vitest";
import { ClusterError, ConfigError } from "../../agent/errors.js";
import { createRemediationJob } from "../../agent/jobs/create-remediation-job.js";
import { ANNOTATION, buildRemediationJob, defaultJobTemplate } from "../../agent/jobs/job-template.js";
import { JobTemplateSource } from "../../agent/jobs/job-template-source.js";
import { createKubeApiClient, isRetryable } from "../../agent/jobs/kube-api-client.js";
import type { KubeApiClient } from "../../agent/jobs/kube-api-client.js";
import { recordRolloutEvent } from "../../agent/jobs/record-rollout-event.js";
import { silentLogger } from "../../agent/logger.js";
import { startKubeApiDouble } from "../helpers/kube-api-double.js";
import type { KubeApiDouble } from "../helpers/kube-api-double.js";

const SETTINGS = {
  image: "ghcr.io/rollout-medic/rollout-medic:0.1.0",
  serviceAccount: "rollout-medic-agent",
  secretName: "rollout-medic-agent",
  ttlSecondsAfterFinished: 86_400,
  backoffLimit: 2,
  activeDeadlineSeconds: 1800,
};
const FAILURE = {
  event: "rollout-aborted" as const,
  namespace: "shop",
  name: "checkout",
  uid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
  revision: "7",
  canaryPodHash: "6c9f8d7b5d",
};

let double: KubeApiDouble | undefined;
let client: KubeApiClient | undefined;
afterEach(async () => {
  client?.close();
  await double?.close();
  double = undefined;
});

async function setup(): Promise<{ double: KubeApiDouble; client: KubeApiClient }> {
  double = await startKubeApiDouble();
  client = createKubeApiClient({ kubeconfigPath: double.kubeconfigPath });
  return { double, client };
}

describe("jobs: creating the Job", () => {
  it("creates it, then answers AlreadyExists for the same failure as done", async () => {
    const { double, client } = await setup();
    const job = buildRemediationJob(defaultJobTemplate(SETTINGS), FAILURE, "rollout-medic");
    expect(await createRemediationJob(client, job)).toBe("created");
    expect(await createRemediationJob(client, job)).toBe("exists");
    const posted = double.requests.find((r) => r.method === "POST")!;
    expect(posted.authenticated).toBe(true);
    expect(posted.headers["content-type"]).toBe("application/json");
  });

  it("refuses a Job of the same name made for another failure", async () => {
    const { client } = await setup();
    const job = buildRemediationJob(defaultJobTemplate(SETTINGS), FAILURE, "rollout-medic");
    await createRemediationJob(client, job);
    const impostor = structuredClone(job);
    impostor.metadata.annotations = {
      ...impostor.metadata.annotations,
      [ANNOTATION.failureKey]: "other/key/1/x",
    };
    await expect(createRemediationJob(client, impostor)).rejects.toThrow(/exists for another failure/);
  });

  it("reports a refusal as a ClusterError that is retried only when transient", async () => {
    const { double, client } = await setup();
    const job = buildRemediationJob(defaultJobTemplate(SETTINGS), FAILURE, "rollout-medic");
    const path = "/apis/batch/v1/namespaces/rollout-medic/jobs";
    double.setFault(path, { status: 403 }, { method: "POST", times: 1 });
    const forbidden = await createRemediationJob(client, job).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ClusterError);
    expect((forbidden as Error).message).toMatch(/403.*forbidden/i);
    expect(isRetryable(forbidden)).toBe(false);
    double.setFault(path, { status: 503 }, { method: "POST", times: 1 });
    expect(isRetryable(await createRemediationJob(client, job).catch((e: unknown) => e))).toBe(true);
    double.setFault(path, { reset: true }, { method: "POST", times: 1 });
    const reset = await createRemediationJob(client, job).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(ClusterError);
    expect(isRetryable(reset)).toBe(true);
  });
});

describe("jobs: recording an Event on the Rollout", () => {
  it("records a core/v1 Event about the Rollout, as Argo's controller does", async () => {
    const { double, client } = await setup();
    const name = await recordRolloutEvent(client, {
      rollout: { namespace: "shop", name: "checkout", uid: FAILURE.uid },
      type: "Normal",
      reason: "PullRequestOpened",
      message: "opened https://github.com/acme/checkout/pull/42",
      action: "Open",
      reportingInstance: "rollout-medic-run-abc",
    });
    expect(name).toMatch(/^checkout\.[0-9a-f]+$/);
    const event = double.store.get(double.store.typeOf("", "events")!, "shop", name)!;
    expect(event).toMatchObject({
      involvedObject: {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        namespace: "shop",
        name: "checkout",
        uid: FAILURE.uid,
      },
      type: "Normal",
      reason: "PullRequestOpened",
      action: "Open",
      source: { component: "rollout-medic" },
      reportingComponent: "rollout-medic",
      reportingInstance: "rollout-medic-run-abc",
      count: 1,
    });
    expect(event["firstTimestamp"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe("jobs: the Job template source", () => {
  const source = (client: KubeApiClient, now = () => 0) =>
    new JobTemplateSource({
      client,
      namespace: "rollout-medic",
      configMap: "rollout-medic-job-template",
      settings: SETTINGS,
      logger: silentLogger(),
      cacheMs: 1000,
      now,
    });

  it("uses the built-in template when the ConfigMap does not exist, and the ConfigMap's when it does", async () => {
    const { double, client } = await setup();
    let clock = 0;
    const templates = source(client, () => clock);
    expect((await templates.get()).origin).toBe("built-in");
    const custom = defaultJobTemplate({ ...SETTINGS, image: "registry.example/custom:1" });
    double.store.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "rollout-medic-job-template", namespace: "rollout-medic" },
      data: { "job.yaml": JSON.stringify(custom) },
    });
    expect((await templates.get()).origin).toBe("built-in");
    clock = 2000;
    const loaded = await templates.get();
    expect(loaded.origin).toBe("ConfigMap rollout-medic/rollout-medic-job-template");
    expect(loaded.job.spec.template.spec.containers[0]!["image"]).toBe("registry.example/custom:1");
  });

  it("refuses an invalid template rather than falling back to the built-in one", async () => {
    const { double, client } = await setup();
    const put = (data: Record<string, string>) =>
      double.store.put({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "rollout-medic-job-template", namespace: "rollout-medic" },
        data,
      });
    put({ "job.yaml": "kind: Job\napiVersion: batch/v1\nspec: {backoffLimit: many}" });
    await expect(source(client).get()).rejects.toThrow(ConfigError);
    put({ other: "x" });
    await expect(source(client).get()).rejects.toThrow(/no "job.yaml" key/);
    put({ "job.yaml": "a: [" });
    await expect(source(client).get()).rejects.toThrow(/not valid YAML/);
  });

  it("keeps the last template read while the API server fails", async () => {
    const { double, client } = await setup();
    let clock = 0;
    const templates = source(client, () => clock);
    await templates.get();
    clock = 5000;
    double.setFault("/api/v1/namespaces/rollout-medic/configmaps/rollout-medic-job-template", {
      status: 500,
    });
    expect((await templates.get()).origin).toBe("built-in");
    const fresh = source(client);
    await expect(fresh.get()).rejects.toThrow(ClusterError);
  });
});
