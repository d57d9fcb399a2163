import { describe, expect, it } from "vitest";
import { summarizeDiff } from "../../agent/render/diff-summary.js";
import { OOM_DIFF } from "./render-inputs.js";

describe("agent/render/diff-summary", () => {
  it("counts added and removed lines per file", () => {
    expect(summarizeDiff(OOM_DIFF)).toEqual([{ file: "deploy/rollout.yaml", added: 2, removed: 2 }]);
  });

  it("does not mistake a removed '-- ' line for a file header", () => {
    const diff = [
      "diff --git a/sql/init.sql b/sql/init.sql",
      "--- a/sql/init.sql",
      "+++ b/sql/init.sql",
      "@@ -1,2 +1,1 @@",
      "--- a comment in SQL",
      " SELECT 1;",
      "diff --git a/new.txt b/new.txt",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/new.txt",
      "@@ -0,0 +1 @@",
      "+hello",
      "\\ No newline at end of file",
    ].join("\n");

    expect(summarizeDiff(diff)).toEqual([
      { file: "sql/init.sql", added: 0, removed: 1 },
      { file: "new.txt", added: 1, removed: 0 },
    ]);
  });

  it("returns nothing for an empty diff", () => {
    expect(summarizeDiff("")).toEqual([]);
  });
});
