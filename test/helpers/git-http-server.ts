import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A git server for tests: git's own `git http-backend` CGI behind node:http on 127.0.0.1, so clones and
 * pushes use the real smart HTTP protocol. The server checks HTTP Basic credentials itself (any user,
 * the password must be the token), as GitHub does for `x-access-token`, and answers 401 otherwise.
 *
 * CGI variables follow git-http-backend(1): GIT_PROJECT_ROOT + PATH_INFO locate the repository,
 * GIT_HTTP_EXPORT_ALL skips git-daemon-export-ok, REMOTE_USER enables receive-pack, the Git-Protocol
 * header becomes GIT_PROTOCOL (protocol v2), and HTTP_CONTENT_ENCODING lets it inflate gzip bodies.
 */

export interface GitHttpServerOptions {
  /** The password every request must carry; the user name is not checked. */
  token: string;
  /** Anonymous clones are refused too (a private repository). Default true. */
  requireAuthForRead?: boolean;
}

export interface GitRequestRecord {
  method: string;
  path: string;
  service: string | null;
  /** Whether an Authorization header came at all; the header itself is never recorded. */
  hadAuthorization: boolean;
  authenticated: boolean;
  status: number;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authorDate: string;
  committerName: string;
  committerEmail: string;
  committerDate: string;
  message: string;
}

export interface Identity {
  name: string;
  email: string;
}

const HUMAN: Identity = { name: "Dana Developer", email: "dana@example.com" };

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly root: string;
  readonly requests: GitRequestRecord[];
  repoUrl(owner: string, name: string): string;
  /** A bare repository with one commit of `files` on `branch`, served at `/owner/name.git`. */
  createRepository(owner: string, name: string, files: Record<string, string>, branch?: string): string;
  /** Commits `files` on top of `branch` (created from `from` when missing) as `identity`, straight into the bare repository. */
  commit(
    owner: string,
    name: string,
    branch: string,
    files: Record<string, string>,
    options?: { identity?: Identity; message?: string; from?: string },
  ): string;
  readBranch(owner: string, name: string, branch: string): CommitInfo | null;
  readCommit(owner: string, name: string, sha: string): CommitInfo | null;
  branches(owner: string, name: string): string[];
  /** Runs `git -C <bare repo> ARGS` (configuration of the server side, e.g. receive.denyNonFastForwards). */
  git(owner: string, name: string, args: string[]): string;
  close(): Promise<void>;
}

const SERVER_ENV = {
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  LANG: "C",
  LC_ALL: "C",
};

function gitIn(dir: string, args: string[], extra: Record<string, string> = {}): string {
  return execFileSync("git", args, {
    cwd: dir,
    env: { ...SERVER_ENV, HOME: dir, ...extra },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function identityEnv(identity: Identity, when?: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    ...(when ? { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when } : {}),
  };
}

function authenticate(
  request: IncomingMessage,
  token: string,
): { present: boolean; ok: boolean; user: string } {
  const header = request.headers.authorization;
  if (!header) return { present: false, ok: false, user: "" };
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return { present: true, ok: false, user: "" };
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  return { present: true, ok: user !== "" && password === token, user };
}

function serviceOf(pathname: string, query: URLSearchParams): string | null {
  const fromQuery = query.get("service");
  if (fromQuery) return fromQuery;
  const tail = /\/(git-upload-pack|git-receive-pack)$/.exec(pathname);
  return tail?.[1] ?? null;
}

async function runBackend(
  request: IncomingMessage,
  response: ServerResponse,
  root: string,
  pathname: string,
  query: string,
  user: string | null,
): Promise<number> {
  const env: Record<string, string> = {
    ...SERVER_ENV,
    HOME: root,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: pathname,
    QUERY_STRING: query,
    REQUEST_METHOD: request.method ?? "GET",
    CONTENT_TYPE: request.headers["content-type"] ?? "",
    REMOTE_ADDR: request.socket.remoteAddress ?? "127.0.0.1",
  };
  if (user) env["REMOTE_USER"] = user;
  const protocol = request.headers["git-protocol"];
  if (typeof protocol === "string") env["GIT_PROTOCOL"] = protocol;
  const encoding = request.headers["content-encoding"];
  if (typeof encoding === "string") env["HTTP_CONTENT_ENCODING"] = encoding;
  const length = request.headers["content-length"];
  if (typeof length === "string") env["CONTENT_LENGTH"] = length;

  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  request.pipe(child.stdin);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on("data", () => undefined);
  await new Promise<void>((resolve) => child.on("close", () => resolve()));
  const output = Buffer.concat(chunks);
  let split = output.indexOf("\r\n\r\n");
  let gap = 4;
  if (split < 0) {
    split = output.indexOf("\n\n");
    gap = 2;
  }
  if (split < 0) {
    response.writeHead(502).end("bad CGI output");
    return 502;
  }
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of output.subarray(0, split).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers[key] = value;
  }
  response.writeHead(status, headers);
  response.end(output.subarray(split + gap));
  return status;
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const root = mkdtempSync(path.join(tmpdir(), "rm-git-server-"));
  const requireAuthForRead = options.requireAuthForRead ?? true;
  const requests: GitRequestRecord[] = [];

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const service = serviceOf(url.pathname, url.searchParams);
    const auth = authenticate(request, options.token);
    const record: GitRequestRecord = {
      method: request.method ?? "GET",
      path: url.pathname,
      service,
      hadAuthorization: auth.present,
      authenticated: auth.ok,
      status: 0,
    };
    requests.push(record);
    const needsAuth = service === "git-receive-pack" || requireAuthForRead;
    if (needsAuth && !auth.ok) {
      record.status = 401;
      request.resume();
      response.writeHead(401, { "WWW-Authenticate": 'Basic realm="rollout-medic test git server"' });
      response.end("Unauthorized\n");
      return;
    }
    runBackend(
      request,
      response,
      root,
      decodeURIComponent(url.pathname),
      url.search.slice(1),
      auth.ok ? auth.user : null,
    )
      .then((status) => {
        record.status = status;
      })
      .catch(() => {
        record.status = 500;
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  const bare = (owner: string, name: string) => path.join(root, owner, `${name}.git`);

  const readCommit = (owner: string, name: string, sha: string): CommitInfo | null => {
    try {
      const out = gitIn(bare(owner, name), [
        "show",
        "-s",
        "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B",
        `${sha}^{commit}`,
      ]);
      const [h, t, p, an, ae, ad, cn, ce, cd, ...message] = out.split("\0");
      return {
        sha: h!,
        tree: t!,
        parents: p ? p.split(" ").filter(Boolean) : [],
        authorName: an!,
        authorEmail: ae!,
        authorDate: ad!,
        committerName: cn!,
        committerEmail: ce!,
        committerDate: cd!,
        message: message.join("\0").replace(/\n+$/, ""),
      };
    } catch {
      return null;
    }
  };

  const commit: GitHttpServer["commit"] = (owner, name, branch, files, commitOptions = {}) => {
    const work = mkdtempSync(path.join(tmpdir(), "rm-git-work-"));
    try {
      const repo = bare(owner, name);
      const env = identityEnv(commitOptions.identity ?? HUMAN);
      const index = path.join(work, "index");
      const from =
        readCommit(owner, name, `refs/heads/${branch}`) ??
        readCommit(owner, name, commitOptions.from ?? "HEAD");
      const gitEnv = { ...env, GIT_INDEX_FILE: index, GIT_WORK_TREE: work, GIT_DIR: repo };
      if (from) gitIn(work, ["read-tree", from.sha], gitEnv);
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
        writeFileSync(path.join(work, rel), text);
        gitIn(work, ["update-index", "--add", rel], gitEnv);
      }
      const tree = gitIn(work, ["write-tree"], gitEnv).trim();
      const parents = from ? ["-p", from.sha] : [];
      const sha = gitIn(
        work,
        ["commit-tree", tree, ...parents, "-m", commitOptions.message ?? "human change"],
        gitEnv,
      ).trim();
      gitIn(repo, ["update-ref", `refs/heads/${branch}`, sha]);
      return sha;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };

  return {
    url: base,
    root,
    requests,
    repoUrl: (owner, name) => `${base}/${owner}/${name}.git`,
    createRepository(owner, name, files, branch = "main") {
      const repo = bare(owner, name);
      mkdirSync(repo, { recursive: true });
      gitIn(repo, ["init", "--bare", "-q", "-b", branch]);
      // Partial clones need the filter capability; allowRefInWant stays off (git 2.39 breaks shallow fetches with it).
      gitIn(repo, ["config", "uploadpack.allowFilter", "true"]);
      gitIn(repo, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
      commit(owner, name, branch, files, { identity: HUMAN, message: "initial manifests" });
      return repo;
    },
    commit,
    readBranch: (owner, name, branch) => readCommit(owner, name, `refs/heads/${branch}`),
    readCommit,
    branches(owner, name) {
      return gitIn(bare(owner, name), ["for-each-ref", "--format=%(refname:strip=2)", "refs/heads/"])
        .split("\n")
        .filter(Boolean);
    },
    git: (owner, name, args) => gitIn(bare(owner, name), args),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A directory with a `git` wrapper that appends each invocation's argv (NUL-separated, one line per call)
 * to `log` and then runs the real git: put it first in the PATH given to rollout-medic to see exactly
 * what was spawned.
 */
export function createGitArgvRecorder(): { dir: string; log: string; calls(): string[][]; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "rm-git-argv-"));
  const log = path.join(dir, "argv.log");
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  writeFileSync(log, "");
  writeFileSync(
    path.join(dir, "git"),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\037' "$a" >> '${log}'; done\nprintf '\\n' >> '${log}'\nexec '${realGit}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    log,
    calls: () =>
      execFileSync("cat", [log], { encoding: "utf8" })
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\x1f").filter((_, i, all) => i < all.length - 1 || all[i] !== "")),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
