import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { evidence, logSource, uniqueEvidence } from "./evidence.js";
import { canaryOnlyLines, isErrorLine, logLines } from "./log-lines.js";

const KINDS: { kind: string; pattern: RegExp }[] = [
  {
    kind: "dns",
    pattern:
      /no such host|ENOTFOUND|EAI_AGAIN|UnknownHostException|Name or service not known|Temporary failure in name resolution|could not translate host name|nodename nor servname|getaddrinfo|server misbehaving|unknown host/i,
  },
  { kind: "refused", pattern: /connection refused|ECONNREFUSED|Connection reset by peer|ECONNRESET/i },
  {
    kind: "timeout",
    pattern:
      /i\/o timeout|ETIMEDOUT|connect(?:ion)? timed out|timed out (?:while )?(?:connecting|waiting for connection)|connect timeout|deadline exceeded.*(?:dial|connect)/i,
  },
  { kind: "unreachable", pattern: /no route to host|network is unreachable|EHOSTUNREACH|ENETUNREACH/i },
  {
    kind: "connect",
    pattern:
      /could not connect|couldn't connect|failed to connect|unable to connect|cannot connect|can't connect|Communications link failure|error connecting to|connection (?:to \S+ )?failed/i,
  },
  {
    kind: "connect",
    pattern:
      /retrying (?:the )?connect(?:ion)? to|reconnecting to|(?:db|database) (?:is )?(?:unavailable|unreachable|down)|waiting for (?:the )?(?:db|database)/i,
  },
];

const HOST_PATTERNS = [
  /lookup ([\w.-]+)(?: on [^\s:]+:\d+)?: /i,
  /(?:ENOTFOUND|EAI_AGAIN|UnknownHostException:?)\s+([\w.-]+)/,
  /(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)\s+([\w.[\]:-]+)/,
  /dial tcp ([\w.[\]:-]+?):\s/i,
  /host(?: name)? "([^"]+)"/i,
  /\b[a-z][a-z0-9+.-]*:\/\/(?:[^@\s/]+@)?([\w.-]+(?::\d+)?)/i,
  /\b(?:connection|connect|connecting|reconnecting) to ["']?([a-z][\w.-]*(?::\d{2,5})?)/i,
  /\b(?:to|at|host[=:]?|addr(?:ess)?[=:]?)\s*["'[(]?([a-z][\w-]*(?:\.[\w-]+)*:\d{2,5}|\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|[a-z][\w-]*(?:\.[\w-]+)+)/i,
];

export function dependencyErrorKind(line: string): string | undefined {
  return KINDS.find((k) => k.pattern.test(line))?.kind;
}

export function dependencyHost(line: string): string | undefined {
  for (const pattern of HOST_PATTERNS) {
    const host = pattern.exec(line)?.[1];
    if (host) return host.replace(/[.:]+$/, "");
  }
  return undefined;
}

/**
 * The canary cannot reach a dependency: connection errors in canary logs that stable does not print.
 * It explains readiness failures and error rates only when these errors dominate the canary's errors.
 */
export function findDependencyUnreachable(incident: Incident): Finding[] {
  const stableHosts = new Set(
    logLines(incident, "stable")
      .filter((l) => dependencyErrorKind(l.text))
      .map((l) => dependencyHost(l.text) ?? "?"),
  );
  const canaryErrors = canaryOnlyLines(incident).filter(
    (l) => isErrorLine(l.text) || dependencyErrorKind(l.text),
  );
  const hits = canaryErrors
    .map((line) => ({ line, kind: dependencyErrorKind(line.text), host: dependencyHost(line.text) }))
    .filter((h): h is typeof h & { kind: string } => h.kind !== undefined)
    // A dependency stable also fails to reach is an outage of its own, not what broke this canary.
    .filter((h) => !stableHosts.has(h.host ?? "?"));
  if (hits.length === 0) return [];

  // Weighted by the reducer's repeat counts: "dominate" is about how often, not how many distinct lines.
  const weight = (line: { count: number }) => line.count;
  // The most specific kind present names the failure best: a refusal or a failed lookup over "could not connect".
  const kind = KINDS.map((k) => k.kind).find((k) => hits.some((h) => h.kind === k)) ?? "connect";
  const byHost = new Map<string, number>();
  for (const h of hits) {
    if (h.host && h.kind === kind) byHost.set(h.host, (byHost.get(h.host) ?? 0) + weight(h.line));
  }
  const isAddress = (host: string) => /^[\d.:[\]]+$/.test(host);
  // Names tell a reader more than addresses; a tie goes to the name.
  const host = [...byHost.entries()].sort(
    (a, b) => b[1] - a[1] || Number(isAddress(a[0])) - Number(isAddress(b[0])),
  )[0]?.[0];
  const occurrences = hits.reduce((n, h) => n + weight(h.line), 0);
  const errorOccurrences = Math.max(
    1,
    canaryErrors.reduce((n, l) => n + weight(l), 0),
  );
  const share = occurrences / errorOccurrences;
  const confidence = share >= 0.5 ? (occurrences >= 2 ? 0.85 : 0.7) : share >= 0.3 ? 0.45 : 0.3;

  const facts: Record<string, string | number | boolean> = {
    errorKind: kind,
    errorLines: occurrences,
    shareOfErrors: Math.round(share * 100) / 100,
  };
  if (host) facts["host"] = host;
  const container = hits[0]?.line.log.container;
  if (container) facts["container"] = container;
  const preferred = host ? hits.filter((h) => h.host === host) : hits;
  const words: Record<string, string> = {
    dns: "cannot resolve",
    refused: "is refused by",
    timeout: "times out connecting to",
    unreachable: "has no route to",
    connect: "cannot connect to",
  };
  return [
    {
      category: "dependency-unreachable",
      analyzer: "findDependencyUnreachable",
      summary: `Canary of ${incident.rollout.name} ${words[kind] ?? "cannot reach"} ${host ?? "a dependency"} (${
        occurrences
      } connection error${occurrences === 1 ? "" : "s"} logged, ${Math.round(share * 100)}% of its errors)`,
      evidence: uniqueEvidence(
        preferred.map((h) =>
          evidence(
            logSource(h.line.log.pod, h.line.log.container),
            `${h.line.log.previous ? "previous: " : ""}${h.line.text}`,
          ),
        ),
        4,
      ),
      confidence,
      rank: RANK["dependency-unreachable"],
      facts,
    },
  ];
}
