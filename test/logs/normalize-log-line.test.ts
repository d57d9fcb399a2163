import { describe, it, expect } from "vitest";
import {
  LINE_ERROR,
  LINE_PEM_MARKER,
  LINE_WARN,
  createLineScan,
  normalizeLogLine,
  scanLine,
  templateKey,
} from "../../agent/logs/normalize-log-line.js";

function scan(line: string) {
  const bytes = Buffer.from(line, "utf8");
  const out = createLineScan();
  scanLine(bytes, 0, bytes.length, out);
  return out;
}

describe("normalizeLogLine", () => {
  it("strips leading RFC 3339 timestamps, also a collector's followed by the application's", () => {
    expect(normalizeLogLine("2024-05-01T12:00:00.123456789Z INFO ready")).toBe("INFO ready");
    expect(normalizeLogLine("2024-05-01T12:00:00+02:00 INFO ready")).toBe("INFO ready");
    expect(normalizeLogLine("2024-05-01T12:00:00.1Z 2024-05-01 12:00:00,100 INFO ready")).toBe("INFO ready");
    expect(normalizeLogLine("[2024-05-01 12:00:00,123] INFO ready")).toBe("INFO ready");
    expect(normalizeLogLine("2024/05/01 12:00:00 ready")).toBe("ready");
  });

  it("strips klog headers, epoch and syslog timestamps", () => {
    expect(normalizeLogLine("I0501 12:00:00.123456   12345 controller.go:42] synced")).toBe(
      "controller.go:<n>] synced",
    );
    expect(normalizeLogLine("1714564800.123 tick")).toBe("tick");
    expect(normalizeLogLine("1714564800123 tick")).toBe("tick");
    expect(normalizeLogLine("May  1 12:00:00 host app[7]: up")).toBe("host app[<n>]: up");
  });

  it("replaces UUIDs, IPs, hex ids, numbers and durations with placeholders", () => {
    expect(
      normalizeLogLine(
        "GET /api/v1/orders/123 status=200 took=15ms id=5913b75c-6c48-4b73-a92a-992a7b788616 from=10.0.4.7 sha=3f2a9c1d8e7b",
      ),
    ).toBe("GET /api/<id>/orders/<n> status=<n> took=<dur> id=<uuid> from=<ip> sha=<hex>");
    expect(normalizeLogLine("retrying in 1m30s (attempt 3.5)")).toBe("retrying in <dur> (attempt <n>)");
    expect(normalizeLogLine("pc=0x4a1b2c")).toBe("pc=<hex>");
  });

  it("replaces quoted ids but keeps quoted words", () => {
    expect(normalizeLogLine('{"level":"info","worker":"worker-7","batch":12}')).toBe(
      '{"level":"info","worker":"<id>","batch":<n>}',
    );
    expect(normalizeLogLine("user='u-42' said 'hello'")).toBe("user='<id>' said 'hello'");
  });

  it("gives lines that differ only in variable parts the same template", () => {
    const a =
      "2024-05-01T12:00:00Z INFO served /users/1 in 3ms for 10.0.0.1 req=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    const b =
      "2024-05-01T13:59:59Z INFO served /users/987 in 250ms for 192.168.1.20 req=11111111-2222-4333-8444-555555555555";
    expect(normalizeLogLine(a)).toBe(normalizeLogLine(b));
    expect(normalizeLogLine("INFO served /users/1")).not.toBe(normalizeLogLine("INFO served /orders/1"));
  });

  it("keeps non-ASCII text", () => {
    expect(normalizeLogLine("Größe überschritten: 12 ✓")).toBe("Größe überschritten: <n> ✓");
  });
});

describe("scanLine", () => {
  const samples = [
    "2024-05-01T12:00:00.000Z INFO request served method=GET path=/api/v1/orders/1 status=200 duration=2ms",
    '{"ts":"2024-05-01T12:00:00.021Z","level":"info","msg":"processed batch","batch":7,"worker":"worker-7"}',
    "I0501 12:00:00.123456   12345 controller.go:123] Reconciling rollout web-7d4b9c8f6-x2k9p took 1h2m3.5s",
    "[2024-05-01 12:00:00,123] ERROR java.lang.NullPointerException: boom at 0x7ffe12",
    "May  1 12:00:00 host app[123]: commit deadbeef1 sha=0123456789abcdef0123456789abcdef01234567",
    "héllo wörld 12 ✓ 'q-1' \"x\"",
    "",
    "   at com.foo.Bar(Bar.java:12)",
  ];

  it("computes the same key as templateKey of the normalized line", () => {
    for (const line of samples) expect(scan(line).key).toBe(templateKey(normalizeLogLine(line)));
  });

  it("flags error, exception, panic, fatal and traceback lines", () => {
    const errors = [
      "ERROR payment failed",
      "level=error msg=boom",
      '{"level":"error","msg":"x"}',
      '{"level":50,"msg":"db down"}',
      "panic: runtime error: index out of range",
      "FATAL: could not bind",
      "java.lang.IllegalStateException: pool exhausted",
      "TypeError: undefined is not a function",
      "Traceback (most recent call last):",
      "E0501 12:00:00.123456       1 reconcile.go:9] failed",
      "container was OOMKilled",
      "[CRITICAL] disk full",
    ];
    for (const line of errors) expect(scan(line).flags & LINE_ERROR).toBe(LINE_ERROR);
  });

  it("does not flag lines that only mention errors in passing", () => {
    const fine = [
      "INFO request served status=200",
      "error_count=0 retries=1",
      "error=null status=ok",
      '{"error":"","status":"ok"}',
      "mirror synced",
      "processed 3 errors_total metrics",
    ];
    for (const line of fine) expect(scan(line).flags & LINE_ERROR).toBe(0);
  });

  it("flags warnings and PEM armour markers", () => {
    expect(scan("WARN slow query").flags & LINE_WARN).toBe(LINE_WARN);
    expect(scan("W0501 12:00:00.123456       1 x.go:1] slow").flags & LINE_WARN).toBe(LINE_WARN);
    expect(scan("-----BEGIN RSA PRIVATE KEY-----").flags & LINE_PEM_MARKER).toBe(LINE_PEM_MARKER);
  });

  it("reports where the content starts after the timestamp", () => {
    const out = scan("2024-05-01T12:00:00Z \tat com.foo.Bar(Bar.java:1)");
    expect(out.timestampEnd).toBe(20);
    expect(out.contentStart).toBe(21);
  });
});
