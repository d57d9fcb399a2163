import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { InvolvedObjectRef, LogRequest } from "../../agent/cluster/cluster.js";
import type { KubeObject } from "../../agent/cluster/kube-object.js";
import type { KubernetesCluster } from "../../agent/cluster/kubernetes-cluster.js";
import { KUBERNETES_API_CALLS, createKubernetesCluster } from "../../agent/cluster/kubernetes-cluster.js";
import { ScenarioCluster } from "../../agent/cluster/scenario-cluster.js";
import { ClusterError } from "../../agent/errors.js";
import { loadScenario } from "../../agent/scenario/load-scenario.js";
import type { Scenario } from "../../agent/scenario/load-scenario.js";
import {
  kubeconfigYaml,
  sampleScenarioSpec,
  startKubeApiDouble,
  writeScenarioFolder,
} from "../helpers/kube-api-double.js";
import type { KubeApiDouble } from "../helpers/kube-api-double.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = path.join(ROOT, "fixtures");
const HASH = "rollouts-pod-template-hash";

/** Every error message a test saw: none may carry the token. */
const seenErrors: unknown[] = [];

async function failure(promise: Promise<unknown>): Promise<ClusterError> {
  try {
    await promise;
  } catch (error) {
    seenErrors.push(error);
    expect(error).toBeInstanceOf(ClusterError);
    return error as ClusterError;
  }
  throw new Error("expected a ClusterError, got a result");
}

function sortByName(objects: KubeObject[], defaultNamespace: string): KubeObject[] {
  return objects
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? defaultNamespace } }))
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
    );
}

async function readLog(stream: Readable | null): Promise<string | null> {
  return stream ? text(stream) : null;
}

function scenarioDirs(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES)
    .map((name) => path.join(FIXTURES, name))
    .filter((dir) => existsSync(path.join(dir, "scenario.yaml")) && existsSync(path.join(dir, "cluster")))
    .sort();
}

/** The questions gatherIncident asks, derived from what a scenario holds. */
function queriesFor(scenario: Scenario) {
  const defaultNamespace = scenario.manifest.rollout.namespace;
  const nsOf = (o: KubeObject): string => o.metadata.namespace ?? defaultNamespace;
  const namespaces = [...new Set([defaultNamespace, ...scenario.objects.map(nsOf)])];
  const selectors = new Map<string, Set<string>>();
  const events = new Map<string, InvolvedObjectRef[]>();
  const logs: LogRequest[] = [];
  const templates: { namespace: string; name: string }[] = [
    { namespace: defaultNamespace, name: "absent-template" },
  ];
  for (const namespace of namespaces) selectors.set(namespace, new Set(["", "app=absent", "!app"]));
  for (const object of scenario.objects) {
    const namespace = nsOf(object);
    const labels = object.metadata.labels ?? {};
    if (object.kind === "Rollout") {
      const match = (object.spec?.selector?.matchLabels ?? {}) as Record<string, string>;
      const base = Object.entries(match).map(([k, v]) => `${k}=${v}`);
      const hashes = [object.status?.currentPodHash, object.status?.stableRS].filter((h): h is string =>
        Boolean(h),
      );
      selectors.get(namespace)!.add(base.join(","));
      if (hashes.length > 0)
        selectors.get(namespace)!.add([...base, `${HASH} in (${hashes.join(",")})`].join(","));
      for (const hash of hashes) selectors.get(namespace)!.add(`${HASH}=${hash}`);
    }
    if (labels[HASH]) selectors.get(namespace)!.add(`${HASH}=${labels[HASH]}`);
    if (object.kind === "AnalysisTemplate") templates.push({ namespace, name: object.metadata.name });
    if (object.kind === "Pod") {
      const containers = [...(object.spec?.initContainers ?? []), ...(object.spec?.containers ?? [])] as {
        name: string;
      }[];
      for (const { name: container } of containers) {
        const ref = { namespace, pod: object.metadata.name, container };
        logs.push(
          ref,
          { ...ref, previous: true },
          { ...ref, tailLines: 3 },
          { ...ref, previous: true, tailLines: 1 },
        );
      }
    }
  }
  const eventObjects = scenario.objects.filter((o) => o.kind === "Event");
  for (const event of eventObjects) {
    const target = (event["involvedObject"] ?? {}) as { kind?: string; name?: string; uid?: string };
    if (!target.kind || !target.name) continue;
    const namespace = nsOf(event);
    const list = events.get(namespace) ?? [];
    list.push({ kind: target.kind, name: target.name });
    // With a uid, the API also drops events that carry none; ScenarioCluster keeps them (see the test below).
    const siblings = eventObjects.filter((e) => {
      const t = (e["involvedObject"] ?? {}) as { kind?: string; name?: string };
      return nsOf(e) === namespace && t.kind === target.kind && t.name === target.name;
    });
    const allHaveUid = siblings.every((e) => Boolean((e["involvedObject"] as { uid?: string }).uid));
    if (target.uid && allHaveUid) list.push({ kind: target.kind, name: target.name, uid: target.uid });
    events.set(namespace, list);
  }
  return { defaultNamespace, namespaces, selectors, events, logs, templates };
}

const sampleDir = writeScenarioFolder(sampleScenarioSpec());
afterAll(() => rmSync(sampleDir, { recursive: true, force: true }));

describe.each([["sample", sampleDir], ...scenarioDirs().map((dir) => [path.basename(dir), dir])])(
  "KubernetesCluster answers as ScenarioCluster does for scenario %s",
  (_name, dir) => {
    let double: KubeApiDouble;
    let live: KubernetesCluster;
    let offline: ScenarioCluster;
    let scenario: Scenario;

    beforeAll(async () => {
      scenario = loadScenario(dir!);
      double = await startKubeApiDouble({ scenarioDir: dir! });
      live = createKubernetesCluster({ kubeconfigPath: double.kubeconfigPath });
      offline = new ScenarioCluster(scenario);
    });
    afterAll(() => double.close());

    it("finds the same rollout, and none for an absent name", async () => {
      const ref = scenario.manifest.rollout;
      const expected = await offline.findRollout(ref);
      expect(await live.findRollout(ref)).toEqual(expected && sortByName([expected], ref.namespace)[0]);
      expect(await live.findRollout({ ...ref, name: "absent-rollout" })).toBeNull();
    });

    it("lists the same replica sets, pods and analysis runs for each selector", async () => {
      const q = queriesFor(scenario);
      for (const [namespace, selectors] of q.selectors) {
        for (const selector of selectors) {
          for (const method of ["listReplicaSets", "listPods", "listAnalysisRuns"] as const) {
            const want = sortByName(await offline[method](namespace, selector), q.defaultNamespace);
            const got = sortByName(await live[method](namespace, selector), q.defaultNamespace);
            expect(got, `${method}(${namespace}, ${JSON.stringify(selector)})`).toEqual(want);
          }
        }
      }
    });

    it("lists the same events for each involved object", async () => {
      const q = queriesFor(scenario);
      let compared = 0;
      for (const [namespace, refs] of q.events) {
        for (const ref of refs) {
          const want = sortByName(await offline.listEvents(namespace, ref), q.defaultNamespace);
          expect(want.length).toBeGreaterThan(0);
          expect(
            sortByName(await live.listEvents(namespace, ref), q.defaultNamespace),
            JSON.stringify(ref),
          ).toEqual(want);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(0);
    });

    it("streams the same logs, and null where the scenario has none", async () => {
      const q = queriesFor(scenario);
      expect(q.logs.length).toBeGreaterThan(0);
      for (const request of q.logs) {
        const want = await readLog(await offline.openLog(request));
        expect(await readLog(await live.openLog(request)), JSON.stringify(request)).toBe(want);
      }
    });

    it("finds the same analysis templates", async () => {
      for (const { namespace, name } of queriesFor(scenario).templates) {
        const want = await offline.findAnalysisTemplate(namespace, name);
        const got = await live.findAnalysisTemplate(namespace, name);
        expect(got).toEqual(want && sortByName([want], namespace)[0]);
      }
    });

    it.skipIf(
      !existsSync(path.join(ROOT, "agent/logs/reduce-logs.ts")) ||
        !existsSync(path.join(ROOT, "agent/redaction")),
    )("gathers the same incident", async () => {
      const { gatherIncident } = await import("../../agent/incident/gather-incident.js");
      const now = () => new Date("2025-05-13T10:00:00Z");
      const want = await gatherIncident(offline, scenario.manifest.rollout, { now });
      const got = await gatherIncident(live, scenario.manifest.rollout, { now });
      expect({ ...got, source: "" }).toEqual({ ...want, source: "" });
    });
  },
);

describe("KubernetesCluster against the API double", () => {
  let double: KubeApiDouble;
  let cluster: KubernetesCluster;

  beforeAll(async () => {
    double = await startKubeApiDouble({ scenarioDir: sampleDir });
    cluster = createKubernetesCluster({ kubeconfigPath: double.kubeconfigPath });
  });
  afterEach(() => {
    double.clearFaults();
    double.requests.length = 0;
  });
  afterAll(() => double.close());

  it("names the server as its source", () => {
    expect(cluster.source).toBe(`cluster ${double.url}`);
  });

  describe("requests", () => {
    it("makes exactly one authenticated request per call, with the selectors in the query", async () => {
      await cluster.findRollout({ namespace: "shop", name: "checkout" });
      await cluster.listReplicaSets("shop", `app=checkout,${HASH} in (c1c1c1,s1s1s1)`);
      await cluster.listPods("shop", "app=checkout");
      await cluster.listAnalysisRuns("shop", `${HASH}=c1c1c1`);
      await cluster.listEvents("shop", { kind: "Pod", name: "checkout-c1c1c1-aaaaa", uid: "pod-uid-a" });
      await cluster.listEvents("shop", { kind: "Rollout", name: "checkout" });
      await readLog(
        await cluster.openLog({ namespace: "shop", pod: "checkout-c1c1c1-aaaaa", container: "checkout" }),
      );
      await readLog(
        await cluster.openLog({
          namespace: "shop",
          pod: "checkout-c1c1c1-aaaaa",
          container: "checkout",
          previous: true,
          tailLines: 50,
        }),
      );
      await cluster.findAnalysisTemplate("shop", "success-rate");

      expect(double.requests.map(({ method, path: p, query }) => ({ method, path: p, query }))).toEqual([
        { method: "GET", path: "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout", query: {} },
        {
          method: "GET",
          path: "/apis/apps/v1/namespaces/shop/replicasets",
          query: { labelSelector: `app=checkout,${HASH} in (c1c1c1,s1s1s1)` },
        },
        { method: "GET", path: "/api/v1/namespaces/shop/pods", query: { labelSelector: "app=checkout" } },
        {
          method: "GET",
          path: "/apis/argoproj.io/v1alpha1/namespaces/shop/analysisruns",
          query: { labelSelector: `${HASH}=c1c1c1` },
        },
        {
          method: "GET",
          path: "/api/v1/namespaces/shop/events",
          query: {
            fieldSelector:
              "involvedObject.kind=Pod,involvedObject.name=checkout-c1c1c1-aaaaa,involvedObject.uid=pod-uid-a",
          },
        },
        {
          method: "GET",
          path: "/api/v1/namespaces/shop/events",
          query: { fieldSelector: "involvedObject.kind=Rollout,involvedObject.name=checkout" },
        },
        {
          method: "GET",
          path: "/api/v1/namespaces/shop/pods/checkout-c1c1c1-aaaaa/log",
          query: { container: "checkout", previous: "false" },
        },
        {
          method: "GET",
          path: "/api/v1/namespaces/shop/pods/checkout-c1c1c1-aaaaa/log",
          query: { container: "checkout", previous: "true", tailLines: "50" },
        },
        {
          method: "GET",
          path: "/apis/argoproj.io/v1alpha1/namespaces/shop/analysistemplates/success-rate",
          query: {},
        },
      ]);
      expect(double.requests.every((r) => r.authenticated)).toBe(true);
    });

    it("KUBERNETES_API_CALLS describes exactly the calls made", async () => {
      await cluster.findRollout({ namespace: "shop", name: "checkout" });
      await cluster.listReplicaSets("shop", "app=checkout");
      await cluster.listPods("shop", "app=checkout");
      await cluster.listAnalysisRuns("shop", "app=checkout");
      await cluster.listEvents("shop", { kind: "Rollout", name: "checkout" });
      await readLog(
        await cluster.openLog({ namespace: "shop", pod: "checkout-c1c1c1-aaaaa", container: "checkout" }),
      );
      await cluster.findAnalysisTemplate("shop", "success-rate");
      await cluster.findArgoApplication("argocd", "checkout");
      const made = double.requests.map(({ path: p }) => {
        const parts = p.split("/").slice(1);
        const core = parts[0] === "api";
        const group = core ? "" : parts[1]!;
        const rest = parts.slice(core ? 4 : 5);
        const resource = rest.length === 3 ? `${rest[0]}/${rest[2]}` : rest[0]!;
        return { verb: rest.length === 1 ? "list" : "get", group, resource };
      });
      expect(new Set(made.map((c) => JSON.stringify(c)))).toEqual(
        new Set(KUBERNETES_API_CALLS.map((c) => JSON.stringify(c))),
      );
      expect(KUBERNETES_API_CALLS).toEqual([
        { verb: "get", group: "argoproj.io", resource: "rollouts" },
        { verb: "list", group: "apps", resource: "replicasets" },
        { verb: "list", group: "", resource: "pods" },
        { verb: "list", group: "argoproj.io", resource: "analysisruns" },
        { verb: "list", group: "", resource: "events" },
        { verb: "get", group: "", resource: "pods/log" },
        { verb: "get", group: "argoproj.io", resource: "analysistemplates" },
        { verb: "get", group: "argoproj.io", resource: "applications" },
      ]);
    });

    it("fills in kind and apiVersion, which the API leaves off list items, and keeps timestamps as strings", async () => {
      const [pod] = await cluster.listPods("shop", `${HASH}=c1c1c1`);
      expect(pod?.kind).toBe("Pod");
      expect(pod?.apiVersion).toBe("v1");
      expect(pod?.metadata.creationTimestamp).toBe("2025-05-13T08:57:12Z");
      expect(pod?.status.containerStatuses[0].lastState.terminated.finishedAt).toBe("2025-05-13T09:01:02Z");
      const [run] = await cluster.listAnalysisRuns("shop", `${HASH}=c1c1c1`);
      expect(run?.apiVersion).toBe("argoproj.io/v1alpha1");
      expect(run?.kind).toBe("AnalysisRun");
    });

    it("leaves out events without an involvedObject.uid when the uid is known, as the API's field selector does", async () => {
      const ref = { kind: "Pod", name: "checkout-c1c1c1-aaaaa", uid: "pod-uid-a" };
      const live = (await cluster.listEvents("shop", ref)).map((e) => e.metadata.name);
      expect(live).toEqual(["checkout-c1c1c1-aaaaa.1"]);
      const offline = await new ScenarioCluster(loadScenario(sampleDir)).listEvents("shop", ref);
      expect(offline.map((e) => e.metadata.name).sort()).toEqual(live);
    });

    it("escapes separators in field selector values", async () => {
      await cluster.listEvents("shop", { kind: "Pod", name: "a,b=c\\d" });
      expect(double.requests.at(-1)?.query["fieldSelector"]).toBe(
        "involvedObject.kind=Pod,involvedObject.name=a\\,b\\=c\\\\d",
      );
    });

    it("sends no request for names that no object can have and could change the path", async () => {
      expect(await cluster.findRollout({ namespace: "shop", name: ".." })).toBeNull();
      expect(await cluster.findAnalysisTemplate("..", "success-rate")).toBeNull();
      expect(await cluster.listPods("../..", "app=checkout")).toEqual([]);
      expect(await cluster.openLog({ namespace: "shop", pod: "../../etc", container: "passwd" })).toBeNull();
      expect(
        await cluster.openLog({ namespace: "shop", pod: "checkout-c1c1c1-aaaaa", container: "../x" }),
      ).toBeNull();
      expect(double.requests).toEqual([]);
    });
  });

  describe("logs", () => {
    const pod = "checkout-c1c1c1-aaaaa";

    it("streams the current and previous log as text", async () => {
      const current = await cluster.openLog({ namespace: "shop", pod, container: "checkout" });
      expect(await readLog(current)).toBe("boot\nserving on :8080\ncache size 400000\n");
      const previous = await cluster.openLog({
        namespace: "shop",
        pod,
        container: "checkout",
        previous: true,
      });
      expect(await readLog(previous)).toBe("boot\ncache size 400000\nfatal error: runtime: out of memory\n");
      const tail = await cluster.openLog({ namespace: "shop", pod, container: "checkout", tailLines: 1 });
      expect(await readLog(tail)).toBe("cache size 400000\n");
    });

    it("answers null for a missing previous instance, a container that never started and a pod that is gone", async () => {
      expect(
        await cluster.openLog({
          namespace: "shop",
          pod: "checkout-s1s1s1-bbbbb",
          container: "checkout",
          previous: true,
        }),
      ).toBeNull();
      expect(
        await cluster.openLog({ namespace: "shop", pod: "web-w1w1w1-ccccc", container: "checkout" }),
      ).toBeNull();
      expect(
        await cluster.openLog({ namespace: "shop", pod: "checkout-gone", container: "checkout" }),
      ).toBeNull();
      expect(double.requests.map((r) => r.path)).toHaveLength(3);
    });

    it("hands over the stream before the server has sent the whole log", async () => {
      let response: ServerResponse | undefined;
      double.route("GET", "/api/v1/namespaces/{namespace}/pods/slow-pod/log", ({ res }) => {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write("first line\n");
        response = res;
        return undefined;
      });
      const stream = await cluster.openLog({ namespace: "shop", pod: "slow-pod", container: "app" });
      expect(stream).not.toBeNull();
      const iterator = stream![Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value).toBe("first line\n");
      expect(response?.writableEnded).toBe(false);
      response!.end("second line\n");
      const rest: string[] = [];
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        rest.push(next.value as string);
      expect(rest.join("")).toBe("second line\n");
    });

    it("fails a log stream that stalls longer than the timeout", async () => {
      const quick = createKubernetesCluster({ kubeconfigPath: double.kubeconfigPath, timeoutMs: 300 });
      double.setFault(`/api/v1/namespaces/shop/pods/${pod}/log`, { stallAfter: "partial line\n" });
      const stream = await quick.openLog({ namespace: "shop", pod, container: "checkout" });
      const error = await failure(readLog(stream));
      expect(error.message).toMatch(
        /^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(timed out after 0\.3s\)/,
      );
    });

    it("reports a server error on the log endpoint", async () => {
      double.setFault(`/api/v1/namespaces/shop/pods/${pod}/log`, { status: 500 });
      const error = await failure(cluster.openLog({ namespace: "shop", pod, container: "checkout" }));
      expect(error.detail).toEqual({ status: 500, verb: "get", resource: "pods/log" });
    });
  });

  describe("errors", () => {
    it("turns a 403 into one line naming the user, verb, resource and the grant to add", async () => {
      double.setFault("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout", {
        status: 403,
        body: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message:
            'rollouts.argoproj.io "checkout" is forbidden: User "system:serviceaccount:shop:medic" cannot get resource "rollouts" in API group "argoproj.io" in the namespace "shop"',
          reason: "Forbidden",
          details: { name: "checkout", group: "argoproj.io", kind: "rollouts" },
          code: 403,
        },
      });
      const error = await failure(cluster.findRollout({ namespace: "shop", name: "checkout" }));
      expect(error.message).toBe(
        'forbidden: system:serviceaccount:shop:medic cannot get rollouts in namespace shop: grant "get" on "argoproj.io/rollouts" to the service account (see deploy/ RBAC)',
      );
      expect(error.detail).toEqual({ status: 403, verb: "get", resource: "rollouts.argoproj.io" });
    });

    it("names list and pods/log permissions in 403 messages", async () => {
      double.setFault("/api/v1/namespaces/shop/pods", { status: 403 });
      const list = await failure(cluster.listPods("shop", "app=checkout"));
      expect(list.message).toBe(
        'forbidden: system:serviceaccount:rollout-medic:rollout-medic cannot list pods in namespace shop: grant "list" on "pods" to the service account (see deploy/ RBAC)',
      );
      double.setFault(/\/log$/, { status: 403 });
      const log = await failure(
        cluster.openLog({ namespace: "shop", pod: "checkout-c1c1c1-aaaaa", container: "checkout" }),
      );
      expect(log.message).toContain('cannot get pods/log in namespace shop: grant "get" on "pods/log"');
      expect(log.detail).toEqual({ status: 403, verb: "get", resource: "pods/log" });
    });

    it("words a 403 without a Status body", async () => {
      double.setFault("/apis/apps/v1/namespaces/shop/replicasets", { status: 403, body: "forbidden" });
      const error = await failure(cluster.listReplicaSets("shop", "app=checkout"));
      expect(error.message).toBe(
        'forbidden: the current user cannot list replicasets in namespace shop: grant "list" on "apps/replicasets" to the service account (see deploy/ RBAC)',
      );
    });

    it("answers null for a 404 on get", async () => {
      double.setFault("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout", { status: 404 });
      expect(await cluster.findRollout({ namespace: "shop", name: "checkout" })).toBeNull();
      expect(await cluster.findAnalysisTemplate("shop", "absent")).toBeNull();
    });

    it("says Argo Rollouts looks missing when the API does not serve its resources", async () => {
      const notServed = {
        status: 404,
        body: {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          message: "the server could not find the requested resource",
          reason: "NotFound",
          details: {},
          code: 404,
        },
      };
      double.setFault(/^\/apis\/argoproj\.io\//, notServed);
      const get = await failure(cluster.findRollout({ namespace: "shop", name: "checkout" }));
      expect(get.message).toMatch(
        /does not serve rollouts\.argoproj\.io: is Argo Rollouts \(its CRDs\) installed/,
      );
      const list = await failure(cluster.listAnalysisRuns("shop", "app=checkout"));
      expect(list.detail).toEqual({ status: 404, verb: "list", resource: "analysisruns.argoproj.io" });
    });

    it("turns a 500 into a ClusterError carrying the server's reason", async () => {
      double.setFault("/api/v1/namespaces/shop/events", {
        status: 500,
        message: "etcdserver: request timed out",
      });
      const error = await failure(cluster.listEvents("shop", { kind: "Pod", name: "x" }));
      expect(error.message).toBe(
        `the Kubernetes API at ${double.url} failed to list events in namespace shop (500 InternalError: etcdserver: request timed out): retry later or check the API server's health`,
      );
      expect(error.detail).toEqual({ status: 500, verb: "list", resource: "events" });
    });

    it("reports a bad request, such as a selector the server rejects", async () => {
      const error = await failure(cluster.listPods("shop", "app in (x"));
      expect(error.message).toMatch(
        /refused to list pods in namespace shop \(400 BadRequest: invalid label selector/,
      );
    });

    it("says credentials were rejected on a 401", async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
      const file = path.join(dir, "config");
      writeFileSync(file, kubeconfigYaml({ server: double.url, token: "wrong-token-abcdef123456" }));
      const error = await failure(
        createKubernetesCluster({ kubeconfigPath: file }).listPods("shop", "app=checkout"),
      );
      expect(error.message).toMatch(
        /^credentials rejected by the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(401 Unauthorized; used kubeconfig /,
      );
      expect(error.message).toContain("refresh the kubeconfig");
      expect(error.message).not.toContain("wrong-token-abcdef123456");
      expect(error.detail.status).toBe(401);
      rmSync(dir, { recursive: true, force: true });
    });

    it("says which server and kubeconfig it tried when nothing listens", async () => {
      const port = await closedPort();
      const dir = mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
      const file = path.join(dir, "config");
      writeFileSync(file, kubeconfigYaml({ server: `http://127.0.0.1:${port}`, token: double.token }));
      const error = await failure(
        createKubernetesCluster({ kubeconfigPath: file }).findRollout({
          namespace: "shop",
          name: "checkout",
        }),
      );
      expect(error.message).toBe(
        `cannot reach the Kubernetes API at http://127.0.0.1:${port} (ECONNREFUSED) to get rollouts.argoproj.io: ` +
          `check KUBECONFIG / the current context / in-cluster service account (used kubeconfig ${file}, context "kube-api-double")`,
      );
      rmSync(dir, { recursive: true, force: true });
    });

    it("gives up on a server that does not answer within the timeout", async () => {
      const quick = createKubernetesCluster({ kubeconfigPath: double.kubeconfigPath, timeoutMs: 250 });
      double.setFault("/api/v1/namespaces/shop/pods", { hang: true });
      const started = Date.now();
      const error = await failure(quick.listPods("shop", "app=checkout"));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.message).toMatch(
        /^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(timed out after 0\.25s\) to list pods/,
      );
    });

    it("reports a connection closed without an answer", async () => {
      double.setFault("/api/v1/namespaces/shop/pods", { reset: true });
      const error = await failure(cluster.listPods("shop", "app=checkout"));
      expect(error.message).toMatch(/^cannot reach the Kubernetes API at .* \((ECONNRESET|socket hang up)/);
    });

    it("reports an answer that is not Kubernetes JSON", async () => {
      double.setFault("/api/v1/namespaces/shop/pods", { status: 200, body: "<html>login</html>" });
      const error = await failure(cluster.listPods("shop", "app=checkout"));
      expect(error.message).toMatch(/answered list pods unexpectedly \(the response is not JSON\)/);
    });

    it("scrubs the token even when the server echoes it", async () => {
      double.setFault("/api/v1/namespaces/shop/pods", {
        status: 500,
        message: `bad header Authorization: Bearer ${double.token}`,
      });
      const error = await failure(cluster.listPods("shop", "app=checkout"));
      expect(error.message).toContain("[redacted]");
      double.setFault("/api/v1/namespaces/shop/events", {
        status: 400,
        message: `token ${double.token} rejected`,
      });
      await failure(cluster.listEvents("shop", { kind: "Pod", name: "x" }));
    });

    it("never puts the token in a message, detail or cause", async () => {
      // Errors of its own, so that the check holds when this test runs alone; earlier tests' errors count too.
      double.setFault("/api/v1/namespaces/shop/pods", {
        status: 403,
        message: `User "${double.token}" cannot list`,
      });
      await failure(cluster.listPods("shop", "app=checkout"));
      double.setFault("/api/v1/namespaces/shop/pods", { status: 401 });
      await failure(cluster.listPods("shop", "app=checkout"));
      double.setFault("/api/v1/namespaces/shop/pods", { reset: true });
      await failure(cluster.listPods("shop", "app=checkout"));
      expect(seenErrors.length).toBeGreaterThanOrEqual(3);
      for (const error of seenErrors) {
        const cause = (error as { cause?: unknown }).cause;
        const visible = [
          String(error),
          JSON.stringify((error as ClusterError).detail),
          cause instanceof Error ? `${cause.message} ${cause.stack ?? ""}` : String(cause ?? ""),
        ].join("\n");
        expect(visible).not.toContain(double.token);
      }
    });
  });
});

describe("createKubernetesCluster", () => {
  let double: KubeApiDouble;
  const saved = { KUBECONFIG: process.env["KUBECONFIG"], HOME: process.env["HOME"] };

  beforeAll(async () => {
    double = await startKubeApiDouble({ scenarioDir: sampleDir });
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  afterAll(() => double.close());

  it("loads $KUBECONFIG through loadFromDefault when no path is given", async () => {
    process.env["KUBECONFIG"] = double.kubeconfigPath;
    const cluster = createKubernetesCluster();
    expect(cluster.source).toBe(`cluster ${double.url}`);
    expect(await cluster.findRollout({ namespace: "shop", name: "checkout" })).not.toBeNull();
  });

  it.skipIf(existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))(
    "lists what it tried when there is no configuration at all",
    () => {
      const home = mkdtempSync(path.join(os.tmpdir(), "home-"));
      process.env["KUBECONFIG"] = "";
      process.env["HOME"] = home;
      try {
        expect(() => createKubernetesCluster()).toThrow(
          /^no Kubernetes configuration found: tried \$KUBECONFIG \(not set\), ~\/\.kube\/config \(absent\) and the in-cluster service account/,
        );
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  );

  it("says which kubeconfig file cannot be read", () => {
    expect(() => createKubernetesCluster({ kubeconfigPath: "/nonexistent/kubeconfig" })).toThrow(
      /^cannot read kubeconfig \/nonexistent\/kubeconfig \(ENOENT/,
    );
  });

  it("switches to the context asked for and lists the known ones when it is absent", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
    const second = path.join(dir, "second");
    const config = readFileSync(double.kubeconfigPath, "utf8")
      .replaceAll("kube-api-double", "other")
      .replace(double.url, "http://127.0.0.1:1");
    writeFileSync(second, config);
    const joined = [double.kubeconfigPath, second].join(path.delimiter);
    expect(createKubernetesCluster({ kubeconfigPath: joined }).source).toBe(`cluster ${double.url}`);
    expect(createKubernetesCluster({ kubeconfigPath: joined, context: "other" }).source).toBe(
      "cluster http://127.0.0.1:1",
    );
    expect(() => createKubernetesCluster({ kubeconfigPath: joined, context: "prod" })).toThrow(
      /^context "prod" is not in kubeconfig .*: use one of kube-api-double, other$/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a non-positive timeout", () => {
    expect(() => createKubernetesCluster({ kubeconfigPath: double.kubeconfigPath, timeoutMs: 0 })).toThrow(
      ClusterError,
    );
  });
});

describe("import cost", () => {
  /** Follows static, value imports (not `import type`, not `import()`) from a module through agent/. */
  function staticImports(entry: string): Set<string> {
    const seen = new Set<string>();
    const pending = [entry];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file) || !existsSync(file)) continue;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const match of source.matchAll(
        /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+["']([^"']+)["']/gms,
      )) {
        const specifier = match[1]!;
        if (specifier.startsWith("."))
          pending.push(path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts"));
        else seen.add(specifier);
      }
      for (const match of source.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) seen.add(match[1]!);
    }
    return seen;
  }

  it.each([
    "agent/cluster/cluster.ts",
    "agent/cluster/scenario-cluster.ts",
    "agent/scenario/load-scenario.ts",
    "agent/cli/main.ts",
  ])("%s does not load the Kubernetes client statically", (entry) => {
    const reached = staticImports(path.join(ROOT, entry));
    expect(
      [...reached].filter(
        (m) => m.includes("@kubernetes/client-node") || m.endsWith("kubernetes-cluster.ts"),
      ),
    ).toEqual([]);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
