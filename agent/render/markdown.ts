/**
 * Markdown building blocks for bodies that mix our own prose with text from the cluster.
 * Every function here expects its dynamic input to have gone through `sanitizeUntrusted` first;
 * these only keep that text from changing the structure of the document.
 */

/** Backslash-escapes what would otherwise turn plain text into links, HTML, emphasis or table cells. */
export function escapeInline(text: string): string {
  return text
    .replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`)
    .replace(/\r?\n|\r/g, " ")
    .trim();
}

/** Inline code that survives backticks in its content (CommonMark: a longer delimiter run). */
export function inlineCode(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, " ").replace(/\|/g, "\\|");
  if (flat === "") return "` `";
  const fence = "`".repeat(longestRun(flat, "`") + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside, so logs cannot close it early. */
export function codeBlock(content: string, language = ""): string {
  const fence = "`".repeat(Math.max(3, longestRun(content, "`") + 1));
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return `${fence}${language}\n${body}${fence}`;
}

/** For text inside our own HTML (`<summary>`), where Markdown is not rendered. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\r?\n|\r/g, " ");
}

/** GitHub renders Markdown inside `<details>` only after a blank line, hence the spacing. */
export function detailsBlock(summary: string, content: string): string {
  return `<details>\n<summary>${summary}</summary>\n\n${content.trim()}\n\n</details>`;
}

/** Cells must already be escaped (`escapeInline`) or be trusted Markdown without newlines. */
export function markdownTable(headers: string[], rows: string[][], align?: ("left" | "right")[]): string {
  const separator = headers.map((_, i) => (align?.[i] === "right" ? "---:" : "---"));
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(headers),
    line(separator),
    ...rows.map((row) => line(headers.map((_, i) => row[i] ?? ""))),
  ].join("\n");
}

export function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
}

/** Shortens to `max` characters, keeping the start and marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** Keeps the last `maxChars` of a log on whole lines: the end of a crashing log tells the story. */
export function tailLines(text: string, maxChars: number): { text: string; omittedLines: number } {
  if (text.length <= maxChars) return { text, omittedLines: 0 };
  const lines = text.split("\n");
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (size + line.length + 1 > maxChars && kept.length > 0) break;
    kept.unshift(line.length > maxChars ? truncate(line, maxChars) : line);
    size += line.length + 1;
  }
  return { text: kept.join("\n"), omittedLines: lines.length - kept.length };
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
