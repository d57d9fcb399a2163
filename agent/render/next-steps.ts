import type { Category } from "../diagnosis/diagnosis.js";
import type { Incident } from "../incident/incident.js";

export interface NextStep {
  /** What to check or do, in one short sentence. */
  action: string;
  /** A command that shows it, with the incident's names filled in. */
  command?: string;
}

/**
 * What a person should look at first when rollout-medic proposes no change, per category.
 * Commands are read-only except the last row's retry, which is what a human runs after fixing.
 */
export function nextStepsFor(category: Category, incident: Incident): NextStep[] {
  const ns = incident.rollout.namespace;
  const name = incident.rollout.name;
  const hash = incident.rollout.canaryPodHash;
  const canaryPods = hash ? `-l rollouts-pod-template-hash=${hash}` : `-l app=${name}`;
  const pod = incident.pods.find((p) => p.role === "canary")?.name ?? "<canary-pod>";
  const describePod = `kubectl describe pod -n ${ns} ${pod}`;
  const steps: Record<Category, NextStep[]> = {
    "oom-killed": [
      {
        action: "Compare the canary's memory use with its limit",
        command: `kubectl top pod -n ${ns} ${canaryPods} --containers`,
      },
      {
        action:
          "Raise the memory limit (and request) in the manifest, or find what made the new version use more memory",
      },
    ],
    "image-pull": [
      {
        action: "Check that the image and tag exist in the registry",
        command: `kubectl get pods -n ${ns} ${canaryPods} -o jsonpath='{..image}'`,
      },
      { action: "Check imagePullSecrets and that the nodes can reach the registry", command: describePod },
    ],
    "crash-loop": [
      { action: "Read the crashed container's last log", command: `kubectl logs -n ${ns} ${pod} --previous` },
      { action: "Compare the new version's configuration and arguments with the stable revision" },
    ],
    "config-missing": [
      {
        action: "Create the missing ConfigMap, Secret or key the canary references",
        command: `kubectl get configmaps,secrets -n ${ns}`,
      },
      {
        action:
          "Or correct the reference in the manifest, or mark it `optional: true` if the app copes without it",
        command: describePod,
      },
    ],
    "probe-failure": [
      {
        action: "Check that the probe's port and path match what the new version serves",
        command: describePod,
      },
      { action: "If the app starts slowly, raise `initialDelaySeconds` or add a startup probe" },
    ],
    unschedulable: [
      {
        action: "Check node capacity against the canary's requests",
        command: `kubectl describe nodes | grep -A5 'Allocated resources'`,
      },
      {
        action: "Check nodeSelector, affinity and tolerations of the new pod template",
        command: describePod,
      },
    ],
    "mount-failure": [
      {
        action: "Check that the volume, PVC, ConfigMap or Secret being mounted exists and is bound",
        command: `kubectl get pvc,configmaps,secrets -n ${ns}`,
      },
      { action: "Read the mount errors on the pod", command: describePod },
    ],
    "dependency-unreachable": [
      {
        action: "Check that the dependency is up and its Service has endpoints",
        command: `kubectl get endpoints -A | grep -v '<none>'`,
      },
      { action: "Check NetworkPolicies, DNS names and credentials that changed with this version" },
    ],
    "analysis-error-rate": [
      { action: "Read the canary's errors while serving", command: `kubectl logs -n ${ns} ${pod}` },
      {
        action: "Check the analysis query against the stable version to rule out a metric problem",
        command: `kubectl get analysisrun -n ${ns} ${canaryPods} -o yaml`,
      },
    ],
    "analysis-latency": [
      {
        action: "Compare the canary's latency with the stable version's, and look for CPU throttling",
        command: `kubectl top pod -n ${ns} ${canaryPods} --containers`,
      },
      { action: "Check whether the new version added slow calls or lost a cache" },
    ],
    "invalid-spec": [
      {
        action: "Read the InvalidSpec condition and correct the Rollout manifest",
        command: `kubectl get rollout -n ${ns} ${name} -o jsonpath='{.status.conditions}'`,
      },
    ],
    "progress-deadline": [
      {
        action: "Find out why canary pods did not become ready in time",
        command: `kubectl get pods -n ${ns} ${canaryPods} -o wide`,
      },
      { action: "If the new version is just slow to start, raise `progressDeadlineSeconds`" },
    ],
    "not-failed": [{ action: "Nothing to do: the rollout is healthy or still progressing" }],
    unknown: [
      { action: "Read the evidence below and the canary pod's full description", command: describePod },
      {
        action: "Check the Rollout's status message and conditions",
        command: `kubectl argo rollouts get rollout -n ${ns} ${name}`,
      },
    ],
  };
  const retry =
    category === "not-failed"
      ? []
      : [
          {
            action: "After fixing the cause outside Git, retry the same revision",
            command: `kubectl argo rollouts retry rollout -n ${ns} ${name}`,
          },
        ];
  return [...steps[category], ...retry];
}
