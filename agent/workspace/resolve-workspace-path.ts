import { constants } from "node:fs";
import { lstat, mkdir, open, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { WorkspaceError } from "../errors.js";

export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;

export type WorkspaceAccess = "read" | "write";

export interface ResolvedWorkspacePath {
  /** The normalized relative path with forward slashes: `deploy/rollout.yaml`. */
  rel: string;
  /** The absolute path under the workspace root (not resolved through symlinks). */
  abs: string;
}

function refuse(rel: string, why: string): never {
  throw new WorkspaceError(`refused path ${JSON.stringify(rel)}: ${why}`);
}

function isGitDirSegment(segment: string): boolean {
  // Case-insensitive file systems and Windows' trailing-dot trimming both turn ".GIT." into ".git".
  return segment.toLowerCase().replace(/[. ]+$/, "") === ".git";
}

/**
 * Checks the shape of a relative path without touching the disk: relative, no `..`, no NUL,
 * no backslashes (ambiguous between platforms), never inside `.git/`. Returns it normalized.
 */
export function normalizeWorkspaceRel(rel: string): string {
  if (typeof rel !== "string" || rel.length === 0) refuse(String(rel), "empty path");
  if (rel.includes("\0")) refuse(rel, "contains a NUL byte");
  if (rel.includes("\\"))
    refuse(rel, "contains a backslash: use forward slashes relative to the repository root");
  if (rel.startsWith("/") || /^[A-Za-z]:/.test(rel))
    refuse(rel, "absolute paths are not allowed: pass a path relative to the repository root");
  const segments = rel.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length === 0) refuse(rel, "names the repository root, not a file");
  if (segments.some((s) => s === "..")) refuse(rel, "`..` segments are not allowed");
  if (segments.some(isGitDirSegment)) refuse(rel, "the .git folder is never read or written");
  return segments.join("/");
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return (
    relative === "" ||
    (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative))
  );
}

function checkRealLocation(realRoot: string, real: string, rel: string): void {
  if (!isInside(realRoot, real))
    refuse(rel, "it resolves (through a symbolic link) to a location outside the repository");
  const inner = path.relative(realRoot, real).split(path.sep);
  if (inner.some(isGitDirSegment)) refuse(rel, "it resolves (through a symbolic link) into the .git folder");
}

async function existing(abs: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(abs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * The one gate every workspace path goes through. Reading follows symlinks only while they stay inside
 * the root; writing never goes through a symlink at all, so a write can change only the file it names.
 */
export async function resolveWorkspacePath(
  root: string,
  rel: string,
  access: WorkspaceAccess,
): Promise<ResolvedWorkspacePath> {
  const normalized = normalizeWorkspaceRel(rel);
  const realRoot = await realpath(root);
  const abs = path.join(realRoot, ...normalized.split("/"));
  if (access === "read") {
    let real: string;
    try {
      real = await realpath(abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        const stat = await existing(abs);
        if (stat?.isSymbolicLink()) {
          const target = path.resolve(path.dirname(abs), await readlink(abs));
          if (!isInside(realRoot, target))
            refuse(normalized, "it is a symbolic link to a location outside the repository");
          refuse(normalized, "it is a symbolic link whose target is missing");
        }
        refuse(normalized, "no such file in the repository");
      }
      if (code === "ELOOP") refuse(normalized, "symbolic link loop");
      throw error;
    }
    checkRealLocation(realRoot, real, normalized);
    return { rel: normalized, abs };
  }
  // Write: every existing ancestor must be a real directory inside the root, the file itself no symlink.
  const segments = normalized.split("/");
  let current = realRoot;
  for (const [index, segment] of segments.entries()) {
    current = path.join(current, segment);
    const stat = await existing(current);
    if (!stat) break;
    const last = index === segments.length - 1;
    if (stat.isSymbolicLink()) {
      refuse(
        normalized,
        `${segments.slice(0, index + 1).join("/")} is a symbolic link: edit the file it points to instead`,
      );
    }
    if (!last && !stat.isDirectory())
      refuse(normalized, `${segments.slice(0, index + 1).join("/")} is not a folder`);
    if (last && !stat.isFile()) refuse(normalized, "exists and is not a regular file");
  }
  return { rel: normalized, abs };
}

/** Reads a workspace file through the guard with a size cap, refusing anything that is not a regular file. */
export async function readWorkspaceFile(root: string, rel: string, maxFileBytes: number): Promise<string> {
  const resolved = await resolveWorkspacePath(root, rel, "read");
  const handle = await open(resolved.abs, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) refuse(resolved.rel, "not a regular file");
    if (stat.size > maxFileBytes) {
      refuse(
        resolved.rel,
        `file is ${stat.size} bytes, more than the ${maxFileBytes}-byte limit (ROLLOUT_MEDIC_MAX_FILE_BYTES): too large to edit safely`,
      );
    }
    // Read at most one byte past the cap: a file that grows after stat cannot slip through.
    const buffer = Buffer.alloc(Math.min(stat.size, maxFileBytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxFileBytes)
      refuse(resolved.rel, `file grew past the ${maxFileBytes}-byte limit while being read`);
    const bytes = buffer.subarray(0, bytesRead);
    if (bytes.includes(0)) refuse(resolved.rel, "binary file (contains NUL bytes)");
    return bytes.toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Writes a workspace file through the guard; `O_NOFOLLOW` closes the gap between the check and the open. */
export async function writeWorkspaceFile(root: string, rel: string, text: string): Promise<string> {
  const resolved = await resolveWorkspacePath(root, rel, "write");
  await mkdir(path.dirname(resolved.abs), { recursive: true });
  // mkdir may have created folders: check again that nothing on the way became a link.
  await resolveWorkspacePath(root, resolved.rel, "write");
  const handle = await open(
    resolved.abs,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await handle.writeFile(text, "utf8");
  } finally {
    await handle.close();
  }
  return resolved.rel;
}
