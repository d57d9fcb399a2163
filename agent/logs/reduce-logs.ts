import { createReadStream } from "node:fs";
import { redactLine } from "../redaction/redact-secrets.js";
import { countTokens, estimateTokens } from "./count-tokens.js";
import { LINE_ERROR, LINE_PEM_MARKER, LINE_WARN, createLineScan, scanLine } from "./normalize-log-line.js";
import type { LineScan } from "./normalize-log-line.js";

/**
 * Streaming reduction of container logs to a bounded excerpt: repeated lines collapse
 * into one with a count, errors keep their stack traces, lines unseen in the stable
 * version's logs win over common ones, and everything kept is redacted.
 *
 * Lines are templated on raw UTF-8 bytes and only decoded when kept (first and last
 * occurrence of a template, error blocks, the tail), so memory is bounded by the caps
 * below rather than by the size of the input.
 */

/** Templates (as `templateKey` hashes) seen in the stable version's logs. */
export interface LogBaseline {
  readonly templateKeys: ReadonlySet<number>;
  readonly totalLines: number;
  /** True when the stable logs had more templates than the cap and some were not recorded. */
  readonly capped: boolean;
}

/** Structural counters that show the reducer stayed within its bounds. */
export interface LogReductionStats {
  templateCap: number;
  /** Templates held at the end; never above `templateCap`. */
  templatesTracked: number;
  /** Non-error templates dropped to make room for error templates. */
  templatesEvicted: number;
  /** Lines whose template could not be tracked because the caps were reached. */
  untrackedLines: number;
  errorTemplateCap: number;
  errorTemplates: number;
  /** Stack-trace lines held in memory across all error blocks. */
  blockLinesStored: number;
  blockCharsCap: number;
  blockChars: number;
  /** Lines longer than `maxLineLength` bytes, cut to `maxLineLength` characters when kept. */
  cutLines: number;
  /** Lines inside PEM private key blocks, never kept. */
  privateKeyLines: number;
  bytes: number;
  /** Candidate lines left out to fit the token budget. */
  omittedForBudget: number;
}

export interface LogExcerpt {
  text: string;
  tokens: number;
  totalLines: number;
  keptLines: number;
  distinctTemplates: number;
  /** Error events: lines that read as errors and are not part of an earlier error's trace. */
  errorLines: number;
  truncated: boolean;
  stats: LogReductionStats;
}

export interface ReduceLogsOptions {
  tokenBudget: number;
  baseline?: LogBaseline;
  /** Lines are cut to this many characters (default 2000). */
  maxLineLength?: number;
  /** Distinct templates held in memory (default 20 000). */
  maxTemplates?: number;
  /** Distinct error templates held in memory (default 2 000). */
  maxErrorTemplates?: number;
  /** Stack-trace lines kept per error (default 40). */
  maxStackLines?: number;
  /** Last lines of the log always considered for the excerpt (default 20). */
  tailLines?: number;
}

export interface LogBaselineOptions {
  /** Distinct templates recorded (default 50 000). */
  maxTemplates?: number;
  maxLineLength?: number;
}

export type LogLines = AsyncIterable<string> | Iterable<string>;

// ---------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------

const RAW_CHUNKS = Symbol("rollout-medic.rawLogChunks");

interface RawLogLines extends AsyncIterable<string> {
  [RAW_CHUNKS](): AsyncIterable<Uint8Array>;
}

function hasRawChunks(lines: LogLines): lines is RawLogLines {
  return typeof (lines as Partial<RawLogLines>)[RAW_CHUNKS] === "function";
}

async function* byteChunks(source: NodeJS.ReadableStream | string): AsyncGenerator<Uint8Array> {
  const stream = typeof source === "string" ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Lines of a log file (path) or stream, without line terminators. `reduceLogs` and
 * `buildLogBaseline` read the underlying bytes directly when given this iterable.
 */
export function readLogLines(stream: NodeJS.ReadableStream | string): AsyncIterable<string> {
  const lines: RawLogLines = {
    [RAW_CHUNKS]: () => byteChunks(stream),
    async *[Symbol.asyncIterator]() {
      let carry: Buffer | undefined;
      for await (const raw of byteChunks(stream)) {
        let chunk = asBuffer(raw);
        if (carry !== undefined) {
          chunk = Buffer.concat([carry, chunk]);
          carry = undefined;
        }
        let pos = 0;
        for (let nl = chunk.indexOf(10, pos); nl !== -1; nl = chunk.indexOf(10, pos)) {
          const end = nl > pos && chunk[nl - 1] === 13 ? nl - 1 : nl;
          yield chunk.toString("utf8", pos, end);
          pos = nl + 1;
        }
        if (pos < chunk.length) carry = Buffer.from(chunk.subarray(pos));
      }
      if (carry !== undefined && carry.length > 0) {
        const end = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
        yield carry.toString("utf8", 0, end);
      }
    },
  };
  return lines;
}

// ---------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------

interface TemplateStat {
  key: number;
  count: number;
  error: boolean;
  warn: boolean;
  firstLine: number;
  firstText: string;
  firstTs: string;
  lastLine: number;
  lastText: string;
  lastTs: string;
  /** Where the last occurrence sits in the chunk being processed, decoded at chunk end. */
  lastStart: number;
  lastEnd: number;
  lastBytes: number;
  lastTsEnd: number;
  dirtyEpoch: number;
  block: string[] | undefined;
  blockLines: number[] | undefined;
  blockOmitted: number;
}

// Block kinds decide which lines continue a trace.
const BLOCK_GENERIC = 0;
const BLOCK_PYTHON = 1;
const BLOCK_GO = 2;
type BlockKind = typeof BLOCK_GENERIC | typeof BLOCK_PYTHON | typeof BLOCK_GO;

interface OpenBlock {
  kind: BlockKind;
  headKey: number;
  headLine: number;
  headText: string;
  headTs: string;
  warn: boolean;
  capture: boolean;
  lines: string[];
  lineNos: number[];
  omitted: number;
  importantKept: number;
  chars: number;
  pendingBlanks: number;
  keyOverride: number | undefined;
}

interface AnalyzerOptions {
  maxTemplates: number;
  maxErrorTemplates: number;
  maxStackLines: number;
  maxLineLength: number;
  tailLines: number;
  keepText: boolean;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const CONTINUATION_PREFIXES = [
  "Caused by",
  "Suppressed:",
  "... ",
  "goroutine ",
  "[signal ",
  "created by ",
  "During handling of the above exception",
  "The above exception was the direct cause",
].map(ascii);
const IMPORTANT_PREFIXES = ["Caused by", "Suppressed:"].map(ascii);
const TRACEBACK = ascii("Traceback (most recent call last)");
const GO_PANIC_HEADS = ["panic:", "fatal error:", "goroutine "].map(ascii);
const AT_FRAME = ascii("at ");
const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const MAX_PEM_LINES = 500;
const IMPORTANT_EXTRA = 10;
const BLOCK_CHARS_CAP = 8_000_000;

function startsWith(buf: Uint8Array, at: number, end: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > end) return false;
  for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return false;
  return true;
}

const isWordByte = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46;

/** `ValueError: bad`, `KeyboardInterrupt`, `requests.exceptions.HTTPError: 500`. */
function isPythonExceptionLine(buf: Uint8Array, at: number, end: number): boolean {
  let k = at;
  while (k < end && isWordByte(buf[k] ?? 0)) k++;
  return k > at && (k === end || buf[k] === 58);
}

/** `main.main()`, `github.com/x/y.(*T).Serve(0xc000, {0x1, 0x2})`. */
function isGoFrameLine(buf: Uint8Array, at: number, end: number): boolean {
  if (buf[end - 1] !== 41) return false;
  for (let k = at; k < end; k++) {
    const c = buf[k] ?? 0;
    if (c === 40) return k > at;
    if (c === 32 || c === 9) return false;
  }
  return false;
}

const CONTINUES_NO = 0;
const CONTINUES_YES = 1;
/** The line ends the trace (a Python traceback's exception line). */
const CONTINUES_LAST = 2;
type Continuation = typeof CONTINUES_NO | typeof CONTINUES_YES | typeof CONTINUES_LAST;

function continuationOf(block: OpenBlock, buf: Uint8Array, at: number, end: number): Continuation {
  const c = buf[at] ?? 0;
  if (c === 32 || c === 9) return CONTINUES_YES;
  if (startsWith(buf, at, end, AT_FRAME) && at + 3 < end && isWordByte(buf[at + 3] ?? 0))
    return CONTINUES_YES;
  for (const prefix of CONTINUATION_PREFIXES) if (startsWith(buf, at, end, prefix)) return CONTINUES_YES;
  if (block.kind === BLOCK_PYTHON) {
    if (startsWith(buf, at, end, TRACEBACK)) return CONTINUES_YES;
    return isPythonExceptionLine(buf, at, end) ? CONTINUES_LAST : CONTINUES_NO;
  }
  if (block.kind === BLOCK_GO && isGoFrameLine(buf, at, end)) return CONTINUES_YES;
  return CONTINUES_NO;
}

function blockKindOf(buf: Uint8Array, at: number, end: number): BlockKind {
  if (startsWith(buf, at, end, TRACEBACK)) return BLOCK_PYTHON;
  for (const head of GO_PANIC_HEADS) if (startsWith(buf, at, end, head)) return BLOCK_GO;
  return BLOCK_GENERIC;
}

/** Cuts a long line at a token boundary so a secret is never split into an unrecognisable prefix. */
function cutLine(text: string, maxLength: number, originalBytes: number): string {
  let cut = text.slice(0, maxLength);
  const boundary = Math.max(
    cut.lastIndexOf(" "),
    cut.lastIndexOf(","),
    cut.lastIndexOf(";"),
    cut.lastIndexOf('"'),
  );
  if (boundary > maxLength - 256 && boundary > 0) cut = cut.slice(0, boundary);
  return `${cut} …[line cut: ${originalBytes} bytes]`;
}

class LogAnalyzer {
  readonly templates = new Map<number, TemplateStat>();
  totalLines = 0;
  errorEvents = 0;
  distinctTemplates = 0;
  evicted = 0;
  untracked = 0;
  errorTemplates = 0;
  blockLinesStored = 0;
  blockChars = 0;
  cutLines = 0;
  privateKeyLines = 0;
  bytes = 0;
  capped = false;

  private readonly scan: LineScan = createLineScan();
  private readonly maxLineBytes: number;
  private block: OpenBlock | undefined;
  private inPem = false;
  private pemLines = 0;
  private epoch = 0;
  private dirty: TemplateStat[] = [];
  private carry: Buffer | undefined;
  private carryBytes = 0;

  // Ring of the last lines, decoded at the end of each chunk.
  private readonly tailLine: Float64Array;
  private readonly tailStart: Int32Array;
  private readonly tailEnd: Int32Array;
  private readonly tailBytes: Float64Array;
  private readonly tailEpoch: Int32Array;
  private readonly tailKey: Float64Array;
  readonly tailText: (string | undefined)[];
  private tailPos = 0;

  constructor(private readonly opts: AnalyzerOptions) {
    // A character is at least one byte, so scanning this many bytes covers the kept text.
    this.maxLineBytes = opts.maxLineLength;
    const n = Math.max(0, opts.tailLines);
    this.tailLine = new Float64Array(n);
    this.tailStart = new Int32Array(n);
    this.tailEnd = new Int32Array(n);
    this.tailBytes = new Float64Array(n);
    this.tailEpoch = new Int32Array(n).fill(-1);
    this.tailKey = new Float64Array(n);
    this.tailText = new Array<string | undefined>(n).fill(undefined);
  }

  pushChunk(chunk: Buffer): void {
    this.bytes += chunk.length;
    let pos = 0;
    if (this.carry !== undefined) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        this.appendCarry(chunk, 0, chunk.length);
        return;
      }
      this.appendCarry(chunk, 0, nl);
      const carry = this.carry;
      const carryBytes = this.carryBytes;
      this.carry = undefined;
      this.carryBytes = 0;
      this.line(carry, 0, carry.length, carryBytes);
      this.endOfChunk(carry);
      pos = nl + 1;
    }
    for (let nl = chunk.indexOf(10, pos); nl !== -1; nl = chunk.indexOf(10, pos)) {
      this.line(chunk, pos, nl, nl - pos);
      pos = nl + 1;
    }
    if (pos < chunk.length) this.appendCarry(chunk, pos, chunk.length);
    this.endOfChunk(chunk);
  }

  finish(): void {
    if (this.carry !== undefined) {
      const carry = this.carry;
      this.carry = undefined;
      this.line(carry, 0, carry.length, this.carryBytes);
      this.endOfChunk(carry);
    }
    this.closeBlock();
  }

  // A line without a newline can be huge; only what can be kept is buffered.
  private appendCarry(chunk: Buffer, from: number, to: number): void {
    this.carryBytes += to - from;
    const room = this.maxLineBytes * 4 + 8 - (this.carry?.length ?? 0);
    if (room <= 0) return;
    const piece = chunk.subarray(from, Math.min(to, from + room));
    this.carry = this.carry === undefined ? Buffer.from(piece) : Buffer.concat([this.carry, piece]);
  }

  private decode(buf: Buffer, start: number, end: number, originalBytes: number): string {
    if (originalBytes <= this.opts.maxLineLength && end - start === originalBytes) {
      return buf.toString("utf8", start, end);
    }
    const text = buf.toString("utf8", start, Math.min(end, start + this.opts.maxLineLength * 4));
    if (text.length <= this.opts.maxLineLength && end - start === originalBytes) return text;
    return cutLine(text, this.opts.maxLineLength, originalBytes);
  }

  private line(buf: Buffer, start: number, rawEnd: number, originalBytes: number): void {
    const lineNo = ++this.totalLines;
    let end = rawEnd;
    if (end > start && buf[end - 1] === 13) {
      end--;
      originalBytes--;
    }
    if (originalBytes > this.opts.maxLineLength) this.cutLines++;
    const scanEnd = Math.min(end, start + this.maxLineBytes);
    const scan = this.scan;
    scanLine(buf, start, scanEnd, scan);

    if (this.opts.tailLines > 0) this.remember(lineNo, start, end, originalBytes);

    if (this.inPem) {
      this.privateKeyLines++;
      this.pemLines++;
      if (
        (scan.flags & LINE_PEM_MARKER) !== 0 &&
        PRIVATE_KEY_END.test(buf.toString("latin1", start, scanEnd))
      ) {
        this.inPem = false;
      } else {
        if (this.pemLines >= MAX_PEM_LINES) this.inPem = false;
        this.forgetTail(lineNo);
        return;
      }
    } else if ((scan.flags & LINE_PEM_MARKER) !== 0) {
      const text = buf.toString("latin1", start, scanEnd);
      const begin = PRIVATE_KEY_BEGIN.exec(text);
      if (begin !== null && !PRIVATE_KEY_END.test(text.slice(begin.index))) {
        this.inPem = true;
        this.pemLines = 0;
      }
    }

    const block = this.block;
    if (block !== undefined) {
      const at = scan.contentStart;
      if (at >= scanEnd) {
        block.pendingBlanks++;
        return;
      }
      const continuation = continuationOf(block, buf, at, scanEnd);
      if (continuation !== CONTINUES_NO) {
        this.addToBlock(block, buf, start, end, originalBytes, lineNo, at, scanEnd);
        if (continuation === CONTINUES_LAST) {
          block.keyOverride = scan.key;
          this.closeBlock();
        }
        return;
      }
      this.closeBlock();
    }

    if ((scan.flags & LINE_ERROR) !== 0) {
      this.openBlock(buf, start, end, scanEnd, originalBytes, lineNo);
      return;
    }
    this.track(buf, start, end, originalBytes, lineNo);
  }

  private remember(lineNo: number, start: number, end: number, originalBytes: number): void {
    const i = this.tailPos;
    this.tailLine[i] = lineNo;
    this.tailStart[i] = start;
    this.tailEnd[i] = end;
    this.tailBytes[i] = originalBytes;
    this.tailEpoch[i] = this.epoch;
    this.tailKey[i] = this.scan.key;
    this.tailText[i] = undefined;
    this.tailPos = (i + 1) % this.tailLine.length;
  }

  private forgetTail(lineNo: number): void {
    const n = this.tailLine.length;
    if (n === 0) return;
    const i = (this.tailPos - 1 + n) % n;
    if (this.tailLine[i] === lineNo) this.tailEpoch[i] = -2;
  }

  /** Tail lines in order, private key bodies excluded. */
  tail(): { line: number; key: number; text: string }[] {
    const out: { line: number; key: number; text: string }[] = [];
    const n = this.tailLine.length;
    for (let k = 0; k < n; k++) {
      const i = (this.tailPos + k) % n;
      const text = this.tailText[i];
      if (text !== undefined && this.tailEpoch[i] !== -2) {
        out.push({ line: this.tailLine[i] ?? 0, key: this.tailKey[i] ?? 0, text });
      }
    }
    return out;
  }

  private endOfChunk(buf: Buffer): void {
    if (this.opts.keepText) {
      for (const stat of this.dirty) {
        if (stat.lastLine === stat.firstLine) continue;
        stat.lastText = this.decode(buf, stat.lastStart, stat.lastEnd, stat.lastBytes);
        stat.lastTs = buf.toString("latin1", stat.lastStart, stat.lastTsEnd);
      }
      for (let i = 0; i < this.tailLine.length; i++) {
        if (this.tailEpoch[i] === this.epoch && this.tailText[i] === undefined) {
          const start = this.tailStart[i] ?? 0;
          this.tailText[i] = this.decode(buf, start, this.tailEnd[i] ?? start, this.tailBytes[i] ?? 0);
        }
      }
    }
    this.dirty = [];
    this.epoch++;
  }

  private newStat(
    key: number,
    lineNo: number,
    text: string,
    ts: string,
    error: boolean,
    warn: boolean,
  ): TemplateStat {
    return {
      key,
      count: 1,
      error,
      warn,
      firstLine: lineNo,
      firstText: text,
      firstTs: ts,
      lastLine: lineNo,
      lastText: text,
      lastTs: ts,
      lastStart: 0,
      lastEnd: 0,
      lastBytes: 0,
      lastTsEnd: 0,
      dirtyEpoch: -1,
      block: undefined,
      blockLines: undefined,
      blockOmitted: 0,
    };
  }

  private track(buf: Buffer, start: number, end: number, originalBytes: number, lineNo: number): void {
    const scan = this.scan;
    const stat = this.templates.get(scan.key);
    if (stat !== undefined) {
      stat.count++;
      stat.lastLine = lineNo;
      stat.lastStart = start;
      stat.lastEnd = end;
      stat.lastBytes = originalBytes;
      stat.lastTsEnd = scan.timestampEnd;
      if (stat.dirtyEpoch !== this.epoch) {
        stat.dirtyEpoch = this.epoch;
        this.dirty.push(stat);
      }
      return;
    }
    if (this.templates.size >= this.opts.maxTemplates) {
      this.untracked++;
      this.capped = true;
      return;
    }
    const keep = this.opts.keepText;
    const text = keep ? this.decode(buf, start, end, originalBytes) : "";
    const ts = keep ? buf.toString("latin1", start, scan.timestampEnd) : "";
    this.templates.set(
      scan.key,
      this.newStat(scan.key, lineNo, text, ts, false, (scan.flags & LINE_WARN) !== 0),
    );
    this.distinctTemplates++;
  }

  private openBlock(
    buf: Buffer,
    start: number,
    end: number,
    scanEnd: number,
    originalBytes: number,
    lineNo: number,
  ) {
    const scan = this.scan;
    const kind = blockKindOf(buf, scan.contentStart, scanEnd);
    const keep = this.opts.keepText;
    this.errorEvents++;
    this.block = {
      kind,
      headKey: scan.key,
      headLine: lineNo,
      headText: keep ? this.decode(buf, start, end, originalBytes) : "",
      headTs: keep ? buf.toString("latin1", start, scan.timestampEnd) : "",
      warn: (scan.flags & LINE_WARN) !== 0,
      // A traceback's identity is its final exception line, so its frames are kept until then.
      capture: keep && (kind === BLOCK_PYTHON || !this.templates.has(scan.key)),
      lines: [],
      lineNos: [],
      omitted: 0,
      importantKept: 0,
      chars: 0,
      pendingBlanks: 0,
      keyOverride: undefined,
    };
  }

  private addToBlock(
    block: OpenBlock,
    buf: Buffer,
    start: number,
    end: number,
    originalBytes: number,
    lineNo: number,
    at: number,
    scanEnd: number,
  ): void {
    const blanks = block.pendingBlanks;
    block.pendingBlanks = 0;
    if (!block.capture) return;
    const important =
      IMPORTANT_PREFIXES.some((p) => startsWith(buf, at, scanEnd, p)) ||
      (block.kind === BLOCK_PYTHON && isPythonExceptionLine(buf, at, scanEnd));
    const room =
      block.lines.length < this.opts.maxStackLines && this.blockChars + block.chars < BLOCK_CHARS_CAP;
    if (!room && !(important && block.importantKept < IMPORTANT_EXTRA)) {
      block.omitted += 1 + blanks;
      return;
    }
    if (important && !room) block.importantKept++;
    for (let b = 0; b < blanks && room; b++) {
      block.lines.push("");
      block.lineNos.push(lineNo - blanks + b);
    }
    const text = this.decode(buf, start, end, originalBytes);
    block.chars += text.length;
    block.lines.push(text);
    block.lineNos.push(lineNo);
  }

  private closeBlock(): void {
    const block = this.block;
    if (block === undefined) return;
    this.block = undefined;
    const key = block.keyOverride ?? block.headKey;
    const stat = this.templates.get(key);
    if (stat !== undefined) {
      stat.count++;
      stat.error = true;
      stat.lastLine = block.headLine;
      stat.lastText = block.headText;
      stat.lastTs = block.headTs;
      return;
    }
    if (this.errorTemplates >= this.opts.maxErrorTemplates) {
      this.untracked++;
      return;
    }
    if (this.templates.size >= this.opts.maxTemplates && !this.evictForError()) {
      this.untracked++;
      this.capped = true;
      return;
    }
    const created = this.newStat(key, block.headLine, block.headText, block.headTs, true, block.warn);
    if (block.lines.length > 0 || block.omitted > 0) {
      created.block = block.lines;
      created.blockLines = block.lineNos;
      created.blockOmitted = block.omitted;
      this.blockLinesStored += block.lines.length;
      this.blockChars += block.chars;
    }
    this.templates.set(key, created);
    this.errorTemplates++;
    this.distinctTemplates++;
  }

  /** Frees room for an error template by dropping a batch of the least telling non-error ones. */
  private evictForError(): boolean {
    if (!this.opts.keepText) return false;
    const candidates = [...this.templates.values()].filter((s) => !s.error);
    if (candidates.length === 0) return false;
    candidates.sort((a, b) => a.count - b.count || b.firstLine - a.firstLine);
    const batch = Math.max(1, Math.floor(this.opts.maxTemplates / 20));
    for (const stat of candidates.slice(0, batch)) this.templates.delete(stat.key);
    this.evicted += Math.min(batch, candidates.length);
    return true;
  }
}

async function analyze(lines: LogLines, analyzer: LogAnalyzer): Promise<void> {
  if (hasRawChunks(lines)) {
    for await (const chunk of lines[RAW_CHUNKS]()) analyzer.pushChunk(asBuffer(chunk));
    analyzer.finish();
    return;
  }
  // Strings are re-encoded in batches so that one byte-level path serves every source.
  let batch: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    batch.push("");
    analyzer.pushChunk(Buffer.from(batch.join("\n"), "utf8"));
    batch = [];
    size = 0;
  };
  const add = (line: string): void => {
    batch.push(line);
    size += line.length + 1;
    if (size >= 1 << 18) flush();
  };
  if (Symbol.asyncIterator in lines) {
    for await (const line of lines) add(line);
  } else {
    for (const line of lines) add(line);
  }
  flush();
  analyzer.finish();
}

// ---------------------------------------------------------------------------------
// Baseline
// ---------------------------------------------------------------------------------

/** Templates seen in the stable version's logs, to tell canary-only lines apart. */
export async function buildLogBaseline(lines: LogLines, opts: LogBaselineOptions = {}): Promise<LogBaseline> {
  const maxTemplates = opts.maxTemplates ?? 50_000;
  const analyzer = new LogAnalyzer({
    maxTemplates,
    maxErrorTemplates: maxTemplates,
    maxStackLines: 0,
    maxLineLength: opts.maxLineLength ?? 2000,
    tailLines: 0,
    keepText: false,
  });
  await analyze(lines, analyzer);
  return {
    templateKeys: new Set(analyzer.templates.keys()),
    totalLines: analyzer.totalLines,
    capped: analyzer.capped,
  };
}

// ---------------------------------------------------------------------------------
// Selection and rendering
// ---------------------------------------------------------------------------------

interface Entry {
  /** Position in the original log; fractional for synthetic lines such as "… more". */
  line: number;
  tier: number;
  /** Order within a tier, ascending. */
  rank: number;
  text: string;
  suffix: string;
  estimate: number;
  error: boolean;
  canaryOnly: boolean;
  /** Template this entry stands for, if it is a template's first occurrence. */
  templateFirst: boolean;
}

// Lower tiers are kept first. Errors come before any other content; frames beyond the
// first few rank below canary-only lines so that one deep trace cannot starve the rest.
const TIER = {
  errorCanaryOnly: 0,
  errorInBaseline: 1,
  topFrames: 2,
  tail: 3,
  errorLast: 4,
  warnCanaryOnly: 5,
  canaryOnly: 6,
  deepFrames: 7,
  lastCanaryOnly: 8,
  warnInBaseline: 9,
  inBaseline: 10,
  lastInBaseline: 11,
  tailRepeat: 12,
} as const;
const TOP_FRAMES = 5;

function clockOf(ts: string): string {
  const match = /\d{2}:\d{2}:\d{2}/.exec(ts);
  return match ? match[0] : ts.trim();
}

function occurrenceNote(stat: TemplateStat, inBaseline: boolean): string {
  let note = "";
  if (stat.count > 1) {
    const first = stat.firstTs.trim();
    const last = stat.lastTs.trim();
    if (first === "" || last === "") {
      note = `×${stat.count}, lines ${stat.firstLine}–${stat.lastLine}`;
    } else {
      const sameDay = first.slice(0, 10) === last.slice(0, 10);
      note = `×${stat.count}, first ${sameDay ? clockOf(first) : first}, last ${sameDay ? clockOf(last) : last}`;
    }
  }
  if (stat.error && inBaseline) return ` [${note === "" ? "" : `${note}; `}also in stable logs]`;
  return note === "" ? "" : ` [${note}]`;
}

type EntryFlags = Pick<Entry, "error" | "canaryOnly" | "templateFirst">;

function makeEntry(
  line: number,
  tier: number,
  rank: number,
  text: string,
  suffix: string,
  flags: EntryFlags,
): Entry {
  const estimate = estimateTokens(text) + estimateTokens(suffix);
  return { line, tier, rank, text, suffix, estimate, ...flags };
}

function errorEntries(stat: TemplateStat, inBaseline: boolean): Entry[] {
  const head: EntryFlags = { error: true, canaryOnly: !inBaseline, templateFirst: true };
  const follow: EntryFlags = { ...head, templateFirst: false };
  const tier = inBaseline ? TIER.errorInBaseline : TIER.errorCanaryOnly;
  const entries = [
    makeEntry(stat.firstLine, tier, stat.firstLine, stat.firstText, occurrenceNote(stat, inBaseline), head),
  ];
  const lines = stat.block ?? [];
  const lineNos = stat.blockLines ?? [];
  lines.forEach((text, i) => {
    const line = lineNos[i] ?? stat.firstLine;
    const important = i < TOP_FRAMES || i === lines.length - 1 || /^\s*(?:Caused by|Suppressed:)/.test(text);
    entries.push(makeEntry(line, important ? TIER.topFrames : TIER.deepFrames, line, text, "", follow));
  });
  if (stat.blockOmitted > 0) {
    const at = (lineNos[lineNos.length - 1] ?? stat.firstLine) + 0.5;
    entries.push(
      makeEntry(at, TIER.topFrames, at, `    … ${stat.blockOmitted} more trace lines`, "", follow),
    );
  }
  if (stat.count > 1 && stat.lastLine !== stat.firstLine) {
    const note = ` [last of ×${stat.count}]`;
    entries.push(makeEntry(stat.lastLine, TIER.errorLast, stat.lastLine, stat.lastText, note, follow));
  }
  return entries;
}

function templateEntries(stat: TemplateStat, inBaseline: boolean): Entry[] {
  const first: EntryFlags = { error: false, canaryOnly: !inBaseline, templateFirst: true };
  const firstTier = inBaseline
    ? stat.warn
      ? TIER.warnInBaseline
      : TIER.inBaseline
    : stat.warn
      ? TIER.warnCanaryOnly
      : TIER.canaryOnly;
  // Frequent templates first: one line with its count explains the most of the log.
  const entries = [
    makeEntry(
      stat.firstLine,
      firstTier,
      -stat.count,
      stat.firstText,
      occurrenceNote(stat, inBaseline),
      first,
    ),
  ];
  if (stat.count > 1 && stat.lastLine !== stat.firstLine) {
    const lastTier = inBaseline ? TIER.lastInBaseline : TIER.lastCanaryOnly;
    const note = ` [last of ×${stat.count}]`;
    entries.push(
      makeEntry(stat.lastLine, lastTier, -stat.count, stat.lastText, note, {
        ...first,
        templateFirst: false,
      }),
    );
  }
  return entries;
}

function buildEntries(analyzer: LogAnalyzer, baseline: LogBaseline | undefined): Entry[] {
  const byLine = new Map<number, Entry>();
  for (const stat of analyzer.templates.values()) {
    const inBaseline = baseline?.templateKeys.has(stat.key) ?? false;
    for (const entry of stat.error ? errorEntries(stat, inBaseline) : templateEntries(stat, inBaseline)) {
      const existing = byLine.get(entry.line);
      if (existing === undefined || entry.tier < existing.tier) byLine.set(entry.line, entry);
    }
  }
  // The tail shows how the log ends; a repeat of a template shown elsewhere adds little.
  for (const { line, key, text } of analyzer.tail()) {
    const existing = byLine.get(line);
    if (existing !== undefined) {
      existing.tier = Math.min(existing.tier, TIER.tail);
      continue;
    }
    const stat = analyzer.templates.get(key);
    const tier = stat === undefined || stat.lastLine === line ? TIER.tail : TIER.tailRepeat;
    const flags: EntryFlags = { error: false, canaryOnly: true, templateFirst: false };
    byLine.set(line, makeEntry(line, tier, -line, text, "", flags));
  }
  return [...byLine.values()].sort((a, b) => a.tier - b.tier || a.rank - b.rank || a.line - b.line);
}

interface Rendering {
  text: string;
  tokens: number;
  kept: number;
  omitted: Entry[];
}

function summaryLine(analyzer: LogAnalyzer, kept: number, omitted: Entry[]): string {
  const parts = [
    `${analyzer.totalLines} lines, ${kept} shown, ${analyzer.distinctTemplates} distinct templates`,
  ];
  if (omitted.length > 0) {
    const templates = omitted.filter((e) => e.templateFirst);
    const canaryOnly = templates.filter((e) => e.canaryOnly).length;
    const errors = templates.filter((e) => e.error).length;
    const traceLines = omitted.filter((e) => e.error && !e.templateFirst).length;
    const others = omitted.length - templates.length - traceLines;
    const left: string[] = [];
    if (templates.length > 0) {
      left.push(`${templates.length} templates (${errors} errors, ${canaryOnly} not seen in stable logs)`);
    }
    if (traceLines > 0) left.push(`${traceLines} error trace or repeat lines`);
    if (others > 0) left.push(`${others} other repeat or tail lines`);
    parts.push(`left out for the token budget: ${left.join(", ")}`);
  }
  if (analyzer.untracked > 0) parts.push(`${analyzer.untracked} lines beyond the template caps not tracked`);
  if (analyzer.privateKeyLines > 0) parts.push(`${analyzer.privateKeyLines} private key lines withheld`);
  return `[rollout-medic log excerpt: ${parts.join("; ")}]`;
}

function render(
  analyzer: LogAnalyzer,
  sorted: Entry[],
  limit: number,
  redactions: Map<Entry, string>,
): Rendering {
  const chosen: Entry[] = [];
  const omitted: Entry[] = [];
  let used = 0;
  for (const entry of sorted) {
    if (used + entry.estimate <= limit) {
      chosen.push(entry);
      used += entry.estimate;
    } else {
      omitted.push(entry);
    }
  }
  chosen.sort((a, b) => a.line - b.line);
  const out: string[] = [];
  for (const entry of chosen) {
    let redacted = redactions.get(entry);
    if (redacted === undefined) {
      redacted = redactLine(entry.text);
      redactions.set(entry, redacted);
    }
    out.push(redacted + entry.suffix);
  }
  const collapsed = analyzer.totalLines > chosen.length;
  if (collapsed || omitted.length > 0) out.push(summaryLine(analyzer, chosen.length, omitted));
  const text = out.join("\n");
  return { text, tokens: countTokens(text), kept: chosen.length, omitted };
}

/** Last resort when even the summary does not fit: cut characters until the count fits. */
function hardCut(text: string, budget: number): { text: string; tokens: number } {
  let cut = text;
  let tokens = countTokens(cut);
  while (tokens > budget && cut.length > 0) {
    cut = cut.slice(0, Math.floor((cut.length * budget) / tokens) - 1);
    tokens = countTokens(cut);
  }
  return { text: cut, tokens };
}

/**
 * Picks entries by priority against an estimated limit, then corrects the limit with the
 * exact count of the rendered text; a few rounds converge because the estimate is linear.
 */
function fitToBudget(analyzer: LogAnalyzer, sorted: Entry[], budget: number): Rendering {
  const redactions = new Map<Entry, string>();
  const total = sorted.reduce((sum, e) => sum + e.estimate, 0);
  let fits = 0;
  let over = Number.POSITIVE_INFINITY;
  let limit = Math.min(total, Math.max(0, budget - 60));
  let best: Rendering | undefined;
  for (let round = 0; round < 6; round++) {
    const attempt = render(analyzer, sorted, limit, redactions);
    if (attempt.tokens <= budget) {
      if (best === undefined || attempt.kept >= best.kept) best = attempt;
      if (attempt.omitted.length === 0 || attempt.tokens >= budget * 0.9) break;
      fits = limit;
    } else {
      over = limit;
    }
    const scaled = limit * (budget / Math.max(1, attempt.tokens)) * 0.98;
    limit = Math.min(total, scaled > fits && scaled < over ? scaled : (fits + Math.min(over, total)) / 2);
    if (over - fits < 1) break;
  }
  if (best !== undefined) return best;
  const fallback = render(analyzer, sorted, 0, redactions);
  const cut = hardCut(fallback.text, budget);
  return { text: cut.text, tokens: cut.tokens, kept: 0, omitted: sorted };
}

/**
 * Reduces raw container logs to an excerpt within `tokenBudget` tokens: repeats collapse
 * with counts, errors keep their stack traces, canary-only lines beat lines also seen in
 * `baseline`, and every kept line is redacted. Output keeps the original order.
 */
export async function reduceLogs(lines: LogLines, opts: ReduceLogsOptions): Promise<LogExcerpt> {
  const maxTemplates = Math.max(1, opts.maxTemplates ?? 20_000);
  const maxErrorTemplates = Math.max(1, Math.min(opts.maxErrorTemplates ?? 2_000, maxTemplates));
  const analyzer = new LogAnalyzer({
    maxTemplates,
    maxErrorTemplates,
    maxStackLines: opts.maxStackLines ?? 40,
    maxLineLength: Math.max(16, opts.maxLineLength ?? 2000),
    tailLines: opts.tailLines ?? 20,
    keepText: true,
  });
  await analyze(lines, analyzer);

  const sorted = buildEntries(analyzer, opts.baseline);
  const budget = Math.max(0, Math.floor(opts.tokenBudget));
  const rendering =
    analyzer.totalLines === 0 || budget === 0
      ? { text: "", tokens: 0, kept: 0, omitted: sorted }
      : fitToBudget(analyzer, sorted, budget);

  return {
    text: rendering.text,
    tokens: rendering.tokens,
    totalLines: analyzer.totalLines,
    keptLines: rendering.kept,
    distinctTemplates: analyzer.distinctTemplates,
    errorLines: analyzer.errorEvents,
    truncated: rendering.omitted.length > 0 || analyzer.untracked > 0,
    stats: {
      templateCap: maxTemplates,
      templatesTracked: analyzer.templates.size,
      templatesEvicted: analyzer.evicted,
      untrackedLines: analyzer.untracked,
      errorTemplateCap: maxErrorTemplates,
      errorTemplates: analyzer.errorTemplates,
      blockLinesStored: analyzer.blockLinesStored,
      blockCharsCap: BLOCK_CHARS_CAP,
      blockChars: analyzer.blockChars,
      cutLines: analyzer.cutLines,
      privateKeyLines: analyzer.privateKeyLines,
      bytes: analyzer.bytes,
      omittedForBudget: rendering.omitted.length,
    },
  };
}
