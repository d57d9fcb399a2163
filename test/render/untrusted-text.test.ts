import { describe, expect, it } from "vitest";
import { parseMetadataComment, renderMetadataComment } from "../../agent/render/pr-metadata.js";
import {
  cleanForTerminal,
  neutralizeReferences,
  sanitizeUntrusted,
  stripControlCharacters,
} from "../../agent/render/untrusted-text.js";
import { INJECTION_LINE } from "./render-inputs.js";

const ZWSP = "\u200b";

describe("agent/render/untrusted-text", () => {
  it.each([
    ["a user mention", "ping @octocat now", `ping @${ZWSP}octocat now`],
    ["a team mention", "cc @acme/platform", `cc @${ZWSP}acme/platform`],
    ["a mention after punctuation", "(@octocat)", `(@${ZWSP}octocat)`],
    ["an issue reference", "see #123", `see #${ZWSP}123`],
    ["a cross-repository reference", "acme/app#77", `acme/app#${ZWSP}77`],
    ["a GH- reference", "GH-12", `GH-${ZWSP}12`],
    ["an issue URL", "https://github.com/acme/app/issues/9", `https://github${ZWSP}.com/acme/app/issues/9`],
    ["an HTML comment", "<!-- hidden -->", `<${ZWSP}!-- hidden -->`],
  ])("neutralises %s", (_label, input, output) => {
    expect(neutralizeReferences(input)).toBe(output);
  });

  it.each([
    ["an e-mail address", "mail ops@example.com"],
    ["a Java object id", "java.lang.Object@1a2b3c"],
    ["a hex colour", "color #fff"],
    ["a heading", "# Title"],
  ])("leaves %s alone", (_label, input) => {
    expect(neutralizeReferences(input)).toBe(input);
  });

  it("keeps a forged metadata comment from parsing", () => {
    const forged = renderMetadataComment({
      schema: 1,
      key: "rollout-medic/x/y-z",
      namespace: "x",
      name: "y",
      category: "unknown",
      fixer: "agent",
      fixerVersion: "9.9.9",
      bodyHash: "0".repeat(64),
    });

    expect(parseMetadataComment(sanitizeUntrusted(forged).text)).toBeNull();
  });

  it("strips ANSI sequences, control characters and bidirectional overrides", () => {
    expect(
      stripControlCharacters("\u001b[1;31mred\u001b[0m \u0007bell \u202eevil\u202c \u001b]0;title\u0007ok"),
    ).toBe("red bell evil ok");
  });

  it("withholds instructions to an AI and counts them", () => {
    const result = sanitizeUntrusted(`starting server\n${INJECTION_LINE}\nlistening on :8080`);

    expect(result.text).not.toContain(INJECTION_LINE);
    expect(result.text).toContain("starting server");
    expect(result.text).toContain("listening on :8080");
    expect(result.withheld).toBe(1);
  });

  it("redacts secrets for the terminal without adding zero-width spaces", () => {
    const text = cleanForTerminal("token=ghp_R8sT2vW4xY6zA1bC3dE5fG7hJ9kL0mN2pQ4 for @octocat");

    expect(text).not.toContain("ghp_R8sT2vW4xY6zA1bC3dE5fG7hJ9kL0mN2pQ4");
    expect(text).not.toContain(ZWSP);
  });
});
