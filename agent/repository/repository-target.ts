/** Where a Rollout's fix goes: one repository on the forge, a base branch and the paths it may change. */
export interface RepositoryTarget {
  /** The clone URL, normalised to `https://host/owner/repo.git` (the scheme kept for loopback tests). */
  url: string;
  host: string;
  owner: string;
  repo: string;
  /** Null: the repository's default branch. */
  baseBranch: string | null;
  /** Globs the fix may change (allowPaths); empty: the whole repository minus the built-in deny list. */
  paths: string[];
  source: "annotation" | "mapping-file" | "argocd";
  /** For messages and the report: which annotation, rule or Application said so. */
  detail: string;
}

export type RepositoryResolution =
  | { kind: "found"; target: RepositoryTarget }
  | { kind: "opted-out"; reason: string }
  | { kind: "unknown"; reason: string; tried: string[] };

export interface ParsedRepositoryUrl {
  url: string;
  host: string;
  owner: string;
  repo: string;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Reads the repository forms people write in annotations and Argo CD: `https://host/owner/repo(.git)`,
 * `git@host:owner/repo.git`, `ssh://git@host/owner/repo.git`, and `owner/repo` (on `defaultHost`).
 * Null for anything else, such as a Helm chart repository or a path with more than owner and name.
 */
export function parseRepositoryUrl(raw: string, defaultHost: string): ParsedRepositoryUrl | null {
  const value = raw.trim();
  let scheme = "https";
  let host: string;
  let pathPart: string;
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/)(.+)$/.exec(value);
  if (scp) {
    host = scp[1]!;
    pathPart = scp[2]!;
  } else if (/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(value)) {
    host = defaultHost;
    pathPart = value;
  } else {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return null;
    }
    if (url.protocol === "ssh:" || url.protocol === "git+ssh:") {
      host = url.hostname;
    } else if (url.protocol === "https:" || url.protocol === "http:") {
      host = url.host;
      if (url.protocol === "http:") scheme = "http";
    } else {
      return null;
    }
    if (url.search !== "" || url.hash !== "") return null;
    pathPart = url.pathname;
  }
  const segments = pathPart
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .split("/");
  if (segments.length !== 2) return null;
  const [owner, repo] = segments as [string, string];
  // GitHub owners never start with a dot; `.` and `..` would walk out of the URL path.
  if (!NAME.test(owner) || !NAME.test(repo) || owner.startsWith(".") || repo === "." || repo === "..")
    return null;
  return { url: `${scheme}://${host}/${owner}/${repo}.git`, host: host.toLowerCase(), owner, repo };
}
