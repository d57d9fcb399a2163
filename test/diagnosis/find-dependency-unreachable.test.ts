import { describe, expect, it } from "vitest";
import {
  dependencyHost,
  findDependencyUnreachable,
} from "../../agent/diagnosis/analyzers/find-dependency-unreachable.js";
import { CANARY_POD, STABLE_POD, incident, log } from "./incident-builder.js";

describe("findDependencyUnreachable", () => {
  it("reports a host the canary cannot reach when those errors dominate", () => {
    const [finding] = findDependencyUnreachable(
      incident({
        logs: [
          log(STABLE_POD, "stable", ["INFO serving on :8080", "INFO connected to postgres.shop.svc:5432"]),
          log(CANARY_POD, "canary", [
            "2024-05-01T09:59:01Z ERROR db ping failed: dial tcp 10.0.3.4:5433: connect: connection refused",
            "2024-05-01T09:59:06Z ERROR db ping failed: dial tcp 10.0.3.4:5433: connect: connection refused",
            "2024-05-01T09:59:07Z ERROR GET /ready 503",
          ]),
        ],
      }),
    );
    expect(finding?.category).toBe("dependency-unreachable");
    expect(finding?.facts).toMatchObject({ host: "10.0.3.4:5433", errorKind: "refused" });
    expect(finding?.confidence).toBeGreaterThan(0.8);
  });

  it("ignores connection errors stable logs as well", () => {
    const line = "WARN redis: dial tcp 10.0.9.9:6379: i/o timeout, retrying";
    const findings = findDependencyUnreachable(
      incident({
        logs: [
          log(STABLE_POD, "stable", [line]),
          log(CANARY_POD, "canary", [line.replace("retrying", "retrying (2)")]),
        ],
      }),
    );
    expect(findings).toEqual([]);
  });

  it("is only a hint when other errors dominate", () => {
    const [finding] = findDependencyUnreachable(
      incident({
        logs: [
          log(CANARY_POD, "canary", [
            "ERROR getaddrinfo ENOTFOUND metrics-collector",
            "ERROR TypeError: Cannot read properties of undefined (reading 'total')",
            "ERROR TypeError: Cannot read properties of undefined (reading 'items')",
            "ERROR TypeError: Cannot read properties of undefined (reading 'sku')",
          ]),
        ],
      }),
    );
    expect(finding?.confidence).toBeLessThan(0.5);
  });

  it.each([
    [
      "dial tcp: lookup payments.shop.svc.cluster.local on 10.96.0.10:53: no such host",
      "payments.shop.svc.cluster.local",
    ],
    ["Error: connect ECONNREFUSED 10.0.0.7:6379", "10.0.0.7:6379"],
    ["getaddrinfo ENOTFOUND inventory-api", "inventory-api"],
    ['could not translate host name "orders-db" to address', "orders-db"],
    [
      "request to http://pricing.shop:8080/v1/prices failed, reason: connect ECONNREFUSED",
      "pricing.shop:8080",
    ],
  ])("extracts the host from %s", (line, host) => {
    expect(dependencyHost(line)).toBe(host);
  });
});
