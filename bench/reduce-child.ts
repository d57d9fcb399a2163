import { readLogLines, reduceLogs } from "../agent/logs/reduce-logs.js";

/** Runs in its own process so that its peak memory is its own: reduces one file and prints the excerpt as JSON. */
const file = process.argv[2];
if (!file) throw new Error("usage: reduce-child <log file>");
const started = process.hrtime.bigint();
// The path, not a decoded stream: the reader splits bytes and decodes only what it needs.
const excerpt = await reduceLogs(readLogLines(file), { tokenBudget: 4000 });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(
  JSON.stringify({ seconds, text: excerpt.text, tokens: excerpt.tokens, totalLines: excerpt.totalLines }),
);
