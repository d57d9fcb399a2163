/**
 * Log line templates for de-duplication: leading timestamps dropped, variable tokens
 * (numbers, UUIDs, hex ids, IPs, durations, quoted ids) replaced with placeholders.
 *
 * The scanner works on UTF-8 bytes so that the log reducer can template 100 MB of logs
 * without decoding every line. `normalizeLogLine` rebuilds the template from the spans the
 * same scanner replaced, so `templateKey(normalizeLogLine(line))` equals the key the
 * reducer computes for `line`.
 */

/** Result of scanning one line; reused between calls to avoid an allocation per line. */
export interface LineScan {
  /** 53-bit hash of the line's template. */
  key: number;
  /** Byte offset where the content starts, after leading timestamps and one separator. */
  contentStart: number;
  /** Byte offset where the leading timestamps end (before the separator). */
  timestampEnd: number;
  /** Bit set of `LINE_*` flags. */
  flags: number;
}

/** The line reads as an error, exception, panic, fatal or traceback. */
export const LINE_ERROR = 1;
/** The line reads as a warning. */
export const LINE_WARN = 2;
/** The line holds a `-----BEGIN` or `-----END` armour marker. */
export const LINE_PEM_MARKER = 4;

export function createLineScan(): LineScan {
  return { key: 0, contentStart: 0, timestampEnd: 0, flags: 0 };
}

// Bytes that make up a token (letters, digits, `_`, `.` and `-`). The class bits of a
// token's bytes, OR-ed while scanning, classify it without a second pass.
const CLASS_TOKEN = 1;
const CLASS_DIGIT = 2;
const CLASS_DOT = 4;
const CLASS_DASH = 8;
const CLASS_UNDERSCORE = 16;
const CLASS_HEX_LETTER = 32;
const CLASS_OTHER_LETTER = 64;
const CLASS = new Uint8Array(256);
const TOKEN = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (!/[A-Za-z0-9_.-]/.test(ch)) continue;
  TOKEN[c] = 1;
  if (/[0-9]/.test(ch)) CLASS[c] = CLASS_TOKEN | CLASS_DIGIT;
  else if (ch === ".") CLASS[c] = CLASS_TOKEN | CLASS_DOT;
  else if (ch === "-") CLASS[c] = CLASS_TOKEN | CLASS_DASH;
  else if (ch === "_") CLASS[c] = CLASS_TOKEN | CLASS_UNDERSCORE;
  else if (/[a-fA-F]/.test(ch)) CLASS[c] = CLASS_TOKEN | CLASS_HEX_LETTER;
  else CLASS[c] = CLASS_TOKEN | CLASS_OTHER_LETTER;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

const P_NUMBER = ascii("<n>");
const P_UUID = ascii("<uuid>");
const P_IP = ascii("<ip>");
const P_DURATION = ascii("<dur>");
const P_HEX = ascii("<hex>");
const P_ID = ascii("<id>");

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const DJB_SEED = 5381;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// Two independent 32-bit hashes folded into a safe integer keep collisions negligible
// even at 50k templates, which 32 bits alone would not.
function combine(h1: number, h2: number): number {
  return (fmix(h1) >>> 0) * 2097152 + ((fmix(h2) >>> 0) >>> 11);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexLetter = (c: number): boolean => (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isSpace = (c: number): boolean => c === 32 || c === 9;
const lower = (c: number): number => (c >= 65 && c <= 90 ? c | 32 : c);

function allDigits(buf: Uint8Array, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!isDigit(buf[i] ?? 0)) return false;
  return true;
}

// ---------------------------------------------------------------------------------
// Leading timestamps
// ---------------------------------------------------------------------------------

/** End of an ISO-8601 / RFC 3339 timestamp (date separators `-` or `/`) at `i`, or -1. */
function isoEnd(buf: Uint8Array, i: number, end: number): number {
  if (i + 19 > end) return -1;
  const ds = buf[i + 4];
  if (ds !== 45 && ds !== 47) return -1;
  if (buf[i + 7] !== ds || buf[i + 13] !== 58 || buf[i + 16] !== 58) return -1;
  const t = buf[i + 10];
  if (t !== 84 && t !== 32) return -1;
  if (!allDigits(buf, i, i + 4) || !allDigits(buf, i + 5, i + 7) || !allDigits(buf, i + 8, i + 10)) return -1;
  if (!allDigits(buf, i + 11, i + 13) || !allDigits(buf, i + 14, i + 16) || !allDigits(buf, i + 17, i + 19)) {
    return -1;
  }
  let j = i + 19;
  if (j < end && (buf[j] === 46 || buf[j] === 44)) {
    j++;
    while (j < end && isDigit(buf[j] ?? 0)) j++;
  }
  if (j < end && buf[j] === 90) j++;
  else if (j + 2 < end && (buf[j] === 43 || buf[j] === 45) && allDigits(buf, j + 1, j + 3)) {
    j += 3;
    if (j < end && buf[j] === 58) j++;
    while (j < end && isDigit(buf[j] ?? 0)) j++;
  }
  return j;
}

/** klog header `I0501 12:00:00.123456   12345 ` (severity, date, time, thread id). */
function klogEnd(buf: Uint8Array, i: number, end: number): number {
  if (i + 21 > end) return -1;
  const sev = buf[i];
  if (sev !== 73 && sev !== 87 && sev !== 69 && sev !== 70) return -1;
  if (!allDigits(buf, i + 1, i + 5) || buf[i + 5] !== 32 || buf[i + 8] !== 58 || buf[i + 11] !== 58)
    return -1;
  if (!allDigits(buf, i + 6, i + 8) || !allDigits(buf, i + 9, i + 11) || !allDigits(buf, i + 12, i + 14))
    return -1;
  let j = i + 14;
  if (j < end && buf[j] === 46) {
    j++;
    while (j < end && isDigit(buf[j] ?? 0)) j++;
  }
  let k = j;
  while (k < end && buf[k] === 32) k++;
  const threadStart = k;
  while (k < end && isDigit(buf[k] ?? 0)) k++;
  return k > threadStart ? k : j;
}

/** Unix epoch seconds (10 digits, optional fraction) or milliseconds (13 digits). */
function epochEnd(buf: Uint8Array, i: number, end: number): number {
  let j = i;
  while (j < end && isDigit(buf[j] ?? 0)) j++;
  const digits = j - i;
  if (digits === 10 && j < end && buf[j] === 46) {
    j++;
    while (j < end && isDigit(buf[j] ?? 0)) j++;
  } else if (digits !== 13 && digits !== 10) return -1;
  return j < end && !isSpace(buf[j] ?? 0) ? -1 : j;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map(
  ascii,
);

/** Syslog `May  1 12:00:00`. */
function syslogEnd(buf: Uint8Array, i: number, end: number): number {
  if (i + 15 > end || buf[i + 3] !== 32 || buf[i + 9] !== 58 || buf[i + 12] !== 58) return -1;
  if (!MONTHS.some((m) => m[0] === buf[i] && m[1] === buf[i + 1] && m[2] === buf[i + 2])) return -1;
  const d1 = buf[i + 4] ?? 0;
  if (!(d1 === 32 || isDigit(d1)) || !isDigit(buf[i + 5] ?? 0) || buf[i + 6] !== 32) return -1;
  return allDigits(buf, i + 7, i + 9) && allDigits(buf, i + 10, i + 12) && allDigits(buf, i + 13, i + 15)
    ? i + 15
    : -1;
}

/**
 * Skips up to two leading timestamps (a collector's plus the application's own) and
 * records where they end; returns flags implied by a klog severity letter.
 */
function skipTimestamps(buf: Uint8Array, start: number, end: number, out: LineScan): number {
  let i = start;
  let flags = 0;
  let tsEnd = start;
  for (let round = 0; round < 2 && i < end; round++) {
    const c = buf[i] ?? 0;
    let j = -1;
    if (isDigit(c)) {
      j = isoEnd(buf, i, end);
      if (j < 0) j = epochEnd(buf, i, end);
    } else if (c === 91) {
      j = isoEnd(buf, i + 1, end);
      if (j >= 0 && j < end && buf[j] === 93) j++;
      else j = -1;
    } else if (c >= 65 && c <= 87) {
      j = klogEnd(buf, i, end);
      if (j >= 0) flags |= c === 69 || c === 70 ? LINE_ERROR : c === 87 ? LINE_WARN : 0;
      else j = syslogEnd(buf, i, end);
    }
    if (j < 0) break;
    tsEnd = j;
    i = j < end && isSpace(buf[j] ?? 0) ? j + 1 : j;
  }
  out.timestampEnd = tsEnd;
  out.contentStart = i;
  return flags;
}

// ---------------------------------------------------------------------------------
// Token classes
// ---------------------------------------------------------------------------------

function isDuration(buf: Uint8Array, a: number, b: number): boolean {
  let i = a;
  let groups = 0;
  while (i < b) {
    const numStart = i;
    while (i < b && isDigit(buf[i] ?? 0)) i++;
    if (i < b && buf[i] === 46) {
      i++;
      while (i < b && isDigit(buf[i] ?? 0)) i++;
    }
    if (i === numStart) return false;
    const u = buf[i];
    const v = buf[i + 1];
    if (i + 1 < b && (u === 110 || u === 117 || u === 109) && v === 115)
      i += 2; // ns us ms
    else if (u === 115 || u === 109 || u === 104 || u === 100)
      i += 1; // s m h d
    else return false;
    groups++;
  }
  return groups > 0;
}

function isHexRun(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i] ?? 0;
    if (!isDigit(c) && !isHexLetter(c)) return false;
  }
  return to > from;
}

function classesOf(buf: Uint8Array, a: number, b: number): number {
  let seen = 0;
  for (let i = a; i < b; i++) seen |= CLASS[buf[i] ?? 0] ?? 0;
  return seen;
}

function count(buf: Uint8Array, a: number, b: number, byte: number): number {
  let n = 0;
  for (let i = a; i < b; i++) if (buf[i] === byte) n++;
  return n;
}

/** Index into `PLACEHOLDERS` for a token with a digit, given the class bits of its bytes. */
function placeholderIndex(buf: Uint8Array, a: number, b: number, seen: number): number {
  const len = b - a;
  const letters = seen & (CLASS_HEX_LETTER | CLASS_OTHER_LETTER);
  const joiners = seen & (CLASS_DASH | CLASS_UNDERSCORE);
  if (letters === 0 && joiners === 0) {
    if ((seen & CLASS_DOT) === 0) return 0;
    const dots = count(buf, a, b, 46);
    if (dots === 1) return 0;
    return dots === 3 && len <= 15 ? 2 : 5;
  }
  if (len === 36 && (seen & (CLASS_OTHER_LETTER | CLASS_DOT | CLASS_UNDERSCORE)) === 0) {
    if (buf[a + 8] === 45 && buf[a + 13] === 45 && buf[a + 18] === 45 && buf[a + 23] === 45) return 1;
  }
  if (joiners === 0 && letters !== 0 && isDuration(buf, a, b)) return 3;
  if ((seen & ~(CLASS_TOKEN | CLASS_DIGIT | CLASS_HEX_LETTER)) === 0 && len >= 7) return 4;
  if (len > 2 && buf[a] === 48 && (buf[a + 1] === 120 || buf[a + 1] === 88) && isHexRun(buf, a + 2, b))
    return 4;
  return 5;
}

// ---------------------------------------------------------------------------------
// Severity words
// ---------------------------------------------------------------------------------

const W_ERROR = ascii("error");
const W_FATAL = ascii("fatal");
const W_PANIC = ascii("panic");
const W_EMERG = ascii("emerg");
const W_LEVEL = ascii("level");
const W_SEVERE = ascii("severe");
const W_SIGSEGV = ascii("sigsegv");
const W_SIGABRT = ascii("sigabrt");
const W_CRITICAL = ascii("critical");
const W_SEGFAULT = ascii("segfault");
const W_TRACEBACK = ascii("traceback");
const W_EXCEPTION = ascii("exception");
const W_OOMKILLED = ascii("oomkilled");
const W_WARN = ascii("warn");
const W_WARNING = ascii("warning");
const S_ERROR = ascii("Error");
const S_EXCEPTION = ascii("Exception");
const S_UERROR = ascii("ERROR");
const NIL_VALUES = ["null", "nil", "<nil>", "none", "false", "0", '""', "[]", "{}"].map(ascii);

function equalsLower(buf: Uint8Array, a: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (lower(buf[a + k] ?? 0) !== word[k]) return false;
  return true;
}

function endsWith(buf: Uint8Array, b: number, word: Uint8Array): boolean {
  const a = b - word.length;
  for (let k = 0; k < word.length; k++) if (buf[a + k] !== word[k]) return false;
  return true;
}

/** Position after `"`?, `=` or `:`, optional space and quote that follow a key at `b`, or -1. */
function valueStart(buf: Uint8Array, b: number, end: number): number {
  let j = b;
  if (j < end && buf[j] === 34) j++;
  if (j >= end || (buf[j] !== 61 && buf[j] !== 58)) return -1;
  j++;
  while (j < end && isSpace(buf[j] ?? 0)) j++;
  return j;
}

/** `error=null`, `"error":""` and friends report the absence of an error. */
function isNilValue(buf: Uint8Array, b: number, end: number): boolean {
  let j = valueStart(buf, b, end);
  if (j < 0) return false;
  if (j < end && buf[j] === 34 && buf[j + 1] !== 34) j++;
  for (const word of NIL_VALUES) {
    if (j + word.length > end || !equalsLower(buf, j, word)) continue;
    const after = buf[j + word.length] ?? 32;
    if (TOKEN[after] !== 1) return true;
  }
  return false;
}

/** pino writes numeric levels: 50 is error, 60 is fatal. */
function isPinoErrorLevel(buf: Uint8Array, b: number, end: number): boolean {
  const j = valueStart(buf, b, end);
  if (j < 0 || j + 2 > end) return false;
  return (buf[j] === 53 || buf[j] === 54) && buf[j + 1] === 48 && !isDigit(buf[j + 2] ?? 32);
}

function wordFlags(buf: Uint8Array, a: number, b: number, end: number): number {
  if (buf[a] === 45 && b - a >= 8 && buf[a + 4] === 45) {
    const c = buf[a + 5];
    if (c === 66 || c === 69) return LINE_PEM_MARKER;
  }
  while (b > a && (buf[b - 1] === 46 || buf[b - 1] === 45)) b--;
  while (a < b && buf[a] === 45) a++;
  const len = b - a;
  switch (len) {
    case 4:
      return equalsLower(buf, a, W_WARN) ? LINE_WARN : 0;
    case 5:
      if (equalsLower(buf, a, W_ERROR)) return isNilValue(buf, b, end) ? 0 : LINE_ERROR;
      if (equalsLower(buf, a, W_FATAL) || equalsLower(buf, a, W_PANIC) || equalsLower(buf, a, W_EMERG)) {
        return LINE_ERROR;
      }
      if (equalsLower(buf, a, W_LEVEL)) return isPinoErrorLevel(buf, b, end) ? LINE_ERROR : 0;
      return 0;
    case 6:
      return equalsLower(buf, a, W_SEVERE) ? LINE_ERROR : 0;
    case 7:
      if (equalsLower(buf, a, W_WARNING)) return LINE_WARN;
      if (equalsLower(buf, a, W_SIGSEGV) || equalsLower(buf, a, W_SIGABRT)) return LINE_ERROR;
      break;
    case 8:
      if (equalsLower(buf, a, W_CRITICAL) || equalsLower(buf, a, W_SEGFAULT)) return LINE_ERROR;
      break;
    case 9:
      if (equalsLower(buf, a, W_TRACEBACK) || equalsLower(buf, a, W_EXCEPTION)) return LINE_ERROR;
      if (equalsLower(buf, a, W_OOMKILLED)) return LINE_ERROR;
      break;
  }
  if (len > 5 && (endsWith(buf, b, S_ERROR) || (endsWith(buf, b, S_UERROR) && buf[b - 6] === 95))) {
    return LINE_ERROR;
  }
  if (len > 9 && endsWith(buf, b, S_EXCEPTION)) return LINE_ERROR;
  return 0;
}

// ---------------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------------

/**
 * End of a quoted id starting at `q` (the closing quote's index), or -1: a short quoted
 * run without spaces or slashes that contains a digit, such as `"worker-3"`.
 */
function quotedIdEnd(buf: Uint8Array, q: number, end: number): number {
  const quote = buf[q];
  const limit = Math.min(end, q + 66);
  let digit = false;
  for (let j = q + 1; j < limit; j++) {
    const c = buf[j] ?? 0;
    if (c === quote) return digit && j > q + 1 ? j : -1;
    if (c <= 32 || c === 34 || c === 39 || c === 92 || c === 47 || c === 60) return -1;
    if (isDigit(c)) digit = true;
  }
  return -1;
}

/** A quote opens a value after a separator; after a word it closes a key or string. */
function opensValue(buf: Uint8Array, q: number, contentStart: number): boolean {
  if (q === contentStart) return true;
  const p = buf[q - 1] ?? 0;
  return p === 32 || p === 9 || p === 61 || p === 58 || p === 40 || p === 91 || p === 123 || p === 44;
}

const PLACEHOLDERS: readonly Uint8Array[] = [P_NUMBER, P_UUID, P_IP, P_DURATION, P_HEX, P_ID];
const PLACEHOLDER_TEXT = PLACEHOLDERS.map((p) => String.fromCharCode(...p));

// Shapes (length, first and last letter) of the severity words, so that most tokens are
// ruled out without comparing bytes.
const SHAPES = new Uint8Array(10 * 26 * 26);
const shapeOf = (length: number, first: number, last: number): number => length * 676 + first * 26 + last;
// prettier-ignore
const SEVERITY_WORDS = [
  W_WARN, W_ERROR, W_FATAL, W_PANIC, W_EMERG, W_LEVEL, W_SEVERE, W_WARNING,
  W_SIGSEGV, W_SIGABRT, W_CRITICAL, W_SEGFAULT, W_TRACEBACK, W_EXCEPTION, W_OOMKILLED,
];
for (const word of SEVERITY_WORDS) {
  SHAPES[shapeOf(word.length, (word[0] ?? 97) - 97, (word[word.length - 1] ?? 97) - 97)] = 1;
}

/** Whether a token without digits may be a severity word, an `…Error`/`…Exception` or armour. */
function maybeSeverityWord(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  const first = buf[start] ?? 0;
  const last = buf[end - 1] ?? 0;
  if (first === 45 || last === 45 || last === 46) return true;
  if ((last === 114 || last === 82) && length > 5 && buf[end - 5] === 69) return true;
  if (last === 110 && length > 9 && buf[end - 9] === 69) return true;
  if (length > 9) return false;
  const f = lower(first) - 97;
  const l = lower(last) - 97;
  return f >= 0 && f < 26 && l >= 0 && l < 26 && SHAPES[shapeOf(length, f, l)] === 1;
}

/**
 * Scans `buf[start, end)` and fills `out`. When `edits` is given, each replaced span is
 * appended to it as `from, to, placeholder index` so the template can be rebuilt.
 */
export function scanLine(buf: Uint8Array, start: number, end: number, out: LineScan, edits?: number[]): void {
  let flags = skipTimestamps(buf, start, end, out);
  let h1 = FNV_OFFSET;
  let h2 = DJB_SEED;
  let i = out.contentStart;
  while (i < end) {
    const c = buf[i] ?? 0;
    if (TOKEN[c] !== 1) {
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = (Math.imul(h2, 31) + c) | 0;
      i++;
      if ((c === 34 || c === 39) && i < end && opensValue(buf, i - 1, out.contentStart)) {
        const close = quotedIdEnd(buf, i - 1, end);
        if (close > 0) {
          for (let k = 0; k < P_ID.length; k++) {
            const d = P_ID[k] ?? 0;
            h1 = Math.imul(h1 ^ d, FNV_PRIME);
            h2 = (Math.imul(h2, 31) + d) | 0;
          }
          if (edits !== undefined) edits.push(i, close, 5);
          i = close;
        }
      }
      continue;
    }
    // Hash while scanning; a token with a digit rewinds and hashes a placeholder instead.
    const tokenStart = i;
    const saved1 = h1;
    const saved2 = h2;
    let seen = 0;
    while (i < end) {
      const d = buf[i] ?? 0;
      const k = CLASS[d] ?? 0;
      if (k === 0) break;
      seen |= k;
      h1 = Math.imul(h1 ^ d, FNV_PRIME);
      h2 = (Math.imul(h2, 31) + d) | 0;
      i++;
    }
    if ((seen & CLASS_DIGIT) === 0) {
      if (i - tokenStart >= 4 && maybeSeverityWord(buf, tokenStart, i))
        flags |= wordFlags(buf, tokenStart, i, end);
      continue;
    }
    h1 = saved1;
    h2 = saved2;
    // Punctuation at either end of the token stays literal around the placeholder.
    let a = tokenStart;
    let b = i;
    while (a < b && (buf[a] === 45 || buf[a] === 46)) a++;
    while (b > a && (buf[b - 1] === 45 || buf[b - 1] === 46)) b--;
    const index = placeholderIndex(buf, a, b, a === tokenStart && b === i ? seen : classesOf(buf, a, b));
    const p = PLACEHOLDERS[index] ?? P_ID;
    for (let k = tokenStart; k < a; k++) {
      const d = buf[k] ?? 0;
      h1 = Math.imul(h1 ^ d, FNV_PRIME);
      h2 = (Math.imul(h2, 31) + d) | 0;
    }
    for (let k = 0; k < p.length; k++) {
      const d = p[k] ?? 0;
      h1 = Math.imul(h1 ^ d, FNV_PRIME);
      h2 = (Math.imul(h2, 31) + d) | 0;
    }
    for (let k = b; k < i; k++) {
      const d = buf[k] ?? 0;
      h1 = Math.imul(h1 ^ d, FNV_PRIME);
      h2 = (Math.imul(h2, 31) + d) | 0;
    }
    if (edits !== undefined) edits.push(a, b, index);
  }
  out.flags = flags;
  out.key = combine(h1, h2);
}

/** The de-duplication template of a log line. */
export function normalizeLogLine(line: string): string {
  const bytes = Buffer.from(line, "utf8");
  const scan = createLineScan();
  const edits: number[] = [];
  scanLine(bytes, 0, bytes.length, scan, edits);
  let template = "";
  let cursor = scan.contentStart;
  for (let e = 0; e < edits.length; e += 3) {
    const from = edits[e] ?? cursor;
    template += bytes.toString("utf8", cursor, from) + (PLACEHOLDER_TEXT[edits[e + 2] ?? 5] ?? "<id>");
    cursor = edits[e + 1] ?? from;
  }
  return template + bytes.toString("utf8", cursor, bytes.length);
}

/** The key of a template as produced by `normalizeLogLine` (equal to `LineScan.key`). */
export function templateKey(template: string): number {
  const bytes = Buffer.from(template, "utf8");
  let h1 = FNV_OFFSET;
  let h2 = DJB_SEED;
  for (let i = 0; i < bytes.length; i++) {
    const d = bytes[i] ?? 0;
    h1 = Math.imul(h1 ^ d, FNV_PRIME);
    h2 = (Math.imul(h2, 31) + d) | 0;
  }
  return combine(h1, h2);
}
