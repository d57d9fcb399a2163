export interface DiffFileSummary {
  file: string;
  added: number;
  removed: number;
}

/**
 * Per-file line counts of a unified diff, for the table a reviewer reads before the diff itself.
 * Hunk headers are followed by their line counts, so a removed line that itself starts with
 * `-- ` is never mistaken for the next file's header.
 */
export function summarizeDiff(diff: string): DiffFileSummary[] {
  const files: DiffFileSummary[] = [];
  let current: DiffFileSummary | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.split("\n")) {
    if (oldLeft > 0 || newLeft > 0) {
      if (!current) break;
      if (line.startsWith("+")) {
        current.added++;
        newLeft--;
      } else if (line.startsWith("-")) {
        current.removed++;
        oldLeft--;
      } else if (line.startsWith("\\")) {
        // "\ No newline at end of file" belongs to no side.
      } else {
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    const header = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (header) {
      current = { file: header[2] ?? "", added: 0, removed: 0 };
      files.push(current);
      continue;
    }
    if (line.startsWith("--- ")) {
      if (!current || current.added + current.removed > 0) {
        current = { file: "", added: 0, removed: 0 };
        files.push(current);
      }
      const source = line.slice(4).replace(/^a\//, "").replace(/\t.*$/, "");
      if (source !== "/dev/null" && current.file === "") current.file = source;
      continue;
    }
    if (line.startsWith("+++ ") && current) {
      const target = line.slice(4).replace(/^b\//, "").replace(/\t.*$/, "");
      if (target !== "/dev/null") current.file = target;
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      oldLeft = hunk[1] === undefined ? 1 : Number.parseInt(hunk[1], 10);
      newLeft = hunk[2] === undefined ? 1 : Number.parseInt(hunk[2], 10);
    }
  }
  return files;
}
