const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3, "": 1 };

export const MI = 2 ** 20;
export const GI = 2 ** 30;

/** Bytes of a Kubernetes quantity (`256Mi`, `1G`, `1.5Gi`, `134217728`, `1e9`); null when it is not one. */
export function parseMemoryQuantity(quantity: string | number): number | null {
  if (typeof quantity === "number") return Number.isFinite(quantity) && quantity >= 0 ? quantity : null;
  const match =
    /^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)\s*$/.exec(
      quantity,
    );
  if (!match) return null;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? "";
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  return factor === undefined ? null : number * factor;
}

/** Binary units only: whole Gi when exact, else whole Mi (never fractions, which some tools reject). */
export function formatMemoryQuantity(bytes: number): string {
  if (bytes % GI === 0) return `${bytes / GI}Gi`;
  if (bytes % MI === 0) return `${bytes / MI}Mi`;
  return `${Math.ceil(bytes / MI)}Mi`;
}

/**
 * The raised limit: at least `factor` × the current one, rounded UP to a multiple of 64Mi below 1Gi and
 * of 256Mi from 1Gi on, so that 256Mi → 384Mi, 512Mi → 768Mi, 1Gi → 1536Mi, 1536Mi → 2304Mi, 3Gi → 4608Mi.
 * Round steps keep the value readable and stable across repeated runs.
 */
export function raiseMemoryLimit(currentBytes: number, factor = 1.5): number {
  const target = currentBytes * factor;
  const step = target < GI ? 64 * MI : 256 * MI;
  return Math.max(step, Math.ceil(target / step) * step);
}
