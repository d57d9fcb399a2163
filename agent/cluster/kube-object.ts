/** The subset of a Kubernetes object that every kind shares. Everything else is read defensively. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind: string; name: string; uid?: string; controller?: boolean }[];
  creationTimestamp?: string;
  generation?: number;
  resourceVersion?: string;
  managedFields?: unknown;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // Spec and status come from untrusted, version-dependent sources: analyzers read them through accessors.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
  [key: string]: unknown;
}

export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== "object" || value === null) return false;
  const meta = (value as { metadata?: unknown }).metadata;
  return typeof meta === "object" && meta !== null && typeof (meta as { name?: unknown }).name === "string";
}

export function objectKey(object: KubeObject): string {
  return `${object.kind ?? "Object"}/${object.metadata.name}`;
}
