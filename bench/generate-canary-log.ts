import { createWriteStream } from "node:fs";
import { once } from "node:events";

const SUBJECTS = [
  "cart",
  "checkout",
  "payment",
  "inventory",
  "shipping",
  "pricing",
  "coupon",
  "tax",
  "search",
  "profile",
];
const FAILURES = [
  "has no line items",
  "lost its session",
  "timed out waiting for lock",
  "returned an empty currency",
  "rejected a negative quantity",
];

/**
 * Writes a realistic canary log of about `megabytes` MB: access lines with ids and timings, repeated
 * warnings, JSON lines, and `planted` distinct error lines with stack traces spread through the file.
 * Returns the planted error lines so recall can be measured.
 */
export async function generateCanaryLog(file: string, megabytes: number, planted = 50): Promise<string[]> {
  const target = megabytes * 1024 * 1024;
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const plantedLines: string[] = [];
  let written = 0;
  let n = 0;
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const hex = (len: number) => {
    let s = "";
    while (s.length < len)
      s += Math.floor(rand() * 0xffffffff)
        .toString(16)
        .padStart(8, "0");
    return s.slice(0, len);
  };
  const paths = [
    "/api/v1/cart",
    "/api/v1/checkout",
    "/api/v1/items/{id}",
    "/healthz",
    "/metrics",
    "/api/v1/orders",
  ];
  const nextPlantAt = (i: number) => Math.floor(((i + 1) * target) / (planted + 1));
  let plantIndex = 0;
  let buffer = "";
  const start = Date.parse("2026-11-27T10:00:00Z");
  while (written < target) {
    n++;
    const ts = new Date(start + n * 3).toISOString();
    const r = rand();
    let line: string;
    if (r < 0.7) {
      const p = paths[Math.floor(rand() * paths.length)]!.replace(
        "{id}",
        String(Math.floor(rand() * 100000)),
      );
      line = `${ts} INFO  http request method=GET path=${p} status=200 duration_ms=${(rand() * 80).toFixed(2)} request_id=${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} bytes=${Math.floor(rand() * 9000)}`;
    } else if (r < 0.85) {
      line = `${ts} WARN  connection pool usage high pool=orders-db in_use=${Math.floor(rand() * 50)} max=50 wait_ms=${Math.floor(rand() * 30)}`;
    } else if (r < 0.95) {
      line = `{"time":"${ts}","level":"info","msg":"cache refresh","keys":${Math.floor(rand() * 5000)},"took":"${(rand() * 4).toFixed(3)}s","trace_id":"${hex(32)}"}`;
    } else {
      line = `${ts} DEBUG gc pause heap_mb=${Math.floor(200 + rand() * 50)} pause_us=${Math.floor(rand() * 900)}`;
    }
    buffer += line + "\n";
    if (plantIndex < planted && written + buffer.length >= nextPlantAt(plantIndex)) {
      const id = plantIndex;
      // Distinct in words, not only in numbers: a reducer rightly folds lines that differ only by ids.
      const error = `${ts} ERROR unhandled exception in ${SUBJECTS[id % SUBJECTS.length]} ${FAILURES[Math.floor(id / SUBJECTS.length) % FAILURES.length]}: java.lang.IllegalStateException`;
      plantedLines.push(error);
      buffer +=
        `${error}\n` +
        `\tat com.acme.orders.OrderService.total(OrderService.java:${100 + id})\n` +
        `\tat com.acme.orders.OrderController.checkout(OrderController.java:${40 + id})\n` +
        `\tat java.base/java.lang.Thread.run(Thread.java:1583)\n`;
      plantIndex++;
    }
    if (buffer.length > 1 << 20) {
      written += buffer.length;
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  }
  if (buffer) out.write(buffer);
  out.end();
  await once(out, "finish");
  return plantedLines;
}
