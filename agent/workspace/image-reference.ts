export interface ImageReference {
  /** Registry and repository: `ghcr.io/acme/checkout`. */
  name: string;
  tag?: string;
  digest?: string;
}

/** Splits `registry:port/repo:tag@sha256:…`; a colon before the last slash belongs to the registry port. */
export function parseImageReference(image: string): ImageReference {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** Docker Hub's implicit prefixes make `nginx`, `docker.io/nginx` and `docker.io/library/nginx` one image. */
export function canonicalImageName(name: string): string {
  let n = name.replace(/^index\.docker\.io\//, "docker.io/");
  if (!n.includes("/") || !/[.:]|^localhost$/.test(n.split("/")[0] ?? "")) n = `docker.io/${n}`;
  if (/^docker\.io\/[^/]+$/.test(n)) n = n.replace(/^docker\.io\//, "docker.io/library/");
  return n;
}

export function sameImageName(a: string, b: string): boolean {
  return canonicalImageName(a) === canonicalImageName(b);
}
