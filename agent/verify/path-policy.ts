import picomatch from "picomatch";
import { isMap, isScalar, parseAllDocuments } from "yaml";
import { normalizeWorkspaceRel } from "../workspace/resolve-workspace-path.js";

export interface PathPolicy {
  /** Globs a change may touch (scenario.yaml or repository `allowPaths`); empty or absent: the whole repository. */
  allowPaths?: string[];
  /** A second allow list that must also match (the repository's own file when a scenario also sets one). */
  alsoAllowPaths?: string[];
  /** Extra globs to refuse on top of the built-in deny list. */
  denyPaths?: string[];
  /** Argo analysis templates decide whether a canary is healthy: changing them is off unless enabled here. */
  allowAnalysisTemplates?: boolean;
}

export type PathCheck = { ok: true } | { ok: false; reason: string };

interface DenyRule {
  globs: string[];
  reason: string;
}

/** Never changed by a fix, whatever allowPaths says: CI can run code with the repository's secrets. */
const BUILT_IN_DENY: DenyRule[] = [
  { globs: ["**/.git", "**/.git/**"], reason: "the .git folder is never written" },
  {
    globs: [".github/**", "**/.github/**"],
    reason: "GitHub workflows and settings (.github/) are CI configuration",
  },
  {
    globs: [
      "**/.gitlab-ci.yml",
      "**/.gitlab-ci.yaml",
      ".gitlab/**",
      ".circleci/**",
      "**/Jenkinsfile",
      "**/Jenkinsfile.*",
      "**/*.jenkinsfile",
      ".buildkite/**",
      "**/azure-pipelines.yml",
      "**/azure-pipelines.yaml",
      ".azure-pipelines/**",
      "**/.travis.yml",
      "**/bitbucket-pipelines.yml",
      "**/.drone.yml",
      ".woodpecker/**",
      "**/.woodpecker.yml",
      ".tekton/**",
      "**/cloudbuild.yaml",
      "**/cloudbuild.yml",
      "**/appveyor.yml",
      "**/.pre-commit-config.yaml",
    ],
    reason: "CI configuration",
  },
  {
    globs: ["**/CODEOWNERS", "**/.gitattributes", "**/.gitmodules", "**/.gitignore"],
    reason: "repository governance files (review ownership, git attributes and submodules)",
  },
  {
    globs: [
      "**/*.pem",
      "**/*.key",
      "**/*.p12",
      "**/*.pfx",
      "**/*.jks",
      "**/*.keystore",
      "**/*.crt",
      "**/*.gpg",
      "**/*.asc",
      "**/id_rsa*",
      "**/id_dsa*",
      "**/id_ecdsa*",
      "**/id_ed25519*",
      "**/.env",
      "**/.env.*",
      "**/*.env",
      "**/credentials*",
      "**/*credentials*.json",
      "**/.npmrc",
      "**/.pypirc",
      "**/.netrc",
      "**/.dockerconfigjson",
      "**/.docker/config.json",
      "**/kubeconfig*",
      "**/*.kubeconfig",
      "**/.aws/**",
      "**/*secret*.yaml",
      "**/*secret*.yml",
      "**/*.tfstate",
      "**/*.tfvars",
    ],
    reason: "the file looks like it holds secrets or credentials",
  },
];

const denyMatchers = BUILT_IN_DENY.map((rule) => ({
  match: picomatch(rule.globs, { dot: true, nocase: true }),
  reason: rule.reason,
}));

function yamlKinds(content: string): string[] {
  // Only the top-level `kind` is read from the AST: aliases are never expanded, so a YAML bomb costs nothing.
  const kinds: string[] = [];
  try {
    for (const doc of parseAllDocuments(content)) {
      const contents = doc.contents;
      if (!isMap(contents)) continue;
      const kind = contents.get("kind", true);
      if (isScalar(kind) && typeof kind.value === "string") kinds.push(kind.value);
    }
  } catch {
    // Unparseable content is judged by its path alone; verification reports the parse error.
  }
  return kinds;
}

function isYamlPath(rel: string): boolean {
  return /\.ya?ml$/i.test(rel);
}

/**
 * Decides whether a write to `rel` is allowed. Used for every write, by a playbook or an agent: pass the
 * new content to also refuse Secrets and analysis templates by their `kind`.
 */
export function checkWritePath(rel: string, policy: PathPolicy = {}, content?: string): PathCheck {
  let normalized: string;
  try {
    normalized = normalizeWorkspaceRel(rel);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  for (const rule of denyMatchers) {
    if (rule.match(normalized))
      return { ok: false, reason: `${normalized} is on the built-in deny list: ${rule.reason}` };
  }
  if (
    policy.denyPaths &&
    policy.denyPaths.length > 0 &&
    picomatch(policy.denyPaths, { dot: true })(normalized)
  ) {
    return { ok: false, reason: `${normalized} matches the configured denyPaths` };
  }
  for (const [name, globs] of [
    ["allowPaths", policy.allowPaths],
    ["the repository's allowPaths", policy.alsoAllowPaths],
  ] as const) {
    if (globs && globs.length > 0 && !picomatch(globs, { dot: true })(normalized)) {
      return { ok: false, reason: `${normalized} is outside ${name} (${globs.join(", ")})` };
    }
  }
  if (content !== undefined && isYamlPath(normalized)) {
    const kinds = yamlKinds(content);
    if (kinds.includes("Secret"))
      return { ok: false, reason: `${normalized} holds a Kubernetes Secret: never changed by a fix` };
    const template = kinds.find((k) => k === "AnalysisTemplate" || k === "ClusterAnalysisTemplate");
    if (template && !policy.allowAnalysisTemplates) {
      return {
        ok: false,
        reason: `${normalized} holds an Argo ${template}: changing how the canary is judged needs allowAnalysisTemplates`,
      };
    }
  }
  return { ok: true };
}
