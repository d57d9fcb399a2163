import { describe, expect, it } from "vitest";
import {
  codeBlock,
  escapeInline,
  inlineCode,
  markdownTable,
  tailLines,
} from "../../agent/render/markdown.js";

describe("agent/render/markdown", () => {
  it.each([
    ["no backticks", "plain log", "```"],
    ["a triple fence", "before\n```\nafter", "````"],
    ["a long run", "x ````````` y", "``````````"],
  ])("fences content with %s longer than any backtick run inside", (_label, content, fence) => {
    const block = codeBlock(content, "text");

    expect(block.startsWith(`${fence}text\n`)).toBe(true);
    expect(block.endsWith(`\n${fence}`)).toBe(true);
  });

  it("makes inline code that survives backticks and pipes in a table", () => {
    expect(inlineCode("a`b")).toBe("``a`b``");
    expect(inlineCode("`x`")).toBe("`` `x` ``");
    expect(inlineCode("a|b")).toBe("`a\\|b`");
  });

  it("escapes what would turn text into links, HTML, emphasis or new cells", () => {
    expect(escapeInline("[x](http://e) <b>*y*</b> a|b\nnext")).toBe(
      "\\[x\\](http://e) \\<b\\>\\*y\\*\\</b\\> a\\|b next",
    );
  });

  it("renders a table with right-aligned columns", () => {
    expect(markdownTable(["File", "+"], [["a", "1"]], ["left", "right"])).toBe(
      "| File | + |\n| --- | ---: |\n| a | 1 |",
    );
  });

  it("keeps the last lines of a long log", () => {
    const { text, omittedLines } = tailLines("one\ntwo\nthree\nfour", 11);

    expect(text).toBe("three\nfour");
    expect(omittedLines).toBe(2);
  });
});
