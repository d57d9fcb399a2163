import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepositoryReadTools, createRepositoryWriteTools } from "../../tools/index.js";
import { loadAgentFixture, toolContextOf } from "../agent/agent-fixture.js";
import type { AgentFixture } from "../agent/agent-fixture.js";
import { callTool } from "./call-tool.js";

const HANDLER = "internal/handler/handler.go";
const NIL_LOOKUP = "\tpromo := h.Promos[strings.ToUpper(strings.TrimSpace(code))]\n";

let fixture: AgentFixture;
let tools: ReturnType<typeof createRepositoryReadTools>;

beforeEach(async () => {
  fixture = await loadAgentFixture("go-panic");
  const context = toolContextOf(fixture);
  tools = [...createRepositoryReadTools(context), ...createRepositoryWriteTools(context)];
});
afterEach(async () => fixture.dispose());

describe("list_files", () => {
  it("lists the repository filtered by globs", async () => {
    const go = await callTool(tools, "list_files", { globs: ["**/*.go"] });

    expect(go.text).toContain("3 file(s)");
    expect(go.text).toContain(HANDLER);
    expect(go.text).not.toContain("go.mod");
  });
});

describe("read_file", () => {
  it("shows a line range with line numbers, fenced as repository data", async () => {
    const answer = await callTool(tools, "read_file", { path: HANDLER, startLine: 40, endLine: 42 });

    expect(answer.text).toContain(`${HANDLER}: lines 40-42 of`);
    expect(answer.text).toContain("42| \treturn total - total*promo.PercentOff/100");
    expect(answer.text).toContain(`<untrusted-data source="file ${HANDLER}">`);
  });

  it("refuses paths that leave the repository", async () => {
    const dotdot = await callTool(tools, "read_file", { path: "../../../../etc/passwd" });
    const absolute = await callTool(tools, "read_file", { path: "/etc/passwd" });

    expect(dotdot.ok).toBe(false);
    expect(dotdot.text).toContain("`..` segments are not allowed");
    expect(dotdot.refusal).toBeDefined();
    expect(absolute.ok).toBe(false);
    expect(absolute.text).toContain("paths are not allowed: pass a path relative to the repository root");
  });

  it("refuses a symbolic link that points outside the repository", async () => {
    await symlink("/etc/hostname", path.join(fixture.workspace.root, "internal", "leak.txt"));

    const answer = await callTool(tools, "read_file", { path: "internal/leak.txt" });

    expect(answer.ok).toBe(false);
    expect(answer.text).toContain("outside the repository");
  });
});

describe("search_code", () => {
  it("marks every matching line and shows context", async () => {
    const answer = await callTool(tools, "search_code", {
      pattern: "applyPromo",
      globs: ["**/*.go"],
      context: 1,
    });

    expect(answer.text).toMatch(/internal\/handler\/handler\.go:39: func \(h \*Handler\) applyPromo/);
    expect(answer.text).toMatch(/internal\/handler\/handler\.go:40- /);
  });

  it("says so when nothing matches", async () => {
    const answer = await callTool(tools, "search_code", { pattern: "doesNotExistAnywhere" });

    expect(answer.ok).toBe(true);
    expect(answer.text).toMatch(/^No match/);
  });
});

describe("edit_file", () => {
  it("replaces one exact match and answers with the resulting hunk", async () => {
    const answer = await callTool(tools, "edit_file", {
      path: HANDLER,
      search: NIL_LOOKUP,
      replace:
        "\tpromo, ok := h.Promos[strings.ToUpper(strings.TrimSpace(code))]\n\tif !ok {\n\t\treturn total\n\t}\n",
    });

    expect(answer.ok).toBe(true);
    expect(answer.text).toContain("@@ -38,");
    expect(answer.text).toContain("+\tif !ok {");
    expect(await fixture.workspace.diff()).toContain("+\tif !ok {");
  });

  it("refuses a search text that is missing, and says why", async () => {
    const numbered = await callTool(tools, "edit_file", {
      path: HANDLER,
      search: "40| \tpromo := h.Promos",
      replace: "x",
    });
    const spaced = await callTool(tools, "edit_file", {
      path: HANDLER,
      search: "promo :=   h.Promos[strings.ToUpper(strings.TrimSpace(code))]",
      replace: "x",
    });

    expect(numbered.text).toContain("leave out the `  42| ` line-number prefixes");
    expect(spaced.text).toContain("different whitespace");
    expect(await fixture.workspace.diff()).toBe("");
  });

  it("refuses an ambiguous search text", async () => {
    const answer = await callTool(tools, "edit_file", {
      path: HANDLER,
      search: "http.Error(w",
      replace: "x(w",
    });

    expect(answer.ok).toBe(false);
    expect(answer.text).toMatch(/occurs \d+ times/);
  });

  it("refuses writes to CI workflows, whatever the allowPaths", async () => {
    await mkdir(path.join(fixture.workspace.root, ".github", "workflows"), { recursive: true });
    await writeFile(path.join(fixture.workspace.root, ".github", "workflows", "ci.yml"), "on: push\n");

    const answer = await callTool(tools, "edit_file", {
      path: ".github/workflows/ci.yml",
      search: "on: push",
      replace: "on: pull_request",
    });

    expect(answer.ok).toBe(false);
    expect(answer.refusal).toContain("GitHub workflows");
  });

  it("refuses to write through a symbolic link", async () => {
    await symlink("handler.go", path.join(fixture.workspace.root, "internal", "handler", "alias.go"));

    const answer = await callTool(tools, "edit_file", {
      path: "internal/handler/alias.go",
      search: NIL_LOOKUP,
      replace: "\t// gone\n",
    });

    expect(answer.ok).toBe(false);
    expect(answer.text).toContain("symbolic link");
    expect(await fixture.workspace.changedFiles()).not.toContain(HANDLER);
  });
});

describe("create_file", () => {
  it("creates a new file inside the allowed paths", async () => {
    const answer = await callTool(tools, "create_file", {
      path: "internal/handler/promo_test.go",
      content: "package handler\n",
    });

    expect(answer.text).toBe("Created internal/handler/promo_test.go (1 line).");
    expect(await fixture.workspace.changedFiles()).toEqual(["internal/handler/promo_test.go"]);
  });

  it("refuses to overwrite, to leave allowPaths and to exceed the diff cap", async () => {
    const existing = await callTool(tools, "create_file", { path: HANDLER, content: "" });
    const outside = await callTool(tools, "create_file", { path: "docs/notes.md", content: "hi\n" });
    const huge = await callTool(tools, "create_file", {
      path: "internal/big.go",
      content: "x\n".repeat(1000),
    });

    expect(existing.text).toContain("already exists");
    expect(outside.refusal).toContain("outside allowPaths");
    expect(huge.refusal).toContain("more than the cap of 400");
    expect(await fixture.workspace.changedFiles()).toEqual([]);
  });

  it("restores the file when an edit pushes the diff past the cap", async () => {
    const before = await readFile(path.join(fixture.workspace.root, HANDLER), "utf8");

    const answer = await callTool(tools, "edit_file", {
      path: HANDLER,
      search: NIL_LOOKUP,
      replace: "\t// x\n".repeat(500),
    });

    expect(answer.refusal).toContain("would change 501 lines");
    expect(await readFile(path.join(fixture.workspace.root, HANDLER), "utf8")).toBe(before);
  });
});

describe("show_diff", () => {
  it("shows the change so far, or that there is none", async () => {
    const empty = await callTool(tools, "show_diff", {});
    await callTool(tools, "edit_file", {
      path: HANDLER,
      search: NIL_LOOKUP,
      replace: "\tpromo := h.Promos[code]\n",
    });
    const changed = await callTool(tools, "show_diff", {});

    expect(empty.text).toBe("No changes yet.");
    expect(changed.text).toContain("1 file(s) changed, 2 changed line(s) of at most 400");
    expect(changed.text).toContain("+\tpromo := h.Promos[code]");
  });
});
