import { WorkspaceError } from "../errors.js";

/** HTTPS credentials for git. GitHub accepts the user `x-access-token` with a PAT or an installation token. */
export interface GitCredentials {
  username: string;
  password: string;
}

/**
 * Asked before every network git command rather than once, because a GitHub App installation token
 * expires after an hour and the source refreshes it. `null` means anonymous access.
 */
export type GitCredentialSource = () => Promise<GitCredentials | null>;

export const GITHUB_TOKEN_USERNAME = "x-access-token";

/** `scheme://host[:port]` of a remote URL: the scope of the credentials, so a redirect elsewhere gets none. */
export function remoteOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WorkspaceError(`the repository URL ${JSON.stringify(redactUrl(url))} is not a valid URL`);
  }
  return `${parsed.protocol}//${parsed.host}`;
}

/** The URL without user, password, query or fragment: safe for messages and for `.git/config`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}

/**
 * The credentials as per-command git configuration (`http.<origin>/.extraHeader`), passed through
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` in the child's environment: never in argv
 * (world-readable in /proc/PID/cmdline), never in `.git/config`, never in the remote URL.
 */
export function credentialConfig(url: string, credentials: GitCredentials | null): [string, string][] {
  if (!credentials) return [];
  if (/[\r\n]/.test(credentials.username) || /[\r\n]/.test(credentials.password)) {
    throw new WorkspaceError("the git credentials contain a line break: check the token");
  }
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64");
  return [[`http.${remoteOrigin(url)}/.extraHeader`, `Authorization: Basic ${basic}`]];
}

/** Every form in which the credentials could appear in git's output, for scrubbing messages. */
export function credentialSecrets(credentials: GitCredentials | null): string[] {
  if (!credentials || credentials.password === "") return [];
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64");
  return [credentials.password, basic];
}
