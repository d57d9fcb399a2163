import { diffLines } from "diff";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  editEmbeddedYaml,
  ensureYamlValue,
  insertYamlEntry,
  readYamlValues,
  renderScalarLike,
  setYamlScalar,
} from "../../agent/workspace/edit-yaml-value.js";

const CONTAINERS = ["spec", "template", "spec", "containers", 0] as const;

/** A manifest the way teams write them: comments everywhere, mixed quoting, flow collections, odd spacing. */
const MANIFEST = `# -------------------------------------------------------------
# checkout: production      (owner: team-checkout)
# -------------------------------------------------------------
---
# the service
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}   # flow style
spec:
  ports:
  - name: http     # unindented sequence
    port: 80
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
  namespace: shop
  annotations:
    note: 'single: quoted'   # keep me
spec:
  replicas: 6   # six
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout   # main container
          image: "ghcr.io/acme/checkout:1.14.0"   # bumped by CI
          args: ["serve", "--port=8080"]
          ports:
            - name: http
              containerPort: 8080
          resources:
            # sized from the 1.13 heap profile
            requests:
              cpu: 250m     # a quarter
            limits:
              cpu: "1"
              memory: 256Mi # was 128Mi

              # trailing comment inside limits
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            initialDelaySeconds: 10   # ten
          # comment before securityContext
          securityContext:
            runAsNonRoot: true
`;

/** Lines removed and added by an edit, so tests can say exactly which lines may change. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.split("\n").filter((l, i, all) => !(i === all.length - 1 && l === ""));
    if (part.removed) removed.push(...lines);
    if (part.added) added.push(...lines);
  }
  return { removed, added };
}

describe("setYamlScalar", () => {
  it("changes only the value's characters, keeping the comment and quoting", () => {
    const after = setYamlScalar(MANIFEST, 1, [...CONTAINERS, "resources", "limits", "memory"], "384Mi");
    expect(changedLines(MANIFEST, after)).toEqual({
      removed: ["              memory: 256Mi # was 128Mi"],
      added: ["              memory: 384Mi # was 128Mi"],
    });
    const image = setYamlScalar(MANIFEST, 1, [...CONTAINERS, "image"], "ghcr.io/acme/checkout:1.13.2");
    expect(changedLines(MANIFEST, image).added).toEqual([
      '          image: "ghcr.io/acme/checkout:1.13.2"   # bumped by CI',
    ]);
  });

  it("edits inside flow collections and single quotes", () => {
    const after = setYamlScalar(MANIFEST, 1, [...CONTAINERS, "livenessProbe", "httpGet", "port"], 8080);
    expect(changedLines(MANIFEST, after).added).toEqual([
      "            httpGet: {path: /healthz, port: 8080}",
    ]);
    const quoted = setYamlScalar(MANIFEST, 1, ["metadata", "annotations", "note"], "it's");
    expect(changedLines(MANIFEST, quoted).added).toEqual(["    note: 'it''s'   # keep me"]);
  });

  it("quotes a plain value that would otherwise change type", () => {
    expect(renderScalarLike(null, "1.10")).toBe('"1.10"');
    expect(renderScalarLike(null, "true")).toBe('"true"');
    expect(renderScalarLike(null, "1.9.2")).toBe("1.9.2");
    expect(renderScalarLike(null, "384Mi")).toBe("384Mi");
    expect(renderScalarLike(null, 60)).toBe("60");
    const text = "image:\n  tag: 1.93\n";
    expect(setYamlScalar(text, 0, ["image", "tag"], "1.10")).toBe('image:\n  tag: "1.10"\n');
  });

  it("refuses aliases, block scalars and missing nodes with a reason", () => {
    const text = "a: &x 1\nb: *x\nc: |\n  text\n";
    expect(() => setYamlScalar(text, 0, ["b"], 2)).toThrow(/alias/);
    expect(() => setYamlScalar(text, 0, ["c"], "x")).toThrow(/block scalar/);
    expect(() => setYamlScalar(text, 0, ["d"], "x")).toThrow(/not a scalar/);
    expect(() => setYamlScalar(text, 3, ["a"], 1)).toThrow(/no YAML document #4/);
  });
});

describe("insertYamlEntry and ensureYamlValue", () => {
  it("inserts a startupProbe after the livenessProbe with the siblings' indentation", () => {
    const after = insertYamlEntry(
      MANIFEST,
      1,
      CONTAINERS,
      "startupProbe",
      { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10, failureThreshold: 12 },
      { after: ["livenessProbe"] },
    );
    const { removed, added } = changedLines(MANIFEST, after);
    expect(removed).toEqual([]);
    expect(added).toEqual([
      "          startupProbe:",
      "            httpGet:",
      "              path: /healthz",
      "              port: http",
      "            periodSeconds: 10",
      "            failureThreshold: 12",
    ]);
    // Inserted right after the probe, before the comment that belongs to securityContext.
    expect(after).toContain("            initialDelaySeconds: 10   # ten\n          startupProbe:\n");
    expect(after).toContain("            failureThreshold: 12\n          # comment before securityContext\n");
    const rollout = readYamlValues(after)[1] as {
      spec: { template: { spec: { containers: { startupProbe: unknown }[] } } };
    };
    expect(rollout.spec.template.spec.containers[0]?.startupProbe).toEqual({
      httpGet: { path: "/healthz", port: "http" },
      periodSeconds: 10,
      failureThreshold: 12,
    });
  });

  it("creates a missing key under the deepest existing mapping", () => {
    const after = ensureYamlValue(MANIFEST, 1, [...CONTAINERS, "resources", "requests", "memory"], "384Mi");
    expect(changedLines(MANIFEST, after)).toEqual({ removed: [], added: ["              memory: 384Mi"] });
    const nested = ensureYamlValue(
      MANIFEST,
      1,
      [...CONTAINERS, "securityContext", "capabilities", "drop"],
      "ALL",
    );
    expect(changedLines(MANIFEST, nested).added).toEqual([
      "            capabilities:",
      "              drop: ALL",
    ]);
  });

  it("follows a file that does not indent sequences", () => {
    const text = "spec:\n  ports:\n  - name: http\n    port: 80\n";
    const after = ensureYamlValue(text, 0, ["spec", "extra"], { list: ["a", "b"] } as unknown as Record<
      string,
      unknown
    >);
    expect(after).toBe(
      "spec:\n  ports:\n  - name: http\n    port: 80\n  extra:\n    list:\n    - a\n    - b\n",
    );
  });

  it("keeps Windows line endings", () => {
    const text = "spec:\r\n  limits:\r\n    cpu: 1\r\n";
    expect(ensureYamlValue(text, 0, ["spec", "limits", "memory"], "384Mi")).toBe(
      "spec:\r\n  limits:\r\n    cpu: 1\r\n    memory: 384Mi\r\n",
    );
    expect(setYamlScalar(text, 0, ["spec", "limits", "cpu"], 2)).toBe("spec:\r\n  limits:\r\n    cpu: 2\r\n");
  });

  it("refuses to insert into flow mappings or duplicate a key", () => {
    expect(() => insertYamlEntry(MANIFEST, 0, ["metadata"], "labels", { a: "b" })).toThrow(/flow mapping/);
    expect(() => insertYamlEntry(MANIFEST, 1, CONTAINERS, "image", "x")).toThrow(/exists already/);
  });
});

describe("edits on a manifest full of comments", () => {
  it("touch no line other than the edited values, and the result parses to the intended objects", () => {
    let text = MANIFEST;
    text = setYamlScalar(text, 1, [...CONTAINERS, "resources", "limits", "memory"], "384Mi");
    text = ensureYamlValue(text, 1, [...CONTAINERS, "resources", "requests", "memory"], "384Mi");
    text = setYamlScalar(text, 1, [...CONTAINERS, "livenessProbe", "initialDelaySeconds"], 60);
    const { removed, added } = changedLines(MANIFEST, text);
    expect(removed).toEqual([
      "              memory: 256Mi # was 128Mi",
      "            initialDelaySeconds: 10   # ten",
    ]);
    expect(added).toEqual([
      "              memory: 384Mi",
      "              memory: 384Mi # was 128Mi",
      "            initialDelaySeconds: 60   # ten",
    ]);
    const before = parseAllDocuments(MANIFEST).map((d) => d.toJS());
    const now = parseAllDocuments(text).map((d) => d.toJS());
    expect(now[0]).toEqual(before[0]);
    const container = now[1].spec.template.spec.containers[0];
    expect(container.resources).toEqual({
      requests: { cpu: "250m", memory: "384Mi" },
      limits: { cpu: "1", memory: "384Mi" },
    });
  });
});

describe("editEmbeddedYaml", () => {
  const KUSTOMIZATION = `resources:
  - ../../base
patches:
  # production sizing
  - target: {kind: Rollout, name: app}
    patch: |-
      # the limit
      - op: replace
        path: /spec/template/spec/containers/0/resources/limits/memory
        value: 256Mi   # prod
      - op: replace
        path: /spec/replicas
        value: 6
`;

  it("edits YAML inside a block scalar, re-indenting only the changed line", () => {
    const after = editEmbeddedYaml(KUSTOMIZATION, 0, ["patches", 0, "patch"], (inner) =>
      setYamlScalar(inner, 0, [0, "value"], "384Mi"),
    );
    expect(changedLines(KUSTOMIZATION, after)).toEqual({
      removed: ["        value: 256Mi   # prod"],
      added: ["        value: 384Mi   # prod"],
    });
  });

  it("refuses a value that is not a literal block", () => {
    expect(() => editEmbeddedYaml(KUSTOMIZATION, 0, ["resources", 0], (x) => x)).toThrow(/literal block/);
  });
});

describe("readYamlValues", () => {
  it("refuses a YAML alias bomb with a clear reason", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    expect(() => readYamlValues(`${levels.join("\n")}\n`, "bomb.yaml")).toThrow(
      /bomb\.yaml: refused: .*alias/i,
    );
  });
});
