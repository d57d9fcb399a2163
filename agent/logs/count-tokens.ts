import { Tiktoken } from "js-tiktoken/lite";
import cl100kBase from "js-tiktoken/ranks/cl100k_base";

/**
 * Exact token counts with the cl100k_base rank file bundled in js-tiktoken (nothing is
 * downloaded). cl100k_base rather than o200k_base because its table is half the size;
 * on log text the two counts agree within about one percent.
 *
 * Constructing a full `Tiktoken` parses all 100k ranks into several maps, which costs more
 * time and memory than reducing 100 MB of logs. Byte-pair encoding a text only ever looks
 * up byte sequences inside that text's pre-tokenized pieces, so each count constructs a
 * `Tiktoken` from just those ranks: the count is the same, the cost follows the text.
 */

interface RankTable {
  /** base64 of a token's bytes → rank, as written in the rank file. */
  ranks: Map<string, number>;
  maxTokenBytes: number;
}

let table: RankTable | undefined;
const PIECES = new RegExp(cl100kBase.pat_str, "gu");

function rankTable(): RankTable {
  if (table !== undefined) return table;
  const ranks = new Map<string, number>();
  let maxTokenBytes = 1;
  // Each line is `<first token> <rank of first> <token> <token> …` with consecutive ranks.
  for (const line of cl100kBase.bpe_ranks.split("\n")) {
    const fields = line.split(" ");
    const offset = Number.parseInt(fields[1] ?? "", 10);
    if (!Number.isFinite(offset)) continue;
    for (let i = 2; i < fields.length; i++) {
      const token = fields[i] ?? "";
      ranks.set(token, offset + i - 2);
      maxTokenBytes = Math.max(maxTokenBytes, (token.length / 4) * 3);
    }
  }
  table = { ranks, maxTokenBytes };
  return table;
}

/** A `Tiktoken` holding the ranks of every byte sequence the parts' pieces can merge into. */
function encoderFor(parts: readonly string[]): Tiktoken {
  const { ranks, maxTokenBytes } = rankTable();
  const needed = new Map<string, number>();
  const seen = new Set<string>();
  for (const part of parts) {
    for (const match of part.matchAll(PIECES)) {
      const piece = match[0];
      if (seen.has(piece)) continue;
      seen.add(piece);
      const bytes = Buffer.from(piece, "utf8");
      const whole = bytes.toString("base64");
      const rank = ranks.get(whole);
      if (rank !== undefined) {
        // A piece that is itself a token is looked up whole, never merged.
        needed.set(whole, rank);
        continue;
      }
      for (let i = 0; i < bytes.length; i++) {
        const last = Math.min(bytes.length, i + maxTokenBytes);
        for (let j = i + 1; j <= last; j++) {
          const key = bytes.toString("base64", i, j);
          if (needed.has(key)) continue;
          const r = ranks.get(key);
          if (r !== undefined) needed.set(key, r);
        }
      }
    }
  }
  const lines: string[] = [];
  for (const [token, rank] of needed) lines.push(`! ${rank} ${token}`);
  return new Tiktoken({
    pat_str: cl100kBase.pat_str,
    special_tokens: cl100kBase.special_tokens,
    bpe_ranks: lines.join("\n"),
  });
}

// js-tiktoken's byte-pair merge is worse than quadratic in the length of one pre-token
// (2000 `x` or `=` take seconds), so long runs of letters, of punctuation or of spaces,
// which the encoding would keep as one pre-token, are counted in short slices.
const LONG_RUN_SOURCE = String.raw`\p{L}{65,}|[^\s\p{L}\p{N}]{65,}|\s{65,}`;
const HAS_LONG_RUN = new RegExp(LONG_RUN_SOURCE, "u");
const LONG_RUNS = new RegExp(LONG_RUN_SOURCE, "gu");
const SLICE = 32;

function splitLongRuns(text: string): string[] {
  if (text.length <= 64 || !HAS_LONG_RUN.test(text)) return [text];
  const parts: string[] = [];
  let last = 0;
  for (const run of text.matchAll(LONG_RUNS)) {
    parts.push(text.slice(last, run.index));
    for (let i = 0; i < run[0].length; i += SLICE) parts.push(run[0].slice(i, i + SLICE));
    last = run.index + run[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p.length > 0);
}

/**
 * Token count with the bundled cl100k_base encoding. Exact, except that a run of more than
 * 64 letters, punctuation marks or spaces is counted in 32-character slices. Special-token
 * markers such as `<|endoftext|>` in untrusted text count as plain text.
 */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  // Byte-pair encoding works piece by piece, so a count is the sum of its pieces' counts: pieces seen
  // before (a log excerpt is counted several times while it is fitted to its budget) cost a lookup.
  const pieces: string[] = [];
  for (const part of splitLongRuns(text)) for (const match of part.matchAll(PIECES)) pieces.push(match[0]);
  const unknown = [...new Set(pieces.filter((piece) => !pieceTokens.has(piece)))];
  if (unknown.length > 0) {
    const encoder = encoderFor(unknown);
    if (pieceTokens.size + unknown.length > MAX_CACHED_PIECES) pieceTokens.clear();
    for (const piece of unknown) pieceTokens.set(piece, encoder.encode(piece, [], []).length);
  }
  let total = 0;
  for (const piece of pieces)
    total += pieceTokens.get(piece) ?? encoderFor([piece]).encode(piece, [], []).length;
  return total;
}

/** Pieces are words, numbers and punctuation runs: a bounded cache of them covers most of what recurs. */
const MAX_CACHED_PIECES = 200_000;
const pieceTokens = new Map<string, number>();

/**
 * Cheap estimate for hot paths. Machine logs (ids, numbers, punctuation) run about 2.4
 * characters per token, prose nearer 4, so this leans high for prose.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return Math.ceil(text.length / 2.4) + 1;
}
