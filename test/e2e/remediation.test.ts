/**
 * rollout-medic end to end against REAL Kubernetes components (the run's one cluster from
 * test/e2e/global-setup.ts): the real Argo Rollouts controller fails a canary and sends its
 * notification, configured with the EXACT snippet of deploy/notifications/ (only the webhook URL points
 * at loopback), to the BUILT `rollout-medic serve`, which runs as deploy/base/deployment.yaml's
 * container with the receiver's shipped RBAC; the Job it creates is then run as its pod would run
 * (`node dist/agent/cli/main.js` with the Job's args and env, the agent service account's token,
 * so the shipped agent RBAC applies) against a GitHub double and a real git server.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import YAML from "yaml";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { startGitHubDouble, type GitHubDouble } from "../helpers/github-double.js";
import {
  baseProcessEnv,
  mapMounts,
  parsePrometheus,
  readDeployManifests,
  REPO_ROOT,
  resolveContainerEnv,
  runCli,
  serviceAccountKubeconfig,
  startReceiver,
  type CliResult,
  type ContainerSpec,
  type Receiver,
} from "./harness/medic-processes.js";
import type { KubeObject, RealCluster } from "./harness/real-cluster.js";
import { connectSharedCluster, sharedRealCluster } from "./harness/shared-cluster.js";

const shared = sharedRealCluster();
if (!shared.available) console.warn(`[e2e remediation] SKIPPED: ${shared.reason}`);

const OWNER = "acme";
const MEDIC_NAMESPACE = "rollout-medic";
const FORGE_TOKEN = `ghs_e2e${randomBytes(16).toString("hex")}`;
const WEBHOOK_TOKEN = randomBytes(24).toString("hex");
/** The in-cluster URL the shipped snippet sends to; the only thing the test changes in it. */
const SHIPPED_WEBHOOK_URL = "http://rollout-medic.rollout-medic.svc.cluster.local:8080";
const NOTIFICATION_SNIPPET = "deploy/notifications/argo-rollouts-notification-configmap.yaml";
/** The measured error rate the test's metric server reports for every canary. */
const ERROR_RATE = 0.31;

interface RolloutStatus {
  phase?: string;
  message?: string;
  abort?: boolean;
  currentPodHash?: string;
  stableRS?: string;
}
interface RolloutObject extends KubeObject {
  metadata: KubeObject["metadata"] & { uid?: string; annotations?: Record<string, string> };
  status?: RolloutStatus;
}
interface JobObject extends KubeObject {
  metadata: KubeObject["metadata"] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        securityContext?: Record<string, unknown>;
        containers: ContainerSpec[];
        restartPolicy?: string;
      };
    };
    backoffLimit?: number;
    podFailurePolicy?: unknown;
  };
}
interface PodObject extends KubeObject {
  metadata: KubeObject["metadata"] & { labels?: Record<string, string> };
  status?: { phase?: string };
}
interface ListOf<T> {
  items: T[];
}

// ---------------------------------------------------------------------------------------------------
// Manifests: what a team would keep in its GitOps repository (and what the test applies).

interface RolloutManifest {
  name: string;
  image: string;
  repoUrl?: string;
  /** Pod template label that kwok's OOMKilled crash-loop stage selects (the "bad release"). */
  crash?: boolean;
  /** AnalysisTemplate name run as a canary step. */
  analysis?: string;
  /** nginx traffic routing: an aborted canary's pods then stay for abortScaleDownDelaySeconds. */
  trafficRouting?: boolean;
  progressDeadlineAbort?: boolean;
  abortScaleDownDelaySeconds?: number;
}

function rolloutYaml(m: RolloutManifest): string {
  const lines = [
    "apiVersion: argoproj.io/v1alpha1",
    "kind: Rollout",
    "metadata:",
    `  name: ${m.name}`,
    ...(m.repoUrl ? ["  annotations:", `    rollout-medic.dev/repo: ${m.repoUrl}`] : []),
    "spec:",
    "  replicas: 2",
    "  revisionHistoryLimit: 3",
    ...(m.progressDeadlineAbort ? ["  progressDeadlineSeconds: 10", "  progressDeadlineAbort: true"] : []),
    "  selector:",
    "    matchLabels:",
    `      app: ${m.name}`,
    "  template:",
    "    metadata:",
    "      labels:",
    `        app: ${m.name}`,
    ...(m.crash ? ["        rollout-medic.e2e/crash: oomkilled"] : []),
    "    spec:",
    "      containers:",
    `        - name: ${m.name}`,
    `          image: ${m.image}`,
    "          ports:",
    "            - containerPort: 8080",
    "          resources:",
    "            requests:",
    "              cpu: 50m",
    "              memory: 128Mi",
    "            limits:",
    "              memory: 256Mi",
    "  strategy:",
    "    canary:",
    ...(m.trafficRouting
      ? [
          `      canaryService: ${m.name}-canary`,
          `      stableService: ${m.name}`,
          ...(m.abortScaleDownDelaySeconds !== undefined
            ? [`      abortScaleDownDelaySeconds: ${m.abortScaleDownDelaySeconds}`]
            : []),
          "      trafficRouting:",
          "        nginx:",
          `          stableIngress: ${m.name}`,
        ]
      : []),
    "      steps:",
    "        - setWeight: 50",
    ...(m.analysis
      ? [
          "        - analysis:",
          "            templates:",
          `              - templateName: ${m.analysis}`,
          "            args:",
          "              - name: service",
          `                value: ${m.name}`,
        ]
      : []),
    "        - pause: {}",
  ];
  return `${lines.join("\n")}\n`;
}

function servicesYaml(name: string): string {
  const service = (svc: string) =>
    [
      "apiVersion: v1",
      "kind: Service",
      "metadata:",
      `  name: ${svc}`,
      "spec:",
      "  selector:",
      `    app: ${name}`,
      "  ports:",
      "    - port: 80",
      "      targetPort: 8080",
    ].join("\n");
  const ingress = [
    "apiVersion: networking.k8s.io/v1",
    "kind: Ingress",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  ingressClassName: nginx",
    "  rules:",
    `    - host: ${name}.example.com`,
    "      http:",
    "        paths:",
    "          - path: /",
    "            pathType: Prefix",
    "            backend:",
    "              service:",
    `                name: ${name}`,
    "                port:",
    "                  number: 80",
  ].join("\n");
  return `${[service(name), service(`${name}-canary`), ingress].join("\n---\n")}\n`;
}

function analysisTemplateYaml(metricUrl: string): string {
  return [
    "apiVersion: argoproj.io/v1alpha1",
    "kind: AnalysisTemplate",
    "metadata:",
    "  name: error-rate",
    "spec:",
    "  args:",
    "    - name: service",
    "  metrics:",
    "    - name: error-rate",
    "      count: 1",
    "      failureLimit: 0",
    "      successCondition: result < 0.05",
    "      provider:",
    "        web:",
    `          url: "${metricUrl}/api/v1/error-rate?service={{args.service}}"`,
    '          jsonPath: "{$.errorRate}"',
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------

describe.skipIf(!shared.available)("rollout-medic against a real cluster", () => {
  let cluster: RealCluster;
  let git: GitHttpServer;
  let github: GitHubDouble;
  let receiver: Receiver;
  let metricServer: http.Server;
  let metricUrl = "";
  const metricQueries: string[] = [];
  let workDir = "";
  let receiverDeployment: KubeObject;

  const c = (): RealCluster => cluster;

  beforeAll(async () => {
    cluster = connectSharedCluster(shared);
    const v = cluster.versions;
    console.log(
      `[e2e remediation] kube-apiserver /version ${v.kubernetes}, rollouts-controller ${v.rollouts}, ${v.etcd}, ${v.kwok}`,
    );
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-medic-e2e-"));

    // The web metric provider's endpoint: the controller runs on this host, so loopback reaches it.
    metricServer = http.createServer((request, response) => {
      metricQueries.push(request.url ?? "");
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ errorRate: ERROR_RATE, requests: 1200, errors: 372 }));
    });
    await new Promise<void>((resolve) => metricServer.listen(0, "127.0.0.1", () => resolve()));
    metricUrl = `http://127.0.0.1:${(metricServer.address() as { port: number }).port}`;

    git = await startGitHttpServer({ token: FORGE_TOKEN });
    github = await startGitHubDouble({ tokens: [FORGE_TOKEN], git, pathPrefix: "/api/v3", proxyGit: true });

    // The install as shipped (deploy/base): namespace (restricted Pod Security), service accounts, RBAC.
    // The Deployment itself is emulated by startReceiver; kwok would only fake its pods.
    for (const file of ["namespace.yaml", "serviceaccounts.yaml", "rbac-agent.yaml", "rbac-receiver.yaml"]) {
      await cluster.applyYaml(fs.readFileSync(path.join(REPO_ROOT, "deploy/base", file), "utf8"), {
        namespace: MEDIC_NAMESPACE,
      });
    }
    await cluster.applyYaml(
      YAML.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "rollout-medic-webhook", namespace: MEDIC_NAMESPACE },
        stringData: { token: WEBHOOK_TOKEN },
      }),
    );
    // The agent's credentials (deploy/base/secret.example.yaml), plus the API URL of the forge double,
    // as a GitHub Enterprise install sets it.
    await cluster.applyYaml(
      YAML.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "rollout-medic-agent", namespace: MEDIC_NAMESPACE },
        stringData: { GITHUB_TOKEN: FORGE_TOKEN, GITHUB_API_URL: github.url },
      }),
    );

    receiverDeployment = readDeployManifests("deploy/base/deployment.yaml")[0]!;
    receiverDeployment.metadata.namespace = MEDIC_NAMESPACE;
    receiver = await startReceiver(cluster, {
      deployment: receiverDeployment,
      podName: "rollout-medic-7c9d8-e2e01",
      logDir: workDir,
    });

    // The EXACT snippet users merge into the controller's ConfigMap; only the webhook URL changes.
    const snippet = fs.readFileSync(path.join(REPO_ROOT, NOTIFICATION_SNIPPET), "utf8");
    const configMap = YAML.parse(snippet) as KubeObject & { data: Record<string, string> };
    const service = configMap.data["service.webhook.rollout-medic"]!;
    expect(service.split(SHIPPED_WEBHOOK_URL)).toHaveLength(2);
    configMap.data["service.webhook.rollout-medic"] = service.replace(SHIPPED_WEBHOOK_URL, receiver.url);
    await cluster.applyYaml(YAML.stringify(configMap));
    await cluster.applyYaml(
      YAML.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "argo-rollouts-notification-secret", namespace: "argo-rollouts" },
        stringData: { "rollout-medic-token": WEBHOOK_TOKEN },
      }),
    );
    await cluster.installCrashLoopStage();
  });

  afterAll(async () => {
    await receiver?.stop();
    await new Promise<void>((resolve) => (metricServer ? metricServer.close(() => resolve()) : resolve()));
    await github?.close();
    await git?.close();
    await cluster?.stop();
    if (workDir && process.env.ROLLOUT_MEDIC_KEEP_CLUSTER_DIR !== "1") {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  // -------------------------------------------------------------------------------------------------
  // Helpers that talk to the cluster

  const rolloutPath = (ns: string, name: string) =>
    `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/${name}`;

  async function readRollout(ns: string, name: string): Promise<RolloutObject> {
    const r = await c().request<RolloutObject>("GET", rolloutPath(ns, name));
    if (r.status !== 200) throw new Error(`GET rollout ${ns}/${name}: ${r.status}`);
    return r.body;
  }

  async function waitForPhase(
    ns: string,
    name: string,
    phase: string,
    timeoutMs = 90_000,
  ): Promise<RolloutObject> {
    return c().waitFor(
      `Rollout ${ns}/${name} phase ${phase}`,
      async () => {
        const r = await readRollout(ns, name);
        return r.status?.phase === phase ? r : undefined;
      },
      timeoutMs,
    );
  }

  async function podsWithHash(ns: string, hash: string): Promise<PodObject[]> {
    const r = await c().request<ListOf<PodObject>>(
      "GET",
      `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`rollouts-pod-template-hash=${hash}`)}`,
    );
    return r.body.items;
  }

  /** kwok serves pods/log from files: give every pod of one ReplicaSet the same log. */
  async function setLogs(ns: string, hash: string, current: string[], previous?: string[]): Promise<void> {
    const pods = await c().waitFor(`pods with hash ${hash}`, async () => {
      const found = await podsWithHash(ns, hash);
      return found.length > 0 ? found : undefined;
    });
    for (const pod of pods) {
      await c().setPodLogs({
        namespace: ns,
        pod: pod.metadata.name,
        current,
        ...(previous ? { previous } : {}),
      });
    }
  }

  async function jobsFor(ns: string): Promise<JobObject[]> {
    const selector = encodeURIComponent(`rollout-medic.dev/rollout-namespace=${ns}`);
    const r = await c().request<ListOf<JobObject>>(
      "GET",
      `/apis/batch/v1/namespaces/${MEDIC_NAMESPACE}/jobs?labelSelector=${selector}`,
    );
    return r.body.items;
  }

  async function waitForJob(ns: string): Promise<JobObject> {
    return c().waitFor(`the remediation Job for namespace ${ns}`, async () => (await jobsFor(ns))[0], 60_000);
  }

  /** notification_send_success of the Argo Rollouts controller for one Rollout, by Event reason. */
  async function controllerNotifications(ns: string, name: string): Promise<Record<string, number>> {
    const metrics = parsePrometheus(await (await fetch(c().rolloutsMetricsUrl)).text());
    const out: Record<string, number> = {};
    for (const [key, value] of metrics) {
      if (!key.startsWith("notification_send_success{")) continue;
      const labels = Object.fromEntries([...key.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (labels.namespace === ns && labels.name === name && labels.reason) out[labels.reason] = value;
    }
    return out;
  }

  /** Events on a Rollout with one reason: the receiver's and the run's records of what they did. */
  async function rolloutEvents(
    ns: string,
    name: string,
    reason: string,
  ): Promise<{ type?: string; message?: string; reportingComponent?: string }[]> {
    const r = await c().request<
      ListOf<{
        reason?: string;
        type?: string;
        message?: string;
        reportingComponent?: string;
        involvedObject?: { kind?: string; name?: string };
      }>
    >("GET", `/api/v1/namespaces/${ns}/events`);
    return r.body.items.filter(
      (e) => e.reason === reason && e.involvedObject?.kind === "Rollout" && e.involvedObject.name === name,
    );
  }

  /** Sum of a receiver counter over its label sets. */
  function counter(metrics: Map<string, number>, name: string): number {
    let sum = 0;
    for (const [key, value] of metrics) if (key === name || key.startsWith(`${name}{`)) sum += value;
    return sum;
  }

  /**
   * Runs the Job as its pod would: the container's args and env (Secrets resolved), TMPDIR and HOME
   * on temp folders instead of the pod's emptyDir mounts, and a kubeconfig holding a TokenRequest token
   * of the Job's service account instead of the in-cluster mount.
   */
  async function runJobAsItsPod(job: JobObject): Promise<CliResult> {
    const podSpec = job.spec.template.spec;
    const container = podSpec.containers.find((x) => x.name === "rollout-medic") ?? podSpec.containers[0]!;
    expect(container.command).toBeUndefined(); // the image's entrypoint is the CLI
    const pod = await c().waitFor(
      `a pod of Job ${job.metadata.name} (admitted under the restricted Pod Security Standard)`,
      async () => {
        const r = await c().request<ListOf<PodObject>>(
          "GET",
          `/api/v1/namespaces/${MEDIC_NAMESPACE}/pods?labelSelector=${encodeURIComponent(`job-name=${job.metadata.name}`)}`,
        );
        return r.body.items[0];
      },
      60_000,
    );
    const identity = {
      namespace: MEDIC_NAMESPACE,
      name: pod.metadata.name,
      serviceAccountName: podSpec.serviceAccountName ?? "default",
    };
    const env = mapMounts(container, await resolveContainerEnv(c(), identity, container), workDir);
    const kubeconfig = await serviceAccountKubeconfig(c(), identity);
    const result = await runCli(container.args ?? [], {
      ...baseProcessEnv(),
      ...env,
      KUBECONFIG: kubeconfig,
    });
    onTestFailed(() => {
      console.log(
        `[e2e] ${job.metadata.name} exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr.slice(-6000)}`,
      );
    });
    return result;
  }

  function expectJobFor(job: JobObject, rollout: RolloutObject, image: string): void {
    const ns = rollout.metadata.namespace!;
    const name = rollout.metadata.name;
    const revision = rollout.metadata.annotations?.["rollout.argoproj.io/revision"];
    expect(job.metadata.namespace).toBe(MEDIC_NAMESPACE);
    expect(job.metadata.name).toMatch(new RegExp(`^medic-${name}-[0-9a-f]{16}$`));
    expect(job.metadata.labels).toMatchObject({
      "rollout-medic.dev/rollout-namespace": ns,
      "rollout-medic.dev/rollout-name": name,
      "rollout-medic.dev/revision": revision,
      "rollout-medic.dev/canary-pod-hash": rollout.status?.currentPodHash,
    });
    expect(job.metadata.annotations).toMatchObject({
      "rollout-medic.dev/rollout": `${ns}/${name}`,
      "rollout-medic.dev/rollout-uid": rollout.metadata.uid,
      "rollout-medic.dev/failure-key": `${ns}/${name}/${revision}/${rollout.status?.currentPodHash}`,
      "rollout-medic.dev/stable-pod-hash": rollout.status?.stableRS,
    });
    const podSpec = job.spec.template.spec;
    expect(podSpec.serviceAccountName).toBe("rollout-medic-agent");
    expect(podSpec.restartPolicy).toBe("Never");
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(podSpec.containers).toHaveLength(1);
    const container = podSpec.containers[0]!;
    expect(container.image).toBe(image);
    expect(container.args).toEqual(["run", "--namespace", ns, "--rollout", name]);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.envFrom).toEqual([{ secretRef: { name: "rollout-medic-agent", optional: true } }]);
    expect(job.spec.template.metadata?.labels?.["rollout-medic.dev/rollout-namespace"]).toBe(ns);
  }

  const receiverImage = (): string => {
    const containers = (
      receiverDeployment as unknown as { spec: { template: { spec: { containers: ContainerSpec[] } } } }
    ).spec.template.spec.containers;
    const env = containers.find((x) => x.name === "serve")?.env ?? [];
    return env.find((e) => e.name === "ROLLOUT_MEDIC_JOB_IMAGE")?.value ?? "";
  };

  /** The double serves git beside the API (GitHub Enterprise layout), so the forge host matches. */
  const repositoryUrl = (repo: string): string =>
    `${github.url.replace(/\/api\/v3$/, "")}/${OWNER}/${repo}.git`;

  /** The GitOps repository before the release: the stable manifests on main. */
  function seedRepository(repo: string, files: Record<string, string>): void {
    git.createRepository(OWNER, repo, { "README.md": `# ${repo}\n`, ...files });
    github.addRepository(OWNER, repo);
  }

  function dumpReceiverLogOnFailure(): void {
    onTestFailed(() => {
      console.log(`[e2e] receiver log tail:\n${fs.readFileSync(receiver.logFile, "utf8").slice(-4000)}`);
    });
  }

  // -------------------------------------------------------------------------------------------------

  it("files an issue with the evidence when the canary's web analysis fails (no playbook applies)", async () => {
    dumpReceiverLogOnFailure();
    const ns = "e2e-analysis";
    const name = "reviews";
    await c().createNamespace(ns);
    const template = analysisTemplateYaml(metricUrl);
    const v1 = {
      name,
      image: "registry.invalid/acme/reviews:2.0.0",
      analysis: "error-rate",
      trafficRouting: true,
    };
    const repoUrl = repositoryUrl(name);
    const stable = rolloutYaml({ ...v1, repoUrl });
    const bad = rolloutYaml({ ...v1, repoUrl, image: "registry.invalid/acme/reviews:2.1.0" });
    seedRepository(name, {
      "deploy/rollout.yaml": stable,
      "deploy/analysis.yaml": template,
      "deploy/services.yaml": servicesYaml(name),
    });
    await c().applyYaml(`${servicesYaml(name)}---\n${template}`, { namespace: ns });
    await c().applyYaml(stable, { namespace: ns });
    const healthy = await waitForPhase(ns, name, "Healthy");
    await setLogs(ns, healthy.status!.stableRS!, [
      "INFO reviews 2.0.0 listening on :8080",
      "INFO GET /reviews/42 200 12ms",
    ]);
    // The release commit on main is what GitOps applies.
    git.commit(OWNER, name, "main", { "deploy/rollout.yaml": bad }, { message: "reviews 2.1.0" });
    await c().applyYaml(bad, { namespace: ns });

    const failed = await waitForPhase(ns, name, "Degraded");
    expect(failed.status?.abort).toBe(true);
    expect(failed.status?.message).toContain("error-rate");
    expect(metricQueries.some((q) => q === `/api/v1/error-rate?service=${name}`)).toBe(true);
    await setLogs(ns, failed.status!.currentPodHash!, [
      "INFO reviews 2.1.0 listening on :8080",
      "ERROR GET /reviews/42 failed: upstream ratings returned 503 Service Unavailable",
      "ERROR GET /reviews/7 failed: upstream ratings returned 503 Service Unavailable",
    ]);

    const job = await waitForJob(ns);
    expectJobFor(job, failed, receiverImage());
    expect(["analysis-run-failed", "rollout-aborted"]).toContain(
      job.metadata.annotations?.["rollout-medic.dev/event"],
    );

    const result = await runJobAsItsPod(job);
    // Documented exit code 2: an issue was filed (no safe fix); the Job's podFailurePolicy fails it without retry.
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(new RegExp(`^${ns}/${name}: issue #\\d+ created`, "m"));

    expect(github.pulls(OWNER, name)).toHaveLength(0);
    const issues = github.issues(OWNER, name);
    expect(issues).toHaveLength(1);
    const issue = issues[0]!;
    expect(issue.title).toBe(`Canary of ${ns}/${name} failed: analysis-error-rate (revision 2)`);
    expect((issue.labels as { name?: string }[]).map((l) => l.name)).toEqual(
      expect.arrayContaining(["rollout-medic", "category/analysis-error-rate", "needs-human"]),
    );
    // The evidence: the failed metric with its measured value, and the canary-only error line.
    expect(issue.body).toContain('metric "error-rate"');
    expect(issue.body).toContain(String(ERROR_RATE));
    expect(issue.body).toContain("upstream ratings returned 503");
    expect(issue.body).not.toContain(FORGE_TOKEN);
    expect(git.branches(OWNER, name)).toEqual(["main"]);
    // The run's one write to the cluster, allowed by the shipped agent role: an Event on the Rollout.
    const filed = await rolloutEvents(ns, name, "RemediationIssueFiled");
    expect(filed).toHaveLength(1);
    expect(filed[0]).toMatchObject({ type: "Warning", reportingComponent: "rollout-medic" });
    expect(filed[0]!.message).toContain(`issue #${issue.number}`);
  });

  it("opens a pull request raising the memory limit when the canary is OOMKilled (Degraded, no analysis)", async () => {
    dumpReceiverLogOnFailure();
    const ns = "e2e-oom";
    const name = "checkout";
    await c().createNamespace(ns);
    const base = {
      name,
      image: "registry.invalid/acme/checkout:1.13.0",
      trafficRouting: true,
      progressDeadlineAbort: true,
      // Long enough for the Job to read the crashed canary pods before they are scaled away.
      abortScaleDownDelaySeconds: 45,
    };
    const repoUrl = repositoryUrl(name);
    const stable = rolloutYaml({ ...base, repoUrl });
    seedRepository(name, { "deploy/rollout.yaml": stable, "deploy/services.yaml": servicesYaml(name) });
    const bad = rolloutYaml({
      ...base,
      repoUrl,
      image: "registry.invalid/acme/checkout:1.14.0",
      crash: true,
    });
    await c().applyYaml(servicesYaml(name), { namespace: ns });
    await c().applyYaml(stable, { namespace: ns });
    const healthy = await waitForPhase(ns, name, "Healthy");
    await setLogs(ns, healthy.status!.stableRS!, ["starting checkout 1.13.0", "price cache: 200000 entries"]);
    git.commit(OWNER, name, "main", { "deploy/rollout.yaml": bad }, { message: "checkout 1.14.0" });
    await c().applyYaml(bad, { namespace: ns });

    const failed = await waitForPhase(ns, name, "Degraded");
    const canaryHash = failed.status!.currentPodHash!;
    await setLogs(
      ns,
      canaryHash,
      ["starting checkout 1.14.0", "price cache: 400000 entries"],
      ["starting checkout 1.14.0", "price cache: 400000 entries", "fatal error: runtime: out of memory"],
    );
    const job = await waitForJob(ns);
    expectJobFor(job, failed, receiverImage());

    const result = await runJobAsItsPod(job);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^${ns}/${name}: pull request #\\d+ created`, "m"));

    const pulls = github.pulls(OWNER, name);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr.base.ref).toBe("main");
    expect(pr.body).toContain("OOMKilled");
    const branch = pr.head.ref;
    expect(git.branches(OWNER, name).sort()).toEqual([branch, "main"].sort());
    const head = git.readBranch(OWNER, name, branch)!;
    expect(head.authorName).toBe("rollout-medic[bot]");
    expect(git.git(OWNER, name, ["diff", "--name-only", "main", branch]).trim()).toBe("deploy/rollout.yaml");
    const diff = git.git(OWNER, name, ["diff", "main", branch, "--", "deploy/rollout.yaml"]);
    // 256Mi x 1.5: the memory playbook's raise; the rest of the manifest is untouched.
    expect(diff).toMatch(/^-\s+memory: 256Mi$/m);
    expect(diff).toMatch(/^\+\s+memory: 384Mi$/m);
    expect(diff.split("\n").filter((l) => /^[-+][^-+]/.test(l))).toHaveLength(2);
    expect(github.issues(OWNER, name)).toHaveLength(0);
    const opened = await rolloutEvents(ns, name, "RemediationPullRequestOpened");
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ type: "Normal", reportingComponent: "rollout-medic" });
    expect(opened[0]!.message).toContain(`pull request #${pr.number}`);

    // The state-based trigger of the snippet (`when: rollout.status.phase == 'Degraded'`) fires when the
    // aborted canary is scaled away; its notification is the same failure, so no second Job.
    const sent = await c().waitFor(
      "the controller's Degraded-phase notification (on-scaling-replica-set)",
      async () => {
        const n = await controllerNotifications(ns, name);
        return (n.ScalingReplicaSet ?? 0) > 0 ? n : undefined;
      },
      90_000,
    );
    expect(sent.RolloutAborted).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await jobsFor(ns)).toHaveLength(1);
  });

  it("refuses calls outside the shipped agent role with 403, and snapshot + dry-run diagnose like diagnose", async () => {
    const ns = "e2e-rbac";
    const name = "cart";
    await c().createNamespace(ns);
    const base = {
      name,
      image: "registry.invalid/acme/cart:3.0.0",
      trafficRouting: true,
      progressDeadlineAbort: true,
    };
    await c().applyYaml(servicesYaml(name), { namespace: ns });
    await c().applyYaml(rolloutYaml(base), { namespace: ns });
    await waitForPhase(ns, name, "Healthy");
    await c().applyYaml(rolloutYaml({ ...base, image: "registry.invalid/acme/cart:3.1.0", crash: true }), {
      namespace: ns,
    });
    const failed = await waitForPhase(ns, name, "Degraded");
    await setLogs(ns, failed.status!.stableRS!, ["cart 3.0.0 ready"]);
    await setLogs(
      ns,
      failed.status!.currentPodHash!,
      ["cart 3.1.0 starting"],
      ["cart 3.1.0 starting", "java.lang.OutOfMemoryError: Java heap space"],
    );

    // The shipped agent role (deploy/base/rbac-agent.yaml) through its own service account's token.
    const agent = {
      namespace: MEDIC_NAMESPACE,
      name: "e2e-rbac-agent",
      serviceAccountName: "rollout-medic-agent",
    };
    const agentToken = await c().requestServiceAccountToken(MEDIC_NAMESPACE, "rollout-medic-agent", {
      create: false,
    });
    const agentKubeconfig = await serviceAccountKubeconfig(c(), agent);
    const env = { ...baseProcessEnv(), HOME: workDir, KUBECONFIG: agentKubeconfig, LOG_LEVEL: "warn" };

    // Read-only and no Secrets, as documented: the API server itself refuses anything else.
    const secrets = await c().request("GET", `/api/v1/namespaces/${ns}/secrets`, undefined, {
      token: agentToken,
    });
    expect(secrets.status).toBe(403);
    expect(secrets.text).toContain("system:serviceaccount:rollout-medic:rollout-medic-agent");
    const patch = await c().request(
      "PATCH",
      `${rolloutPath(ns, name)}`,
      { metadata: { labels: { x: "y" } } },
      {
        token: agentToken,
        contentType: "application/merge-patch+json",
      },
    );
    expect(patch.status).toBe(403);

    const diagnosed = await runCli(["diagnose", "--namespace", ns, "--rollout", name, "--json"], env);
    expect(diagnosed.code, diagnosed.stderr).toBe(0);
    const live = JSON.parse(diagnosed.stdout) as { diagnosis: { category: string; summary: string } };
    expect(live.diagnosis.category).toBe("oom-killed");

    // snapshot (same token, so the same RBAC) -> scenario folder -> offline dry-run.
    const scenario = path.join(workDir, "snapshot-cart");
    const snapshot = await runCli(["snapshot", "--namespace", ns, "--rollout", name, "--out", scenario], env);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(fs.existsSync(path.join(scenario, "scenario.yaml"))).toBe(true);
    const replay = await runCli(["dry-run", scenario, "--json"], {
      ...baseProcessEnv(),
      HOME: workDir,
      LOG_LEVEL: "warn",
    });
    expect([0, 2], replay.stderr).toContain(replay.code);
    const offline = JSON.parse(replay.stdout) as { diagnosis: { category: string; summary: string } };
    expect(offline.diagnosis.category).toBe(live.diagnosis.category);
    expect(offline.diagnosis.summary).toBe(live.diagnosis.summary);

    // The shipped role minus one rule (list replicasets): diagnose stops at that call with one clear line.
    const [shippedRole] = readDeployManifests("deploy/base/rbac-agent.yaml") as (KubeObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    })[];
    const limitedRules = shippedRole!.rules.filter((r) => !r.resources.includes("replicasets"));
    expect(limitedRules).toHaveLength(shippedRole!.rules.length - 1);
    await c().applyYaml(
      YAML.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "e2e-rollout-medic-agent-without-replicasets" },
        rules: limitedRules,
      }) +
        "---\n" +
        YAML.stringify({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: "e2e-rollout-medic-agent-without-replicasets" },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: "e2e-rollout-medic-agent-without-replicasets",
          },
          subjects: [{ kind: "ServiceAccount", name: "medic-limited", namespace: ns }],
        }),
    );
    const limitedToken = await c().requestServiceAccountToken(ns, "medic-limited");
    const direct = await c().request("GET", `/apis/apps/v1/namespaces/${ns}/replicasets`, undefined, {
      token: limitedToken,
    });
    expect(direct.status).toBe(403);
    const limited = await runCli(["diagnose", "--namespace", ns, "--rollout", name], {
      ...env,
      KUBECONFIG: c().writeKubeconfig(limitedToken, "e2e-rbac-limited"),
    });
    expect(limited.code).toBe(69);
    expect(limited.stdout).toBe("");
    const message = limited.stderr.split("\n").filter((l) => l.startsWith("rollout-medic: "));
    expect(message).toEqual([
      `rollout-medic: forbidden: system:serviceaccount:${ns}:medic-limited cannot list replicasets in namespace ${ns}: ` +
        'grant "list" on "apps/replicasets" to the service account (see deploy/ RBAC)',
    ]);
  });

  it("creates one Job for the controller's repeated notifications of one failure, and counts the duplicates", async () => {
    dumpReceiverLogOnFailure();
    const ns = "e2e-duplicates";
    const name = "ratings";
    await c().createNamespace(ns);
    const before = await receiver.metrics();
    // A basic canary: on abort the controller scales the canary down at once, so every trigger of the
    // snippet fires together (analysis-run-failed, rollout-aborted and the Degraded-phase ones).
    const v1 = { name, image: "registry.invalid/acme/ratings:5.0.0", analysis: "error-rate" };
    await c().applyYaml(analysisTemplateYaml(metricUrl), { namespace: ns });
    await c().applyYaml(rolloutYaml(v1), { namespace: ns });
    await waitForPhase(ns, name, "Healthy");
    await c().applyYaml(rolloutYaml({ ...v1, image: "registry.invalid/acme/ratings:5.1.0" }), {
      namespace: ns,
    });
    const failed = await waitForPhase(ns, name, "Degraded");

    const sent = await c().waitFor(
      "at least three notifications from the controller for this failure",
      async () => {
        const n = await controllerNotifications(ns, name);
        return Object.values(n).reduce((a, b) => a + b, 0) >= 3 ? n : undefined;
      },
      60_000,
    );
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    expect(sent.AnalysisRunFailed).toBe(1);
    expect(sent.RolloutAborted).toBeGreaterThanOrEqual(1);
    const after = await c().waitFor(
      "the receiver to have answered every notification",
      async () => {
        const m = await receiver.metrics();
        const answered =
          counter(m, "rollout_medic_notifications_accepted_total") -
          counter(before, "rollout_medic_notifications_accepted_total") +
          counter(m, "rollout_medic_notifications_duplicate_total") -
          counter(before, "rollout_medic_notifications_duplicate_total");
        return answered >= total && counter(m, "rollout_medic_pending_jobs") === 0 ? m : undefined;
      },
      30_000,
    );
    const jobs = await jobsFor(ns);
    expect(jobs).toHaveLength(1);
    expectJobFor(jobs[0]!, failed, receiverImage());
    const delta = (metric: string) => counter(after, metric) - counter(before, metric);
    expect(delta("rollout_medic_jobs_created_total")).toBe(1);
    expect(delta("rollout_medic_notifications_accepted_total")).toBe(1);
    expect(delta("rollout_medic_notifications_duplicate_total")).toBeGreaterThanOrEqual(total - 1);
    expect(delta("rollout_medic_job_create_failures_total")).toBe(0);
    // The receiver told the Rollout's owners, as an Event next to the controller's own.
    expect(await rolloutEvents(ns, name, "RemediationJobCreated")).toHaveLength(1);
  });
});
