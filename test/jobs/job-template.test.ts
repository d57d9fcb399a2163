import { Job } from "kubernetes-models/batch/v1/Job";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../agent/errors.js";
import {
  ANNOTATION,
  LABEL,
  buildRemediationJob,
  defaultJobTemplate,
  jobTemplateProblem,
  remediationPodFailurePolicy,
} from "../../agent/jobs/job-template.js";
import type { JobObject } from "../../agent/jobs/job-template.js";
import { failureKey, jobNameFor } from "../../agent/jobs/rollout-failure.js";
import type { RolloutFailure } from "../../agent/jobs/rollout-failure.js";

const SETTINGS = {
  image: "ghcr.io/rollout-medic/rollout-medic:0.1.0",
  serviceAccount: "rollout-medic-agent",
  secretName: "rollout-medic-agent",
  ttlSecondsAfterFinished: 86_400,
  backoffLimit: 2,
  activeDeadlineSeconds: 1800,
};
const FAILURE: RolloutFailure = {
  event: "rollout-aborted",
  namespace: "shop",
  name: "checkout",
  uid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
  revision: "7",
  canaryPodHash: "6c9f8d7b5d",
  stablePodHash: "7d4b9c8f6b",
};

type Rule = {
  action: string;
  onExitCodes?: { operator: string; values: number[]; containerName?: string };
  onPodConditions?: { type: string }[];
};

describe("jobs: the Job template", () => {
  it("is a valid Job with the documented limits", () => {
    const template = defaultJobTemplate(SETTINGS);
    expect(() => new Job(template as never).validate()).not.toThrow();
    expect(template.spec).toMatchObject({
      backoffLimit: 2,
      activeDeadlineSeconds: 1800,
      ttlSecondsAfterFinished: 86_400,
    });
    expect(jobTemplateProblem(template)).toBeNull();
  });

  it("runs hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, emptyDir workspace and /tmp", () => {
    const pod = defaultJobTemplate(SETTINGS).spec.template.spec as unknown as Record<string, unknown>;
    expect(pod["restartPolicy"]).toBe("Never");
    expect(pod["serviceAccountName"]).toBe("rollout-medic-agent");
    expect(pod["securityContext"]).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const container = (pod["containers"] as Record<string, unknown>[])[0]!;
    expect(container["securityContext"]).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect((container["volumeMounts"] as { mountPath: string }[]).map((m) => m.mountPath).sort()).toEqual([
      "/tmp",
      "/workspace",
    ]);
    expect((pod["volumes"] as { emptyDir?: object }[]).every((v) => v.emptyDir)).toBe(true);
    expect(container["envFrom"]).toEqual([{ secretRef: { name: "rollout-medic-agent", optional: true } }]);
  });

  it("never retries an outcome or a deterministic failure, retries transient ones, ignores disruptions", () => {
    const rules = remediationPodFailurePolicy()["rules"] as Rule[];
    expect(rules[0]).toEqual({
      action: "Ignore",
      onPodConditions: [{ type: "DisruptionTarget", status: "True" }],
    });
    const codes = (action: string) => rules.find((r) => r.action === action)!.onExitCodes!.values;
    expect(codes("FailJob")).toEqual(
      [
        EXIT.issue,
        EXIT.nothingToDo,
        EXIT.refusedByLimit,
        EXIT.usage,
        EXIT.scenario,
        EXIT.internal,
        EXIT.config,
      ].sort((a, b) => a - b),
    );
    expect(codes("Count")).toEqual(
      [EXIT.cluster, EXIT.workspace, EXIT.forge, EXIT.model].sort((a, b) => a - b),
    );
    // Every documented non-zero exit code has a rule; the API server wants the values sorted, unique, without 0.
    const covered = new Set(rules.flatMap((r) => r.onExitCodes?.values ?? []));
    for (const code of new Set(Object.values(EXIT).filter((c) => c !== 0)))
      expect(covered.has(code), `exit ${code}`).toBe(true);
    for (const rule of rules.filter((r) => r.onExitCodes)) {
      const values = rule.onExitCodes!.values;
      expect(values).toEqual([...new Set(values)].sort((a, b) => a - b));
      expect(values).not.toContain(0);
      expect(rule.onExitCodes!.containerName).toBe("rollout-medic");
    }
  });
});

describe("jobs: building a failure's Job", () => {
  it("names it deterministically and links it to the Rollout", () => {
    const job = buildRemediationJob(defaultJobTemplate(SETTINGS), FAILURE, "rollout-medic");
    expect(job.metadata.name).toBe(jobNameFor(FAILURE));
    expect(job.metadata.name).toMatch(/^medic-checkout-[0-9a-f]{16}$/);
    expect(job.metadata.namespace).toBe("rollout-medic");
    expect(job.metadata.labels).toMatchObject({
      [LABEL.rolloutNamespace]: "shop",
      [LABEL.rolloutName]: "checkout",
      [LABEL.revision]: "7",
      [LABEL.canaryPodHash]: "6c9f8d7b5d",
      "app.kubernetes.io/name": "rollout-medic",
    });
    expect(job.metadata.annotations).toEqual({
      [ANNOTATION.rollout]: "shop/checkout",
      [ANNOTATION.rolloutUid]: FAILURE.uid,
      [ANNOTATION.event]: "rollout-aborted",
      [ANNOTATION.stablePodHash]: "7d4b9c8f6b",
      [ANNOTATION.failureKey]: failureKey(FAILURE),
    });
    expect(job.spec.template.metadata?.labels?.[LABEL.rolloutName]).toBe("checkout");
    expect(job.spec.template.spec.containers[0]!.args).toEqual([
      "run",
      "--namespace",
      "shop",
      "--rollout",
      "checkout",
    ]);
    expect(() => new Job(job as never).validate()).not.toThrow();
  });

  it("keeps names and labels valid for a 253-character Rollout name", () => {
    const name = `${"a".repeat(100)}.${"b".repeat(100)}.${"c".repeat(51)}`;
    const job = buildRemediationJob(defaultJobTemplate(SETTINGS), { ...FAILURE, name }, "rollout-medic");
    expect(job.metadata.name.length).toBeLessThanOrEqual(63);
    expect(job.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(job.metadata.labels?.[LABEL.rolloutName]).toBeUndefined();
    expect(job.metadata.annotations?.[ANNOTATION.rollout]).toBe(`shop/${name}`);
    expect(job.spec.template.spec.containers[0]!.args![4]).toBe(name);
  });

  it("gives different failures different names and the same failure the same name", () => {
    const names = new Set(
      ["1", "2", "3"].flatMap((revision) =>
        ["aaa", "bbb"].map((canaryPodHash) => jobNameFor({ ...FAILURE, revision, canaryPodHash })),
      ),
    );
    expect(names.size).toBe(6);
    const sameFailureOtherEvent: RolloutFailure = { ...FAILURE, event: "analysis-run-failed" };
    expect(jobNameFor(sameFailureOtherEvent)).toBe(jobNameFor(FAILURE));
    expect(jobNameFor({ ...FAILURE, namespace: "shop2" })).not.toBe(jobNameFor(FAILURE));
  });

  it("fills in a custom template's single container and drops server-set metadata", () => {
    const custom = structuredClone(defaultJobTemplate(SETTINGS)) as JobObject;
    custom.spec.template.spec.containers[0]!.name = "agent";
    custom.metadata = { ...custom.metadata, generateName: "x-", resourceVersion: "5", uid: "u" };
    const job = buildRemediationJob(custom, FAILURE, "rollout-medic");
    expect(job.spec.template.spec.containers[0]!.args).toEqual([
      "run",
      "--namespace",
      "shop",
      "--rollout",
      "checkout",
    ]);
    expect(job.metadata).not.toHaveProperty("generateName");
    expect(job.metadata).not.toHaveProperty("resourceVersion");
  });
});

describe("jobs: checking a template from a ConfigMap", () => {
  const base = () => structuredClone(defaultJobTemplate(SETTINGS)) as unknown as Record<string, unknown>;
  it("names what is wrong", () => {
    expect(jobTemplateProblem("text")).toBe("it is not a YAML mapping");
    expect(jobTemplateProblem({ apiVersion: "v1", kind: "Pod" })).toBe("it is not a batch/v1 Job");
    const wrongType = base();
    (wrongType["spec"] as Record<string, unknown>)["backoffLimit"] = "two";
    expect(jobTemplateProblem(wrongType)).toMatch(/backoffLimit/);
    const restarts = base();
    (restarts["spec"] as { template: { spec: { restartPolicy: string } } }).template.spec.restartPolicy =
      "OnFailure";
    expect(jobTemplateProblem(restarts)).toMatch(/podFailurePolicy/);
    const two = base();
    const containers = (two["spec"] as { template: { spec: { containers: { name: string }[] } } }).template
      .spec.containers;
    containers.push({ ...containers[0]!, name: "sidecar" });
    containers[0]!.name = "main";
    expect(jobTemplateProblem(two)).toMatch(/none is named "rollout-medic"/);
  });
});
