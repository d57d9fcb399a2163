import { describe, expect, it } from "vitest";
import {
  formatMemoryQuantity,
  GI,
  MI,
  parseMemoryQuantity,
  raiseMemoryLimit,
} from "../../agent/playbooks/memory-quantity.js";

describe("memory quantities", () => {
  it.each([
    ["256Mi", 256 * MI],
    ["1Gi", GI],
    ["1.5Gi", 1.5 * GI],
    ["512M", 512e6],
    ["1e9", 1e9],
    ["134217728", 134217728],
    [" 64Ki ", 64 * 1024],
  ])("parses %s", (text, bytes) => {
    expect(parseMemoryQuantity(text)).toBe(bytes);
  });

  it.each(["", "lots", "12Xi", "-1Gi"])("rejects %j", (text) => {
    expect(parseMemoryQuantity(text)).toBeNull();
  });

  it("formats in binary units, whole Gi when exact", () => {
    expect(formatMemoryQuantity(384 * MI)).toBe("384Mi");
    expect(formatMemoryQuantity(2 * GI)).toBe("2Gi");
    expect(formatMemoryQuantity(1536 * MI)).toBe("1536Mi");
    expect(formatMemoryQuantity(1e9)).toBe("954Mi");
  });

  it.each([
    ["256Mi", "384Mi"],
    ["512Mi", "768Mi"],
    ["128Mi", "192Mi"],
    ["100Mi", "192Mi"],
    ["32Mi", "64Mi"],
    ["700Mi", "1280Mi"],
    ["1Gi", "1536Mi"],
    ["1536Mi", "2304Mi"],
    ["2Gi", "3Gi"],
    ["3Gi", "4608Mi"],
    ["512M", "768Mi"],
  ])("raises %s to %s (1.5×, rounded up to 64Mi below 1Gi, 256Mi from 1Gi on)", (from, to) => {
    const raised = raiseMemoryLimit(parseMemoryQuantity(from) ?? 0);
    expect(formatMemoryQuantity(raised)).toBe(to);
    expect(raised).toBeGreaterThanOrEqual(1.5 * (parseMemoryQuantity(from) ?? 0));
  });
});
