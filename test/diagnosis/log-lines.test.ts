import { describe, expect, it } from "vitest";
import {
  canaryOnlyLines,
  isErrorLine,
  logLines,
  normalizeLogLine,
  splitOccurrenceNote,
} from "../../agent/diagnosis/analyzers/log-lines.js";
import { CANARY_POD, STABLE_POD, incident, log } from "./incident-builder.js";

describe("log lines", () => {
  it("normalises timestamps, numbers and ids", () => {
    expect(normalizeLogLine("2024-05-01T10:00:00.123Z ERROR req 5f2c9a1be3 took 42ms")).toBe(
      normalizeLogLine("2024-05-02T11:11:11Z ERROR req 77aa0b9c1d took 7ms"),
    );
  });

  it("keeps only lines stable does not print", () => {
    const lines = canaryOnlyLines(
      incident({
        logs: [
          log(STABLE_POD, "stable", [
            "2024-05-01T09:00:00Z ERROR cache miss storm for key user:17 (tolerated)",
          ]),
          log(CANARY_POD, "canary", [
            "2024-05-01T10:00:00Z ERROR cache miss storm for key user:99 (tolerated)",
            "2024-05-01T10:00:01Z ERROR payment gateway rejected request",
          ]),
        ],
      }),
    );
    expect(lines.map((l) => l.text)).toEqual(["ERROR payment gateway rejected request"]);
  });

  it("recognises error lines in common formats", () => {
    expect(isErrorLine('{"level":"error","msg":"boom"}')).toBe(true);
    expect(isErrorLine("level=error msg=boom")).toBe(true);
    expect(isErrorLine("java.lang.IllegalStateException: cart closed")).toBe(true);
    expect(isErrorLine("INFO listening on :8080")).toBe(false);
  });

  it("reads the reducer's occurrence notes and skips its summary line", () => {
    expect(splitOccurrenceNote("ERROR db down [×42, first 10:00:01, last 10:04:09]")).toEqual({
      text: "ERROR db down",
      count: 42,
      repeat: false,
      alsoInStable: false,
    });
    expect(splitOccurrenceNote("ERROR db down [last of ×42]")).toMatchObject({ count: 42, repeat: true });
    expect(
      splitOccurrenceNote("ERROR statsd push failed [×3, lines 1–9; also in stable logs]"),
    ).toMatchObject({
      alsoInStable: true,
    });
    const lines = logLines(
      incident({
        logs: [
          log(CANARY_POD, "canary", [
            "ERROR db down [×42, first 10:00:01, last 10:04:09]",
            "ERROR db down [last of ×42]",
            "    … 12 more trace lines",
            "[rollout-medic log excerpt: 900 lines, 3 shown, 2 distinct templates]",
          ]),
        ],
      }),
      "canary",
    );
    expect(lines.map((l) => [l.text, l.count])).toEqual([
      ["ERROR db down", 42],
      ["ERROR db down", 0],
    ]);
  });

  it("treats errors the reducer found in stable logs as shared noise", () => {
    const lines = canaryOnlyLines(
      incident({
        logs: [log(CANARY_POD, "canary", ["ERROR metrics exporter: push failed [also in stable logs]"])],
      }),
    );
    expect(lines).toEqual([]);
  });
});
