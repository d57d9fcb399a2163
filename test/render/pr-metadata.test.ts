import { describe, expect, it } from "vitest";
import {
  METADATA_MARKER,
  hashBody,
  parseMetadataComment,
  renderMetadataComment,
} from "../../agent/render/pr-metadata.js";
import type { PrMetadata } from "../../agent/render/pr-metadata.js";

const META: PrMetadata = {
  schema: 1,
  key: "rollout-medic/shop/checkout-6c9f8d7b5d",
  rolloutUid: "582ef589-9a1a-4cb6-bd91-fc455b96d086",
  namespace: "shop",
  name: "checkout",
  revision: "7",
  canaryPodHash: "6c9f8d7b5d",
  category: "oom-killed",
  fixer: "raise-memory-limit",
  fixerVersion: "0.1.0",
  promptVersion: "2025-05-01",
  attempt: 2,
  bodyHash: "a".repeat(64),
};

function commentWith(payload: unknown): string {
  return `<!-- ${METADATA_MARKER} ${Buffer.from(JSON.stringify(payload)).toString("base64url")} -->`;
}

describe("agent/render/pr-metadata", () => {
  it("round-trips through a hidden comment", () => {
    const body = `## Title\n\nSome text.\n\n${renderMetadataComment(META)}\n`;

    expect(parseMetadataComment(body)).toEqual(META);
  });

  it("round-trips without the optional fields", () => {
    const {
      promptVersion: _p,
      attempt: _a,
      rolloutUid: _u,
      revision: _r,
      canaryPodHash: _c,
      ...minimal
    } = META;

    expect(parseMetadataComment(renderMetadataComment(minimal))).toEqual(minimal);
  });

  it("renders an HTML comment GitHub hides, with nothing that could end it early", () => {
    const comment = renderMetadataComment(META);

    expect(comment).toMatch(/^<!-- rollout-medic:metadata [A-Za-z0-9_-]+ -->$/);
  });

  it("renders the same comment whatever the key order of its input", () => {
    const reversed = Object.fromEntries(Object.entries(META).reverse()) as PrMetadata;

    expect(renderMetadataComment(reversed)).toBe(renderMetadataComment(META));
  });

  it("takes the last comment when a body holds several", () => {
    const older = { ...META, attempt: 1 };
    const body = `${renderMetadataComment(older)}\ntext\n${renderMetadataComment(META)}`;

    expect(parseMetadataComment(body)?.attempt).toBe(2);
  });

  it.each([
    ["no comment", "just a body"],
    ["not a string", 42],
    ["undefined", undefined],
    ["empty payload", `<!-- ${METADATA_MARKER}  -->`],
    ["invalid base64", `<!-- ${METADATA_MARKER} not*base64! -->`],
    ["base64 of garbage", `<!-- ${METADATA_MARKER} ${Buffer.from("{{{not json").toString("base64url")} -->`],
    ["JSON of the wrong shape", commentWith({ hello: "world" })],
    ["a JSON array", commentWith([1, 2, 3])],
    ["JSON null", commentWith(null)],
    ["an unknown category", commentWith({ ...META, category: "gremlins" })],
    ["an unknown schema version", commentWith({ ...META, schema: 2 })],
    ["a malformed body hash", commentWith({ ...META, bodyHash: "xyz" })],
    ["a negative attempt", commentWith({ ...META, attempt: -1 })],
    [
      "an unterminated comment",
      `<!-- ${METADATA_MARKER} ${Buffer.from(JSON.stringify(META)).toString("base64url")}`,
    ],
    ["a huge payload", `<!-- ${METADATA_MARKER} ${"A".repeat(1_000_000)} -->`],
    ["a huge body", `${"x".repeat(2_000_000)}<!-- ${METADATA_MARKER}`],
    ["a __proto__ payload", commentWith(JSON.parse('{"__proto__":{"polluted":true}}'))],
  ])("returns null for %s", (_label, body) => {
    expect(parseMetadataComment(body)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("ignores unknown fields so a newer writer does not break an older reader", () => {
    expect(parseMetadataComment(commentWith({ ...META, extra: "field" }))).toEqual(META);
  });

  describe("hashBody", () => {
    it("is a SHA-256 hex digest", () => {
      expect(hashBody("text")).toMatch(/^[0-9a-f]{64}$/);
    });

    it("ignores whitespace differences and the metadata comment", () => {
      const body = "## Title\n\nSome   text.\n";

      expect(hashBody(`${body}\n\n${renderMetadataComment(META)}\n`)).toBe(hashBody(body));
      expect(hashBody("## Title\r\n\r\nSome text.")).toBe(hashBody(body));
    });

    it("changes when the visible text changes", () => {
      expect(hashBody("raise to 384Mi")).not.toBe(hashBody("raise to 512Mi"));
    });
  });
});
