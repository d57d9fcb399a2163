import { describe, it, expect } from "vitest";
import { Tiktoken } from "js-tiktoken/lite";
import cl100kBase from "js-tiktoken/ranks/cl100k_base";
import { countTokens, estimateTokens } from "../../agent/logs/count-tokens.js";

describe("countTokens", () => {
  it("counts tokens with the bundled cl100k_base encoding", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens("hello world")).toBe(2);
  });

  it("matches a full cl100k_base encoder exactly on text without long runs", () => {
    const full = new Tiktoken(cl100kBase);
    const samples = [
      "2024-05-01T12:00:00.000Z INFO request served method=GET path=/api/v1/users/42 status=200 duration=12ms",
      '{"level":"error","msg":"db down","err":"dial tcp 10.0.0.5:5432: connect: connection refused"}',
      "\tat com.example.db.Pool.acquire(Pool.java:42)\nCaused by: java.net.ConnectException",
      "Größe überschritten: 12 ✓ 日本語のテキスト 🚀🚀 \u200b",
      "don't we'll I'M   \n\n\t  x  ",
      "123456789 3.14159 0xdeadbeef aGVsbG8gd29ybGQ=",
      "The canary failed its analysis because the error rate exceeded the threshold.",
    ];
    for (const text of samples) expect(countTokens(text)).toBe(full.encode(text, [], []).length);
    const joined = samples.join("\n");
    expect(countTokens(joined)).toBe(full.encode(joined, [], []).length);
  });

  it("treats special-token markers in untrusted text as plain text instead of throwing", () => {
    expect(countTokens("<|endoftext|> and <|im_start|>")).toBeGreaterThan(3);
  });

  it("counts long runs of one character in slices instead of stalling in the byte-pair merge", () => {
    const run = "x".repeat(20_000);
    expect(countTokens(run)).toBeGreaterThan(1000);
    expect(countTokens(`${"=".repeat(5000)} done`)).toBeGreaterThan(100);
  });

  it("grows with the text", () => {
    const line = "2024-05-01T12:00:00.000Z INFO request served path=/api/v1/users/42 status=200\n";
    expect(countTokens(line.repeat(10))).toBeGreaterThan(countTokens(line) * 9);
  });
});

describe("estimateTokens", () => {
  it("is zero for empty text and within a factor of two of the real count for log text", () => {
    expect(estimateTokens("")).toBe(0);
    const text =
      "2024-05-01T12:00:00.000Z INFO request served path=/api/v1/users/42 status=200 duration=12ms\n".repeat(
        50,
      );
    const real = countTokens(text);
    const estimate = estimateTokens(text);
    expect(estimate).toBeGreaterThan(real / 2);
    expect(estimate).toBeLessThan(real * 2);
  });
});
