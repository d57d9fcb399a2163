import { describe, expect, it } from "vitest";
import { startupBudgetSeconds } from "../../agent/playbooks/probe-failure.js";
import { estimateStartupSeconds, parseDurationSeconds } from "../../agent/playbooks/startup-time.js";
import { incidentOf, log } from "./incident-factory.js";

describe("parseDurationSeconds", () => {
  it.each([
    ["1m32.5s", 92.5],
    ["850ms", 0.85],
    ["95.3 seconds", 95.3],
    ["2 min", 120],
    ["4500 milliseconds", 4.5],
    ["1h", 3600],
  ])("%s", (text, seconds) => {
    expect(parseDurationSeconds(text)).toBeCloseTo(seconds);
  });

  it("rejects what is not a duration", () => {
    expect(parseDurationSeconds("soon")).toBeNull();
  });
});

describe("estimateStartupSeconds", () => {
  const incident = (text: string) =>
    incidentOf({
      containers: [{ name: "app", image: "x:1" }],
      logs: [log("app-canary-1", "app", text, true)],
    });

  it("reads Spring Boot's started-in line", () => {
    const estimate = estimateStartupSeconds(
      incident(
        "2025-01-01T10:00:00Z INFO Started OrdersApplication in 94.3 seconds (process running for 96.1)\n",
      ),
      "app",
    );
    expect(estimate?.seconds).toBeCloseTo(94.3);
    expect(estimate?.source).toMatch(/previous instance/);
  });

  it("projects elapsed plus eta from progress lines, counted from the first line", () => {
    const text = [
      'time=2025-02-11T08:16:31.710Z level=INFO msg="starting"',
      'time=2025-02-11T08:16:41.934Z level=INFO msg="cache warm-up" progress=20% elapsed=9.3s eta=37.1s',
      'time=2025-02-11T08:16:55.860Z level=INFO msg="cache warm-up" progress=50% elapsed=23.2s eta=23.2s',
    ].join("\n");
    expect(estimateStartupSeconds(incident(text), "app")?.seconds).toBeCloseTo(24.15 + 23.2, 1);
  });

  it("ignores other containers and request timings", () => {
    expect(estimateStartupSeconds(incident("GET /api elapsed=0.2s\n"), "other")).toBeNull();
    expect(estimateStartupSeconds(incident("GET /api 200 elapsed=0.2s\n"), "app")?.seconds).toBeCloseTo(0.2);
  });
});

describe("startupBudgetSeconds", () => {
  it("adds half again, and at least 30 seconds", () => {
    expect(startupBudgetSeconds(47)).toBe(77);
    expect(startupBudgetSeconds(100)).toBe(150);
    expect(startupBudgetSeconds(10)).toBe(40);
  });
});
