/** One figure of the benchmark suite; `baseline` is measured in the same run so that `ratio` survives machine drift. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string;
  note?: string;
}

export interface BenchContext {
  quick: boolean;
  /** Scratch folder for generated inputs, removed after the run. */
  scratch: string;
  /** The package root (the folder with package.json and dist/). */
  root: string;
  log: (message: string) => void;
}

export interface Benchmark {
  id: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export function figure(
  name: string,
  value: number | null,
  unit: string,
  target: string,
  baseline: number | null = null,
  note?: string,
): Figure {
  const ratio = value !== null && baseline !== null && baseline > 0 ? round(value / baseline, 3) : null;
  return {
    name,
    value: value === null ? null : round(value, 3),
    unit,
    baseline: baseline === null ? null : round(baseline, 3),
    ratio,
    target,
    ...(note ? { note } : {}),
  };
}

export function notBuilt(name: string, unit: string, target: string, what: string): Figure {
  return figure(name, null, unit, target, null, `not measured yet: ${what} is not built`);
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
