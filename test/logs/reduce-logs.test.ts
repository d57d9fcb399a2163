import { describe, it, expect } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { countTokens } from "../../agent/logs/count-tokens.js";
import { buildLogBaseline, readLogLines, reduceLogs } from "../../agent/logs/reduce-logs.js";

const BASE = Date.UTC(2024, 4, 1, 12, 0, 0);
const ts = (i: number): string => new Date(BASE + i * 10).toISOString();

/** Distinct alphabetic word per index, so templates differ (digits would be normalized away). */
const word = (i: number): string => {
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `w${s}`;
};

const hex = (i: number): string => ((i * 2654435761) >>> 0).toString(16).padStart(8, "0");

function noise(i: number): string {
  switch (i % 6) {
    case 0:
      return `${ts(i)} INFO request served method=GET path=/api/v1/users/${i % 977} status=200 duration=${i % 91}ms request_id=${hex(i)}-${hex(i + 1).slice(0, 4)}-4${hex(i + 2).slice(0, 3)}-a${hex(i + 3).slice(0, 3)}-${hex(i + 4)}${hex(i + 5).slice(0, 4)}`;
    case 1:
      return `${ts(i)} DEBUG cache lookup key=user:${i % 5000} hit=${i % 3 === 0} took=${i % 13}.${i % 10}ms`;
    case 2:
      return `{"ts":"${ts(i)}","level":"info","msg":"processed batch","batch":${i},"worker":"worker-${i % 8}"}`;
    case 3:
      return `${ts(i)} WARN slow query took ${i % 5000}ms table=orders rows=${i % 1000}`;
    case 4:
      return `${ts(i)} INFO pod web-7d4b9c8f6-x2k9p ready=true restarts=${i % 4} node=10.0.${i % 256}.12`;
    default:
      return `${ts(i)} INFO llm call finished token_count=${i % 100} sha=${hex(i)}${hex(i * 7)}`;
  }
}

interface PlantedError {
  head: string;
  frames: string[];
}

function plantedError(k: number, i: number): PlantedError {
  return {
    head: `${ts(i)} ERROR com.acme.${word(k)}.Planted${word(k)}Exception: order service rejected ${word(k)} request`,
    frames: [
      `\tat com.acme.${word(k)}.Handler.process(Handler.java:${k + 10})`,
      `\tat com.acme.${word(k)}.Router.dispatch(Router.java:${k + 20})`,
      `\tat io.netty.channel.AbstractChannelHandlerContext.invokeChannelRead(AbstractChannelHandlerContext.java:379)`,
      `Caused by: java.net.ConnectException: ${word(k)} upstream refused`,
    ],
  };
}

function generate(totalNoise: number, planted: number): { lines: string[]; errors: PlantedError[] } {
  const lines: string[] = [];
  const errors: PlantedError[] = [];
  const every = Math.floor(totalNoise / (planted + 1));
  for (let i = 0; i < totalNoise; i++) {
    lines.push(noise(i));
    if (planted > 0 && i > 0 && i % every === 0 && errors.length < planted) {
      const error = plantedError(errors.length, i);
      errors.push(error);
      lines.push(error.head, ...error.frames);
    }
  }
  return { lines, errors };
}

describe("reduceLogs on a large generated log", () => {
  const { lines, errors } = generate(200_000, 50);
  const budget = 8000;
  let reduced: ReturnType<typeof reduceLogs> | undefined;
  const excerptWithinBudget = () => (reduced ??= reduceLogs(lines, { tokenBudget: budget }));

  it("stays within the token budget and keeps every planted error with its stack trace", async () => {
    const excerpt = await excerptWithinBudget();
    expect(excerpt.tokens).toBeLessThanOrEqual(budget);
    expect(excerpt.tokens).toBe(countTokens(excerpt.text));
    expect(excerpt.totalLines).toBe(lines.length);
    expect(excerpt.errorLines).toBe(50);
    expect(excerpt.keptLines).toBeLessThan(lines.length / 100);
    for (const error of errors) {
      expect(excerpt.text).toContain(error.head);
      expect(excerpt.text).toContain(error.frames[0]);
      expect(excerpt.text).toContain(error.frames[3]);
    }
  });

  it("collapses repeated noise into single lines with counts", async () => {
    const excerpt = await excerptWithinBudget();
    const counts = [...excerpt.text.matchAll(/\[×(\d+), first \d\d:\d\d:\d\d, last \d\d:\d\d:\d\d\]/g)].map(
      (m) => Number(m[1]),
    );
    expect(counts.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...counts)).toBeGreaterThan(10_000);
    expect(excerpt.distinctTemplates).toBeLessThan(100);
  });

  it("keeps errors first when the budget is tight", async () => {
    const excerpt = await reduceLogs(lines, { tokenBudget: 2500 });
    expect(excerpt.tokens).toBeLessThanOrEqual(2500);
    expect(excerpt.truncated).toBe(true);
    for (const error of errors) expect(excerpt.text).toContain(error.head);
    expect(excerpt.text).toMatch(/left out for the token budget/);
  });
});

describe("reduceLogs", () => {
  it("returns an empty excerpt for empty input", async () => {
    const excerpt = await reduceLogs([], { tokenBudget: 1000 });
    expect(excerpt).toMatchObject({
      text: "",
      tokens: 0,
      totalLines: 0,
      keptLines: 0,
      errorLines: 0,
      truncated: false,
    });
  });

  it("returns short logs unchanged", async () => {
    const lines = ["2024-05-01T12:00:00Z INFO starting", "2024-05-01T12:00:01Z INFO listening on :8080"];
    const excerpt = await reduceLogs(lines, { tokenBudget: 1000 });
    expect(excerpt.text).toBe(lines.join("\n"));
    expect(excerpt.truncated).toBe(false);
    expect(excerpt.keptLines).toBe(2);
  });

  it("collapses a repeated template and keeps its first and last occurrence", async () => {
    const lines = Array.from(
      { length: 100 },
      (_, i) => `${new Date(BASE + i * 1000).toISOString()} INFO health check ok latency=${i}ms`,
    );
    const excerpt = await reduceLogs(lines, { tokenBudget: 1000, tailLines: 0 });
    expect(excerpt.text.split("\n")).toEqual([
      "2024-05-01T12:00:00.000Z INFO health check ok latency=0ms [×100, first 12:00:00, last 12:01:39]",
      "2024-05-01T12:01:39.000Z INFO health check ok latency=99ms [last of ×100]",
      "[rollout-medic log excerpt: 100 lines, 2 shown, 1 distinct templates]",
    ]);
  });

  it("uses line numbers for repeated lines without timestamps", async () => {
    const lines = ["tick 1", "tick 2", "tick 3"];
    const excerpt = await reduceLogs(lines, { tokenBudget: 1000, tailLines: 0 });
    expect(excerpt.text.split("\n")[0]).toBe("tick 1 [×3, lines 1–3]");
  });

  it("keeps the original order of kept lines", async () => {
    const { lines } = generate(5_000, 5);
    const excerpt = await reduceLogs(lines, { tokenBudget: 4000 });
    let cursor = -1;
    for (const shown of excerpt.text.split("\n").slice(0, -1)) {
      const next = lines.indexOf(shown.replace(/ \[(?:×|last of ×)[^\]]*\]$/, ""), cursor + 1);
      expect(next).toBeGreaterThan(cursor);
      cursor = next;
    }
  });

  it("prefers lines whose template is not in the stable baseline", async () => {
    const common = (i: number) => `${ts(i)} INFO common ${word(i % 40)} step done in ${i}ms`;
    const stable = Array.from({ length: 4000 }, (_, i) => common(i));
    const canaryOnly = Array.from(
      { length: 10 },
      (_, k) => `${ts(5000 + k)} INFO canary ${word(100 + k)} path taken`,
    );
    const canary = [...Array.from({ length: 4000 }, (_, i) => common(i)), ...canaryOnly];
    const baseline = await buildLogBaseline(stable);
    expect(baseline.templateKeys.size).toBe(40);
    expect(baseline.totalLines).toBe(4000);

    const excerpt = await reduceLogs(canary, { tokenBudget: 500, baseline, tailLines: 0 });
    expect(excerpt.tokens).toBeLessThanOrEqual(500);
    for (const line of canaryOnly) expect(excerpt.text).toContain(line);
    const commonShown = excerpt.text.split("\n").filter((l) => l.includes(" INFO common ")).length;
    expect(commonShown).toBeLessThan(40);
    expect(excerpt.text).toMatch(/not seen in stable logs/);
  });

  it("marks errors that the stable version logs too", async () => {
    const baseline = await buildLogBaseline(["2024-05-01T11:00:00Z ERROR cache miss storm"]);
    const excerpt = await reduceLogs(
      ["2024-05-01T12:00:00Z ERROR cache miss storm", "2024-05-01T12:00:01Z ERROR new canary failure"],
      { tokenBudget: 500, baseline },
    );
    expect(excerpt.text).toContain("ERROR cache miss storm [also in stable logs]");
    expect(excerpt.text).toContain("ERROR new canary failure");
  });

  it("never lets secrets from log lines into the excerpt", async () => {
    const token = ["gh", "p_", "Zq3Xv8Lm2Nw5Rt7Yp4Ks9Dh6Fj1Gc0Bb2Aa3Ee4"].join("");
    const password = ["hunter", "Q7pL2x"].join("");
    const keyBody = ["MIIEow", "IBAAKCAQEA7Zq3Xv8Lm2Nw5Rt7Yp4Ks9Dh6Fj1Gc0Bb2Aa3Ee4Qq5Ww6Rr7Tt8Y"].join("");
    const lines = [
      `2024-05-01T12:00:00Z INFO cloning with token ${token}`,
      `2024-05-01T12:00:01Z ERROR login failed password=${password} user=svc`,
      `2024-05-01T12:00:02Z INFO db url postgres://app:${password}@db:5432/orders`,
      "-----BEGIN RSA PRIVATE KEY-----",
      keyBody,
      keyBody.split("").reverse().join(""),
      "-----END RSA PRIVATE KEY-----",
      "2024-05-01T12:00:03Z INFO done",
    ];
    const excerpt = await reduceLogs(lines, { tokenBudget: 2000 });
    expect(excerpt.text).not.toContain(token);
    expect(excerpt.text).not.toContain(password);
    expect(excerpt.text).not.toContain(keyBody);
    expect(excerpt.text).not.toContain(keyBody.split("").reverse().join(""));
    expect(excerpt.text).toContain("[REDACTED:github-token]");
    expect(excerpt.text).toContain("INFO done");
    expect(excerpt.stats.privateKeyLines).toBeGreaterThanOrEqual(2);
  });

  it("cuts a 1 MB line to maxLineLength", async () => {
    const huge = "x".repeat(1_000_000);
    const excerpt = await reduceLogs(["before", huge, "after"], { tokenBudget: 2000 });
    const kept = excerpt.text.split("\n").find((l) => l.startsWith("xxx")) ?? "";
    expect(kept.length).toBeLessThan(2100);
    expect(kept).toContain("…[line cut: 1000000 bytes]");
    expect(excerpt.stats.cutLines).toBe(1);
    expect(excerpt.tokens).toBeLessThanOrEqual(2000);
  });

  it("cuts a long line at a token boundary so a secret is not half kept", async () => {
    const secret = ["gh", "p_", "Zq3Xv8Lm2Nw5Rt7Yp4Ks9Dh6Fj1Gc0Bb2Aa3Ee4"].join("");
    const line = `${"word ".repeat(398)}abc ${secret} ${"tail ".repeat(100)}`;
    const excerpt = await reduceLogs([line], { tokenBudget: 4000, maxLineLength: 2000 });
    expect(excerpt.text).not.toContain(secret.slice(0, 12));
    expect(excerpt.text).toContain("…[line cut:");
  });

  it("keeps a Python traceback whole and tells tracebacks apart by their exception", async () => {
    const traceback = (exception: string) => [
      "Traceback (most recent call last):",
      '  File "/app/main.py", line 10, in <module>',
      "    run()",
      '  File "/app/jobs.py", line 42, in run',
      "    int(value)",
      exception,
    ];
    const lines = [
      ...traceback("ValueError: invalid literal for int() with base 10: 'x'"),
      "INFO retry",
      ...traceback("KeyError: 'customer_id'"),
      "INFO retry",
      ...traceback("ValueError: invalid literal for int() with base 10: 'x'"),
    ];
    const excerpt = await reduceLogs(lines, { tokenBudget: 2000, tailLines: 0 });
    expect(excerpt.errorLines).toBe(3);
    expect(excerpt.text).toContain("ValueError: invalid literal for int() with base 10: 'x'");
    expect(excerpt.text).toContain("KeyError: 'customer_id'");
    expect(excerpt.text).toContain('  File "/app/jobs.py", line 42, in run');
    expect(excerpt.text).toMatch(/Traceback \(most recent call last\): \[×2, lines 1–15\]/);
  });

  it("keeps a Go panic with its goroutine dump", async () => {
    const lines = [
      "2024-05-01T12:00:00Z INFO serving",
      "panic: runtime error: invalid memory address or nil pointer dereference",
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
      "",
      "goroutine 1 [running]:",
      "main.(*Server).handle(0xc000010000, {0x6b2f40, 0xc000120000})",
      "\t/app/server.go:42 +0x1d",
      "main.main()",
      "\t/app/main.go:12 +0x65",
      "exit status 2",
    ];
    const excerpt = await reduceLogs(lines, { tokenBudget: 2000 });
    expect(excerpt.errorLines).toBe(1);
    for (const line of lines.filter((l) => l !== "")) expect(excerpt.text).toContain(line);
  });

  it("respects the template cap and still keeps errors that arrive after it is full", async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `INFO distinct ${word(i)} event`);
    const errors = Array.from({ length: 10 }, (_, k) => `ERROR late ${word(5000 + k)} failure`);
    const excerpt = await reduceLogs([...lines, ...errors], { tokenBudget: 3000, maxTemplates: 100 });
    expect(excerpt.stats.templateCap).toBe(100);
    expect(excerpt.stats.templatesTracked).toBeLessThanOrEqual(100);
    expect(excerpt.stats.untrackedLines).toBeGreaterThanOrEqual(900);
    expect(excerpt.stats.templatesEvicted).toBeGreaterThan(0);
    expect(excerpt.truncated).toBe(true);
    for (const error of errors) expect(excerpt.text).toContain(error);
    expect(excerpt.text).toMatch(/beyond the template caps not tracked/);
  });

  it("bounds the stack trace lines held per error", async () => {
    const frames = Array.from(
      { length: 500 },
      (_, i) => `\tat com.acme.Deep.frame${word(i)}(Deep.java:${i})`,
    );
    const lines = ["ERROR java.lang.StackOverflowError: deep", ...frames, "Caused by: java.lang.Error: root"];
    const excerpt = await reduceLogs(lines, { tokenBudget: 4000, maxStackLines: 40 });
    expect(excerpt.stats.blockLinesStored).toBeLessThanOrEqual(41);
    expect(excerpt.text).toContain("Caused by: java.lang.Error: root");
    expect(excerpt.text).toMatch(/… \d+ more trace lines/);
  });

  it("reads the same excerpt from a file as from an array of lines", async () => {
    const { lines } = generate(20_000, 5);
    const dir = await mkdtemp(join(tmpdir(), "reduce-logs-"));
    try {
      const file = join(dir, "canary.log");
      await writeFile(file, lines.join("\r\n") + "\r\n");
      const fromFile = await reduceLogs(readLogLines(file), { tokenBudget: 3000 });
      const fromArray = await reduceLogs(lines, { tokenBudget: 3000 });
      expect(fromFile.text).toBe(fromArray.text);
      expect(fromFile.totalLines).toBe(lines.length);
      const baseline = await buildLogBaseline(readLogLines(file));
      expect(baseline.totalLines).toBe(lines.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("readLogLines", () => {
  it("splits a stream into lines across chunk boundaries and drops CR", async () => {
    const stream = Readable.from([
      Buffer.from("alpha\r\nbe"),
      Buffer.from("ta\n"),
      Buffer.from("gam"),
      Buffer.from("ma"),
    ]);
    const out: string[] = [];
    for await (const line of readLogLines(stream)) out.push(line);
    expect(out).toEqual(["alpha", "beta", "gamma"]);
  });

  it("keeps multi-byte characters split across chunks intact", async () => {
    const bytes = Buffer.from("größe ✓\nok\n");
    const stream = Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)]);
    const out: string[] = [];
    for await (const line of readLogLines(stream)) out.push(line);
    expect(out).toEqual(["größe ✓", "ok"]);
  });

  it("lets reduceLogs read a stream whose single line spans many chunks", async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.from("y".repeat(65_536)));
    const stream = Readable.from([Buffer.from("first\n"), ...chunks, Buffer.from("\nlast\n")]);
    const excerpt = await reduceLogs(readLogLines(stream), { tokenBudget: 2000 });
    expect(excerpt.totalLines).toBe(3);
    expect(excerpt.text).toContain(`…[line cut: ${20 * 65_536} bytes]`);
    expect(excerpt.text).toContain("first");
    expect(excerpt.text).toContain("last");
  });
});
