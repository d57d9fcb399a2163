/**
 * Kubernetes label selectors in their string form (`a=b,c!=d,e in (f,g),!h`), matched locally by the
 * scenario cluster exactly as the API server would filter.
 */
type Requirement =
  | { key: string; op: "=" | "!="; values: [string] }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists"; values: [] };

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (current.trim() !== "") parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

export function parseLabelSelector(selector: string): Requirement[] {
  return splitTopLevel(selector).map((part): Requirement => {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set) {
      const values = set[3]!
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      return { key: set[1]!, op: set[2] as "in" | "notin", values };
    }
    const eq = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (eq) return { key: eq[1]!, op: eq[2] === "!=" ? "!=" : "=", values: [eq[3]!] };
    if (part.startsWith("!")) return { key: part.slice(1).trim(), op: "!exists", values: [] };
    if (/^[^\s!=(),]+$/.test(part)) return { key: part, op: "exists", values: [] };
    throw new Error(`invalid label selector "${selector}" near "${part}"`);
  });
}

export function matchesLabelSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  const have = labels ?? {};
  return parseLabelSelector(selector).every((req) => {
    const value = have[req.key];
    switch (req.op) {
      case "=":
        return value === req.values[0];
      case "!=":
        return value !== req.values[0];
      case "in":
        return value !== undefined && req.values.includes(value);
      case "notin":
        return value === undefined || !req.values.includes(value);
      case "exists":
        return value !== undefined;
      case "!exists":
        return value === undefined;
    }
  });
}

export function selectorFromLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
