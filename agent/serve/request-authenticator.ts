import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ServeSettings } from "../config.js";

export const SIGNATURE_HEADER = "x-signature-256";

export type HeaderVerdict =
  /** A valid bearer token or basic credentials. */
  | "authenticated"
  /** No credentials, but a signature to check once the body is read. */
  | "signature-pending"
  | "unauthorized";

const sha256 = (value: string | Buffer): Buffer => createHash("sha256").update(value).digest();

/**
 * Compares digests rather than the values so that neither the content nor the length of a secret shows in
 * the time an answer takes. Every candidate is compared, without an early exit.
 */
function matchesAny(candidate: string, expected: readonly Buffer[]): boolean {
  const digest = sha256(candidate);
  let match = false;
  for (const secret of expected) match = timingSafeEqual(digest, secret) || match;
  return match;
}

export class RequestAuthenticator {
  private readonly tokens: Buffer[];
  private readonly basic: Buffer[];
  private readonly hmacSecret: string | undefined;

  constructor(auth: ServeSettings["auth"]) {
    this.tokens = auth.tokens.map((token) => sha256(token));
    this.basic = auth.basic ? [sha256(`${auth.basic.username}:${auth.basic.password}`)] : [];
    this.hmacSecret = auth.hmacSecret;
  }

  /** Whether any credential is configured: the receiver refuses to start without one. */
  get configured(): boolean {
    return this.tokens.length > 0 || this.basic.length > 0 || this.hmacSecret !== undefined;
  }

  checkHeaders(authorization: string | undefined, signature: string | undefined): HeaderVerdict {
    if (authorization !== undefined && authorization.trim() !== "") {
      const match = /^(\S+)\s+(\S.*)$/.exec(authorization.trim());
      const scheme = match?.[1]?.toLowerCase();
      const credential = match?.[2] ?? "";
      if (scheme === "bearer" && matchesAny(credential, this.tokens)) return "authenticated";
      if (scheme === "basic" && matchesAny(Buffer.from(credential, "base64").toString("utf8"), this.basic)) {
        return "authenticated";
      }
      // Wrong credentials are refused even with a signature: a sender that signs need not send them.
      return "unauthorized";
    }
    if (signature !== undefined && this.hmacSecret !== undefined) return "signature-pending";
    return "unauthorized";
  }

  /** A signature that is present must be valid, whatever else authenticated the request. */
  signatureValid(signature: string, rawBody: Buffer): boolean {
    if (this.hmacSecret === undefined) return false;
    const expected = `sha256=${createHmac("sha256", this.hmacSecret).update(rawBody).digest("hex")}`;
    return timingSafeEqual(sha256(signature.trim().toLowerCase()), sha256(expected));
  }

  get verifiesSignatures(): boolean {
    return this.hmacSecret !== undefined;
  }
}
