/**
 * Smoke test of the real-cluster tier: real etcd + kube-apiserver + KCM +
 * scheduler + kwok + Argo Rollouts controller, built by
 * scripts/real-cluster/build.sh and started once per run by
 * test/e2e/global-setup.ts. Skipped (with a message) where Go is missing.
 *
 * ROLLOUT_MEDIC_REAL_CLUSTER_BUILD=0 only uses an already-built cache;
 * ROLLOUT_MEDIC_REAL_CLUSTER_BIN=<dir> uses prebuilt binaries.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import type { KubeObject, RealCluster } from "./harness/real-cluster.js";
import { connectSharedCluster, sharedRealCluster } from "./harness/shared-cluster.js";

const shared = sharedRealCluster();
if (!shared.available) {
  console.warn(`[real-cluster-smoke] SKIPPED: ${shared.reason}`);
}

interface PodLike {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: {
      name: string;
      restartCount?: number;
      state?: { waiting?: { reason?: string } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
}
interface ListOf<T> {
  items: T[];
}

describe.skipIf(!shared.available)("real cluster smoke", () => {
  let cluster: RealCluster | undefined;
  const ns = "smoke";

  const c = (): RealCluster => {
    if (!cluster) throw new Error("cluster did not start");
    return cluster;
  };

  beforeAll(() => {
    cluster = connectSharedCluster(shared);
    console.log(`[real-cluster-smoke] kube-apiserver /version: ${cluster.versions.kubernetes}`);
    console.log(`[real-cluster-smoke] rollouts-controller --version: ${cluster.versions.rollouts}`);
    console.log(`[real-cluster-smoke] etcd: ${cluster.versions.etcd}; kwok: ${cluster.versions.kwok}`);
  });

  afterAll(async () => {
    // Only this file's connections: the cluster belongs to the globalSetup.
    await cluster?.stop();
  });

  it("runs Kubernetes v1.34.x and Argo Rollouts v1.9.x", () => {
    expect(c().versions.kubernetes).toMatch(/^v1\.34\.\d+$/);
    expect(c().versions.kubernetesVersionInfo.minor).toBe("34");
    expect(c().versions.rollouts).toMatch(/^v1\.9\.\d+/);
  });

  it("is reachable with @kubernetes/client-node through the written kubeconfig", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(c().kubeconfigPath);
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(c().versions.kubernetes);
    const kubeSystem = await kc.makeApiClient(CoreV1Api).readNamespace({ name: "kube-system" });
    expect(kubeSystem.metadata?.name).toBe("kube-system");
  });

  it("runs a canary Rollout: the controller creates its ReplicaSet and kwok runs the pod", async () => {
    const k = c();
    await k.createNamespace(ns);
    await k.applyYaml(
      `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: smoke
spec:
  replicas: 1
  revisionHistoryLimit: 2
  selector:
    matchLabels: { app: smoke }
  template:
    metadata:
      labels: { app: smoke }
    spec:
      containers:
        - name: app
          image: registry.invalid/smoke:1.0.0
          resources:
            requests: { cpu: 10m, memory: 16Mi }
  strategy:
    canary:
      steps:
        - setWeight: 50
        - pause: { duration: 10 }
`,
      { namespace: ns },
    );

    const rs = await k.waitFor(
      "a ReplicaSet owned by Rollout smoke",
      async () => {
        const r = await k.request<ListOf<KubeObject>>("GET", `/apis/apps/v1/namespaces/${ns}/replicasets`);
        return r.body.items.find((x) =>
          ((x.metadata.ownerReferences ?? []) as { kind: string; name: string }[]).some(
            (o) => o.kind === "Rollout" && o.name === "smoke",
          ),
        );
      },
      60_000,
    );
    expect(rs.metadata.name).toMatch(/^smoke-/);

    const pod = await k.waitFor(
      "a Running pod of Rollout smoke",
      async () => {
        const r = await k.request<ListOf<PodLike>>(
          "GET",
          `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dsmoke`,
        );
        return r.body.items.find((p) => p.status?.phase === "Running");
      },
      60_000,
    );
    expect(pod.spec?.nodeName).toBe(k.nodeNames[0]);
    expect(pod.metadata.labels?.["rollouts-pod-template-hash"]).toBeTruthy();

    const healthy = await k.waitFor(
      "Rollout smoke to report Healthy",
      async () => {
        const r = await k.request<{ status?: { phase?: string; availableReplicas?: number } }>(
          "GET",
          `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/smoke`,
        );
        return r.body.status?.phase === "Healthy" ? r.body.status : undefined;
      },
      60_000,
    );
    expect(healthy.availableReplicas).toBe(1);
  });

  it("enforces RBAC for a ServiceAccount token from the TokenRequest API", async () => {
    const k = c();
    await k.createNamespace("rbac");
    await k.applyYaml(
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: rbac }
rules:
  - apiGroups: [""]
    resources: [pods, pods/log]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: agent-pod-reader, namespace: rbac }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects:
  - { kind: ServiceAccount, name: agent, namespace: rbac }
`,
    );
    const token = await k.requestServiceAccountToken("rbac", "agent");
    const allowed = await k.request("GET", "/api/v1/namespaces/rbac/pods", undefined, { token });
    expect(allowed.status).toBe(200);
    const denied = await k.request("GET", "/api/v1/namespaces/rbac/secrets", undefined, { token });
    expect(denied.status).toBe(403);
    expect(denied.text).toContain("system:serviceaccount:rbac:agent");
  });

  it("crash-loops a labelled pod with OOMKilled and serves current and previous logs through pods/log", async () => {
    const k = c();
    const crashNs = "crash";
    await k.createNamespace(crashNs);
    await k.installCrashLoopStage();
    await k.applyYaml(
      `
apiVersion: v1
kind: Pod
metadata:
  name: oom
  labels: { app: oom, rollout-medic.e2e/crash: oomkilled }
spec:
  containers:
    - name: app
      image: registry.invalid/oom:1.0.0
`,
      { namespace: crashNs },
    );
    const pod = await k.waitFor(
      "pod oom in CrashLoopBackOff with an OOMKilled lastState",
      async () => {
        const r = await k.request<PodLike>("GET", `/api/v1/namespaces/${crashNs}/pods/oom`);
        const s = r.body.status?.containerStatuses?.[0];
        return s?.state?.waiting?.reason === "CrashLoopBackOff" &&
          s.lastState?.terminated?.reason === "OOMKilled"
          ? r.body
          : undefined;
      },
      60_000,
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(pod.status?.phase).toBe("Running");
    expect(status?.lastState?.terminated?.exitCode).toBe(137);
    expect(status?.restartCount).toBeGreaterThanOrEqual(1);

    const events = await k.waitFor("a BackOff event for pod oom", async () => {
      const r = await k.request<
        ListOf<{ reason?: string; type?: string; involvedObject?: { name?: string } }>
      >("GET", `/api/v1/namespaces/${crashNs}/events`);
      const e = r.body.items.filter((x) => x.reason === "BackOff" && x.involvedObject?.name === "oom");
      return e.length > 0 ? e : undefined;
    });
    expect(events[0]?.type).toBe("Warning");

    await k.setPodLogs({
      namespace: crashNs,
      pod: "oom",
      current: ["starting app", "allocating cache"],
      previous: ["starting app", "allocating cache", "fatal: out of memory"],
    });
    const current = await k.waitFor("current logs of pod oom", async () => {
      const r = await k.podLogs(crashNs, "oom", { container: "app" });
      return r.status === 200 ? r.text : undefined;
    });
    expect(current).toBe("starting app\nallocating cache\n");
    const previous = await k.podLogs(crashNs, "oom", { container: "app", previous: true });
    expect(previous.status).toBe(200);
    expect(previous.text).toContain("fatal: out of memory");
  });
});
