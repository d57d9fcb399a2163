import type { Cluster } from "../cluster/cluster.js";
import type { KubeObject } from "../cluster/kube-object.js";
import { findMappingRule } from "./repository-mapping.js";
import type { RepositoryMapping } from "./repository-mapping.js";
import { parseRepositoryUrl } from "./repository-target.js";
import type { RepositoryResolution, RepositoryTarget } from "./repository-target.js";

export const ANNOTATION_REPO = "rollout-medic.dev/repo";
export const ANNOTATION_BASE_BRANCH = "rollout-medic.dev/base-branch";
export const ANNOTATION_PATHS = "rollout-medic.dev/paths";
export const ANNOTATION_ENABLED = "rollout-medic.dev/enabled";
export const ARGOCD_TRACKING_ID = "argocd.argoproj.io/tracking-id";
export const ARGOCD_INSTANCE_LABEL = "argocd.argoproj.io/instance";
export const DEFAULT_ARGOCD_NAMESPACE = "argocd";

export interface ResolveRepositoryInput {
  /** The Rollout as the API returns it. */
  rollout: KubeObject;
  /** The forge's git host (github.com, or the Enterprise host): a repository elsewhere is refused. */
  forgeHost: string;
  mapping?: RepositoryMapping | null;
  mappingSource?: string;
  /** Reads Argo CD Applications; omitted: the Argo CD step is skipped. */
  cluster?: Pick<Cluster, "findArgoApplication">;
  argocdNamespace?: string;
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

function splitPaths(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/**
 * Which repository and base branch belong to a Rollout, asked in order: the Rollout's own annotations,
 * the operator's mapping file, then the Argo CD Application that manages it. Nothing is guessed: when
 * none of them answers, or an answer names a repository on another host, the result is `unknown` with
 * every reason. `rollout-medic.dev/enabled: "false"` opts the Rollout out before anything else.
 */
export async function resolveRepository(input: ResolveRepositoryInput): Promise<RepositoryResolution> {
  const { rollout, forgeHost } = input;
  const namespace = rollout.metadata.namespace ?? "default";
  const name = rollout.metadata.name;
  const annotations = stringMap(rollout.metadata.annotations);
  const labels = stringMap(rollout.metadata.labels);
  const tried: string[] = [];

  if ((annotations[ANNOTATION_ENABLED] ?? "").trim().toLowerCase() === "false") {
    return { kind: "opted-out", reason: `${namespace}/${name} has ${ANNOTATION_ENABLED}: "false"` };
  }

  const overrideBase = annotations[ANNOTATION_BASE_BRANCH]?.trim() || null;
  const overridePaths = splitPaths(annotations[ANNOTATION_PATHS]);
  const finish = (
    raw: string,
    found: Omit<RepositoryTarget, "url" | "host" | "owner" | "repo">,
  ): RepositoryTarget | string => {
    const parsed = parseRepositoryUrl(raw, forgeHost);
    if (!parsed)
      return `${found.detail} names ${JSON.stringify(raw)}, which is not an owner/repo repository URL`;
    if (parsed.host !== forgeHost.toLowerCase()) {
      return `${found.detail} names a repository on ${parsed.host}, but rollout-medic works with ${forgeHost} (GITHUB_API_URL)`;
    }
    return {
      ...parsed,
      ...found,
      baseBranch: overrideBase ?? found.baseBranch,
      paths: overridePaths.length > 0 ? overridePaths : found.paths,
    };
  };

  const annotated = annotations[ANNOTATION_REPO]?.trim();
  if (annotated) {
    const target = finish(annotated, {
      baseBranch: null,
      paths: [],
      source: "annotation",
      detail: `annotation ${ANNOTATION_REPO} on the Rollout`,
    });
    if (typeof target !== "string") return { kind: "found", target };
    return { kind: "unknown", reason: target, tried: [target] };
  }
  tried.push(`no ${ANNOTATION_REPO} annotation on the Rollout`);

  if (input.mapping) {
    const match = findMappingRule(input.mapping, { namespace, name });
    if (match) {
      const target = finish(match.rule.repo, {
        baseBranch: match.rule.baseBranch ?? null,
        paths: match.rule.paths ?? [],
        source: "mapping-file",
        detail: `rule ${match.index + 1} of ${input.mappingSource ?? "the repository mapping file"}`,
      });
      if (typeof target !== "string") return { kind: "found", target };
      return { kind: "unknown", reason: target, tried: [...tried, target] };
    }
    tried.push(`no rule for ${namespace}/${name} in ${input.mappingSource ?? "the repository mapping file"}`);
  } else {
    tried.push("no repository mapping file (ROLLOUT_MEDIC_REPO_MAPPING_FILE)");
  }

  if (input.cluster) {
    const fromArgo = await resolveFromArgoCd(input, namespace, name, annotations, labels);
    if (fromArgo.kind === "target") {
      const target = finish(fromArgo.repoURL, fromArgo.found);
      if (typeof target !== "string") return { kind: "found", target };
      return { kind: "unknown", reason: target, tried: [...tried, target] };
    }
    tried.push(fromArgo.reason);
  }

  return {
    kind: "unknown",
    reason: `no repository is known for ${namespace}/${name}: annotate the Rollout with ${ANNOTATION_REPO}, add a rule to the mapping file, or manage it with an Argo CD Application`,
    tried,
  };
}

type ArgoAnswer =
  | { kind: "target"; repoURL: string; found: Omit<RepositoryTarget, "url" | "host" | "owner" | "repo"> }
  | { kind: "none"; reason: string };

/** The Application named by the tracking id (preferred: it names this very Rollout) or the instance label. */
async function resolveFromArgoCd(
  input: ResolveRepositoryInput,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  labels: Record<string, string>,
): Promise<ArgoAnswer> {
  let appRef: string | null = null;
  let via = "";
  const tracking = annotations[ARGOCD_TRACKING_ID];
  if (tracking) {
    // <app>:<group>/<kind>:<namespace>/<name>; a copied annotation naming another object is ignored.
    const match = /^([^:]+):([^/]*)\/([^:]+):([^/]*)\/(.+)$/.exec(tracking.trim());
    if (
      match &&
      match[2] === "argoproj.io" &&
      match[3] === "Rollout" &&
      (match[4] || namespace) === namespace &&
      match[5] === name
    ) {
      appRef = match[1]!;
      via = `the ${ARGOCD_TRACKING_ID} annotation`;
    }
  }
  if (!appRef && labels[ARGOCD_INSTANCE_LABEL]) {
    appRef = labels[ARGOCD_INSTANCE_LABEL]!;
    via = `the ${ARGOCD_INSTANCE_LABEL} label`;
  }
  if (!appRef)
    return {
      kind: "none",
      reason: `no ${ARGOCD_TRACKING_ID} annotation or ${ARGOCD_INSTANCE_LABEL} label (not managed by Argo CD)`,
    };

  // Applications outside the control-plane namespace are tracked as <namespace>_<name>.
  const underscore = appRef.indexOf("_");
  const appNamespace =
    underscore > 0 ? appRef.slice(0, underscore) : (input.argocdNamespace ?? DEFAULT_ARGOCD_NAMESPACE);
  const appName = underscore > 0 ? appRef.slice(underscore + 1) : appRef;
  const app = await input.cluster!.findArgoApplication(appNamespace, appName);
  const where = `Argo CD Application ${appNamespace}/${appName} (from ${via})`;
  if (!app) return { kind: "none", reason: `${where} was not found` };

  const spec = (app["spec"] ?? {}) as { source?: unknown; sources?: unknown };
  const candidates = (spec.sources ? (Array.isArray(spec.sources) ? spec.sources : []) : [spec.source])
    .filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null)
    // A Helm chart repository or a `ref`-only source holds no manifests rollout-medic can edit.
    .filter(
      (s) => typeof s["repoURL"] === "string" && !s["chart"] && (typeof s["path"] === "string" || !s["ref"]),
    );
  if (candidates.length === 0)
    return { kind: "none", reason: `${where} has no git source with manifests (a Helm chart?)` };
  if (candidates.length > 1) {
    return {
      kind: "none",
      reason: `${where} has ${candidates.length} git sources; say which with the ${ANNOTATION_REPO} annotation`,
    };
  }
  const source = candidates[0]!;
  const revision = typeof source["targetRevision"] === "string" ? source["targetRevision"].trim() : "";
  if (/^[0-9a-f]{40}$/i.test(revision)) {
    return {
      kind: "none",
      reason: `${where} pins commit ${revision.slice(0, 12)}, not a branch a pull request can target`,
    };
  }
  const sourcePath =
    typeof source["path"] === "string" ? source["path"].replace(/^\.?\/*/, "").replace(/\/+$/, "") : "";
  return {
    kind: "target",
    repoURL: source["repoURL"] as string,
    found: {
      baseBranch: revision === "" || revision === "HEAD" ? null : revision.replace(/^refs\/heads\//, ""),
      paths: sourcePath === "" ? [] : [`${sourcePath}/**`],
      source: "argocd",
      detail: where,
    },
  };
}
