import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../agent/cluster/kube-object.js";
import { ConfigError } from "../../agent/errors.js";
import { findMappingRule, parseRepositoryMapping } from "../../agent/repository/repository-mapping.js";
import { parseRepositoryUrl } from "../../agent/repository/repository-target.js";
import { resolveRepository } from "../../agent/repository/resolve-repository.js";

const HOST = "github.com";

function rollout(
  meta: { annotations?: Record<string, string>; labels?: Record<string, string> } = {},
): KubeObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name: "checkout", namespace: "shop", ...meta },
  } as KubeObject;
}

function application(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name, namespace },
    spec,
  } as KubeObject;
}

function clusterWith(apps: KubeObject[]) {
  const asked: string[] = [];
  return {
    asked,
    findArgoApplication: async (namespace: string, name: string) => {
      asked.push(`${namespace}/${name}`);
      return apps.find((a) => a.metadata.namespace === namespace && a.metadata.name === name) ?? null;
    },
  };
}

const MAPPING = parseRepositoryMapping(
  `repositories:
  - namespace: shop
    repo: https://github.com/acme/shop-deploy
  - namespace: shop
    name: checkout
    repo: git@github.com:acme/checkout-deploy.git
    baseBranch: release
    paths: ["deploy/checkout/**"]
  - namespace: "team-*"
    repo: acme/teams
  - repo: https://github.com/acme/catch-all
`,
  "mapping.yaml",
);

describe("parseRepositoryUrl", () => {
  it.each([
    ["https://github.com/acme/shop", "https://github.com/acme/shop.git"],
    ["https://github.com/acme/shop.git/", "https://github.com/acme/shop.git"],
    ["git@github.com:acme/shop.git", "https://github.com/acme/shop.git"],
    ["ssh://git@github.com/acme/shop.git", "https://github.com/acme/shop.git"],
    ["acme/shop", "https://github.com/acme/shop.git"],
    ["http://127.0.0.1:8080/acme/shop.git", "http://127.0.0.1:8080/acme/shop.git"],
  ])("%s → %s", (raw, url) => {
    expect(parseRepositoryUrl(raw, HOST)?.url).toBe(url);
  });

  it.each([
    "https://charts.example.com",
    "https://github.com/acme",
    "https://github.com/a/b/c",
    "oci://ghcr.io/acme/chart",
    "https://github.com/acme/shop?x=1",
    "../x",
  ])("refuses %s", (raw) => {
    expect(parseRepositoryUrl(raw, HOST)).toBeNull();
  });
});

describe("the mapping file", () => {
  it("picks the most specific rule, then the first among equals, with globs", () => {
    expect(findMappingRule(MAPPING, { namespace: "shop", name: "checkout" })?.index).toBe(1);
    expect(findMappingRule(MAPPING, { namespace: "shop", name: "cart" })?.index).toBe(0);
    expect(findMappingRule(MAPPING, { namespace: "team-a", name: "x" })?.index).toBe(2);
    expect(findMappingRule(MAPPING, { namespace: "other", name: "x" })?.index).toBe(3);
    expect(findMappingRule({ repositories: [] }, { namespace: "shop", name: "x" })).toBeNull();
  });

  it("refuses a malformed file with a ConfigError that says what is expected", () => {
    expect(() => parseRepositoryMapping("repositories:\n  - namespace: shop\n", "m.yaml")).toThrow(
      ConfigError,
    );
    expect(() => parseRepositoryMapping("repositories:\n  - repo: a/b\n    unknown: 1\n", "m.yaml")).toThrow(
      /m.yaml/,
    );
    expect(() => parseRepositoryMapping(": [", "m.yaml")).toThrow(/not valid YAML/);
  });
});

describe("resolveRepository", () => {
  it("takes the annotations first", async () => {
    const result = await resolveRepository({
      rollout: rollout({
        annotations: {
          "rollout-medic.dev/repo": "https://github.com/acme/annotated",
          "rollout-medic.dev/base-branch": "prod",
          "rollout-medic.dev/paths": "deploy/**, charts/checkout/**",
        },
      }),
      forgeHost: HOST,
      mapping: MAPPING,
    });
    expect(result).toEqual({
      kind: "found",
      target: {
        url: "https://github.com/acme/annotated.git",
        host: "github.com",
        owner: "acme",
        repo: "annotated",
        baseBranch: "prod",
        paths: ["deploy/**", "charts/checkout/**"],
        source: "annotation",
        detail: "annotation rollout-medic.dev/repo on the Rollout",
      },
    });
  });

  it("honours the opt-out annotation before anything else", async () => {
    const result = await resolveRepository({
      rollout: rollout({
        annotations: { "rollout-medic.dev/enabled": "false", "rollout-medic.dev/repo": "acme/x" },
      }),
      forgeHost: HOST,
    });
    expect(result).toMatchObject({ kind: "opted-out" });
  });

  it("falls back to the mapping file, annotations still overriding base branch and paths", async () => {
    const result = await resolveRepository({
      rollout: rollout(),
      forgeHost: HOST,
      mapping: MAPPING,
      mappingSource: "mapping.yaml",
    });
    expect(result).toMatchObject({
      kind: "found",
      target: {
        owner: "acme",
        repo: "checkout-deploy",
        baseBranch: "release",
        paths: ["deploy/checkout/**"],
        source: "mapping-file",
        detail: "rule 2 of mapping.yaml",
      },
    });
    const overridden = await resolveRepository({
      rollout: rollout({ annotations: { "rollout-medic.dev/base-branch": "hotfix" } }),
      forgeHost: HOST,
      mapping: MAPPING,
    });
    expect(overridden).toMatchObject({
      kind: "found",
      target: { baseBranch: "hotfix", paths: ["deploy/checkout/**"] },
    });
  });

  it("then asks the Argo CD Application named by the tracking id", async () => {
    const cluster = clusterWith([
      application("checkout", "argocd", {
        source: {
          repoURL: "https://github.com/acme/gitops.git",
          path: "./apps/checkout/",
          targetRevision: "HEAD",
        },
      }),
    ]);
    const result = await resolveRepository({
      rollout: rollout({
        annotations: { "argocd.argoproj.io/tracking-id": "checkout:argoproj.io/Rollout:shop/checkout" },
      }),
      forgeHost: HOST,
      cluster,
    });
    expect(result).toMatchObject({
      kind: "found",
      target: {
        url: "https://github.com/acme/gitops.git",
        baseBranch: null,
        paths: ["apps/checkout/**"],
        source: "argocd",
      },
    });
    expect(cluster.asked).toEqual(["argocd/checkout"]);
  });

  it("finds an Application in another namespace from the instance label (namespace_name) and reads its branch", async () => {
    const cluster = clusterWith([
      application("checkout", "team-apps", {
        sources: [
          { repoURL: "https://charts.example.com", chart: "base", targetRevision: "1.2.3" },
          { repoURL: "git@github.com:acme/gitops.git", path: "envs/prod", targetRevision: "refs/heads/prod" },
        ],
      }),
    ]);
    const result = await resolveRepository({
      rollout: rollout({ labels: { "argocd.argoproj.io/instance": "team-apps_checkout" } }),
      forgeHost: HOST,
      cluster,
    });
    expect(result).toMatchObject({
      kind: "found",
      target: { repo: "gitops", baseBranch: "prod", paths: ["envs/prod/**"] },
    });
    expect(cluster.asked).toEqual(["team-apps/checkout"]);
  });

  it("ignores a tracking id copied from another object", async () => {
    const cluster = clusterWith([]);
    const result = await resolveRepository({
      rollout: rollout({
        annotations: { "argocd.argoproj.io/tracking-id": "other:apps/Deployment:shop/other" },
      }),
      forgeHost: HOST,
      cluster,
    });
    expect(result.kind).toBe("unknown");
    expect(cluster.asked).toEqual([]);
  });

  it.each([
    [
      "a pinned commit",
      {
        source: {
          repoURL: "https://github.com/acme/g",
          path: "x",
          targetRevision: "0123456789abcdef0123456789abcdef01234567",
        },
      },
      /pins commit/,
    ],
    [
      "a Helm chart only",
      { source: { repoURL: "https://charts.example.com", chart: "c", targetRevision: "1.0.0" } },
      /no git source/,
    ],
    [
      "two git sources",
      {
        sources: [
          { repoURL: "https://github.com/a/b", path: "x" },
          { repoURL: "https://github.com/a/c", path: "y" },
        ],
      },
      /2 git sources/,
    ],
  ])("says unknown, without guessing, for %s", async (_label, spec, reason) => {
    const result = await resolveRepository({
      rollout: rollout({ labels: { "argocd.argoproj.io/instance": "checkout" } }),
      forgeHost: HOST,
      cluster: clusterWith([application("checkout", "argocd", spec)]),
    });
    expect(result.kind).toBe("unknown");
    expect(result.kind === "unknown" && result.tried.join("\n")).toMatch(reason);
  });

  it("refuses a repository on another host than the configured GitHub (the token must not go there)", async () => {
    const result = await resolveRepository({
      rollout: rollout({ annotations: { "rollout-medic.dev/repo": "https://evil.example.com/acme/shop" } }),
      forgeHost: HOST,
    });
    expect(result).toMatchObject({ kind: "unknown" });
    expect(result.kind === "unknown" && result.reason).toMatch(
      /on evil.example.com, but rollout-medic works with github.com/,
    );
  });

  it("says what it tried when nothing is known", async () => {
    const result = await resolveRepository({ rollout: rollout(), forgeHost: HOST, cluster: clusterWith([]) });
    expect(result).toMatchObject({ kind: "unknown" });
    expect(result.kind === "unknown" && result.tried).toEqual([
      "no rollout-medic.dev/repo annotation on the Rollout",
      "no repository mapping file (ROLLOUT_MEDIC_REPO_MAPPING_FILE)",
      "no argocd.argoproj.io/tracking-id annotation or argocd.argoproj.io/instance label (not managed by Argo CD)",
    ]);
  });
});
