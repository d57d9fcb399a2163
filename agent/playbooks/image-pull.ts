import type { Config } from "../config.js";
import type { Diagnosis } from "../diagnosis/diagnosis.js";
import type { Fix, FixChange, NoFix } from "../fix/fix.js";
import type { Incident } from "../incident/incident.js";
import { ensureValueAt, setValueAt } from "../workspace/edit-location.js";
import { matchImageTemplate } from "../workspace/helm-sources.js";
import { parseImageReference } from "../workspace/image-reference.js";
import { ORIGIN_LABEL, withPath } from "../workspace/workload-model.js";
import type { ContainerModel } from "../workspace/workload-model.js";
import type { Workspace } from "../workspace/workspace.js";
import type { Playbook } from "./playbook.js";
import {
  appContainers,
  canaryPods,
  code,
  finishFix,
  locateContainer,
  noFix,
  stablePods,
} from "./playbook-support.js";

const PULL_REASONS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
]);

interface PullFailure {
  container: string;
  image: string;
  reason?: string;
  message?: string;
}

/** The canary container whose image does not pull, from pod states first and events second. */
export function findPullFailure(incident: Incident): PullFailure | null {
  for (const pod of canaryPods(incident)) {
    for (const container of pod.containers) {
      if (container.state === "waiting" && container.reason && PULL_REASONS.has(container.reason)) {
        const spec = incident.rollout.containers.find((c) => c.name === container.name);
        return {
          container: container.name,
          image: spec?.image || container.image,
          reason: container.reason,
          ...(container.message !== undefined ? { message: container.message } : {}),
        };
      }
    }
  }
  for (const event of incident.events) {
    const match = /(?:Failed to pull image|pulling image|Back-off pulling image) "([^"]+)"/i.exec(
      event.message,
    );
    if (!match?.[1]) continue;
    const spec = incident.rollout.containers.find((c) => c.image === match[1]);
    if (spec)
      return { container: spec.name, image: spec.image, reason: event.reason, message: event.message };
  }
  return null;
}

/** The image the stable ReplicaSet runs for `container`: its pod template first, its pods second. */
export function findStableImage(incident: Incident, container: string): string | null {
  const stableHash = incident.rollout.stablePodHash;
  for (const rs of incident.raw.replicaSets) {
    const hash = rs.metadata.labels?.["rollouts-pod-template-hash"];
    if (!stableHash || hash !== stableHash) continue;
    const containers: unknown = rs.spec?.template?.spec?.containers;
    if (!Array.isArray(containers)) continue;
    const found = containers.find((c: { name?: unknown }) => c?.name === container) as
      { image?: unknown } | undefined;
    if (typeof found?.image === "string" && found.image !== "") return found.image;
  }
  for (const pod of stablePods(incident)) {
    const found = pod.containers.find((c) => c.name === container && !c.init);
    if (found?.image) return found.image;
  }
  const specIndex = incident.rollout.containers.findIndex((c) => c.name === container);
  const stableRs = incident.replicaSets.find((rs) => rs.role === "stable");
  const byIndex = specIndex >= 0 ? stableRs?.images[specIndex] : undefined;
  return byIndex || null;
}

interface Edit {
  change: FixChange;
  apply: () => Promise<void>;
}

function label(container: ContainerModel, origin: keyof typeof ORIGIN_LABEL, file: string): string {
  return `container ${container.name} image (${ORIGIN_LABEL[origin]} in ${file})`;
}

/** Plans the edits that turn the repository's image back into `stable`, or says why it cannot. */
function planImageEdits(
  workspace: Workspace,
  incident: Incident,
  container: ContainerModel,
  canary: string,
  stable: string,
): Edit[] | NoFix {
  const image = container.image;
  const where = `Rollout ${incident.rollout.namespace}/${incident.rollout.name}, `;
  if (!image) return noFix(`could not locate where the image of container ${container.name} is set`);
  if (image.type === "field") {
    const current = String(image.source.value);
    if (current !== canary) {
      return noFix(
        `the repository sets the image of ${container.name} to ${current}, not the failing ${canary}: it may have changed since`,
      );
    }
    return [
      {
        change: {
          file: image.source.location.file,
          location: where + label(container, image.source.origin, image.source.location.file),
          from: current,
          to: stable,
        },
        apply: () => setValueAt(workspace, image.source.location, stable, image.source.value),
      },
    ];
  }
  if (image.type === "kustomize-images") {
    const entry = image.entry;
    const want = parseImageReference(stable);
    const have = parseImageReference(canary);
    const edits: Edit[] = [];
    const at = (key: string) => withPath(entry.location, [key]);
    const change = (key: string, from: string | undefined, to: string): Edit => ({
      change: {
        file: entry.location.file,
        location: `${where}container ${container.name}, images[name=${entry.name}].${key} (${ORIGIN_LABEL["kustomize-images"]} in ${entry.location.file})`,
        from: from ?? "(unset)",
        to,
      },
      apply: () => ensureValueAt(workspace, at(key), to, { after: ["name", "newName"] }),
    });
    if (want.name !== have.name) edits.push(change("newName", entry.newName, want.name));
    if (want.digest !== undefined) {
      if (want.digest !== have.digest) edits.push(change("digest", entry.digest, want.digest));
    } else {
      if (entry.digest !== undefined) {
        return noFix(
          `the overlay pins ${container.name} by digest (${entry.digest}) while the stable image ${stable} is a tag: not changed automatically`,
        );
      }
      if (want.tag === undefined) return noFix(`the stable image ${stable} has neither tag nor digest`);
      if (want.tag !== have.tag) edits.push(change("newTag", entry.newTag, want.tag));
    }
    return edits;
  }
  const canaryParts = matchImageTemplate(image.template, canary);
  const stableParts = matchImageTemplate(image.template, stable);
  if (!canaryParts || !stableParts) {
    return noFix(
      `the image template ${image.template} in ${image.templateFile} does not match both ${canary} and ${stable}`,
    );
  }
  const edits: Edit[] = [];
  for (const part of image.parts) {
    const key = part.valuesPath.join(".");
    const from = canaryParts.get(key);
    const to = stableParts.get(key);
    if (from === undefined || to === undefined || from === to) continue;
    const source = part.source;
    if (!source)
      return noFix(
        `.Values.${key} is not set in any values file (the chart default applies): not changed automatically`,
      );
    if (String(source.value) !== from) {
      return noFix(
        `.Values.${key} is ${String(source.value)} in ${source.location.file}, but the failing canary runs ${from}`,
      );
    }
    edits.push({
      change: {
        file: source.location.file,
        location: `${where}container ${container.name}, .Values.${key} (${ORIGIN_LABEL["helm-values"]} in ${source.location.file})`,
        from: String(source.value),
        to,
      },
      apply: () => setValueAt(workspace, source.location, to, source.value),
    });
  }
  return edits;
}

async function fix(
  workspace: Workspace,
  incident: Incident,
  _diagnosis: Diagnosis,
  _config: Config,
): Promise<Fix | NoFix> {
  const failure = findPullFailure(incident);
  if (failure && !incident.rollout.containers.some((c) => c.name === failure.container)) {
    return noFix(
      `the image of container ${failure.container} (${failure.image}) fails to pull, but the Rollout's template does not define that container (an injected sidecar?)`,
    );
  }
  const spec = failure
    ? incident.rollout.containers.find((c) => c.name === failure.container)
    : appContainers(incident).find((c) => {
        const stable = findStableImage(incident, c.name);
        return stable !== null && stable !== c.image;
      });
  if (!spec) return noFix("no canary container with an image that fails to pull was found");
  const canary = spec.image;
  const stable = findStableImage(incident, spec.name);
  if (!stable)
    return noFix(
      `the image the stable ReplicaSet runs for ${spec.name} is unknown: there is nothing known-good to restore`,
    );
  if (stable === canary) {
    return noFix(
      `canary and stable use the same image ${canary}: the pull failure is not caused by the reference (check registry credentials and imagePullSecrets)`,
    );
  }
  const located = await locateContainer(workspace, incident, spec.name);
  if ("reason" in located) return located;
  const { workload, container } = located;
  if (container.effectiveImage !== undefined && container.effectiveImage !== canary) {
    return noFix(
      `${workload.description} produces image ${container.effectiveImage} for ${spec.name}, not the failing ${canary}: the repository may have moved on`,
    );
  }
  const plan = planImageEdits(workspace, incident, container, canary, stable);
  if ("reason" in plan) return plan;
  if (plan.length === 0)
    return noFix(`the image source of ${spec.name} already matches the stable image ${stable}`);
  for (const edit of plan) await edit.apply();

  const why = failure?.message
    ? ` (${failure.reason ?? "pull error"}: ${failure.message.replace(/\s+/g, " ").slice(0, 300)})`
    : failure?.reason
      ? ` (${failure.reason})`
      : "";
  const rationale = [
    `The canary pods of Rollout ${code(`${incident.rollout.namespace}/${incident.rollout.name}`)} cannot pull ${code(canary)}${why}. The stable ReplicaSet runs ${code(stable)}.`,
    `This change sets the image of container ${code(spec.name)} back to ${code(stable)} in ${workload.description}, so Git describes again what actually runs. It does not make the broken image work: ${code(canary)} needs to be built and pushed (or its tag corrected) before it is promoted again.`,
  ].join("\n\n");
  return finishFix(workspace, {
    fixer: "image-pull",
    category: "image-pull",
    changes: plan.map((e) => e.change),
    rationale,
    reviewerChecklist: [
      `Confirm that ${code(canary)} really does not exist or cannot be pulled (a typo in the tag, a build that never pushed) rather than a registry or credentials outage.`,
      "Build and push the intended image, then promote it again in a separate change.",
      "Check other environments or overlays that may reference the same broken tag.",
    ],
    rolloutNote:
      "Merging makes the Rollout's pod template equal to the stable ReplicaSet again: Argo Rollouts treats that as a rollback to stable and does not run the canary steps.",
    confidence: failure ? 0.85 : 0.6,
  });
}

export const imagePullPlaybook: Playbook = {
  id: "image-pull",
  applies: (_incident, diagnosis) => diagnosis.category === "image-pull",
  fix,
};
