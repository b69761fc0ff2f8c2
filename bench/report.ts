// One benchmark figure, printed as one JSON line (the format `npm run bench` promises).
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: number;
  readonly referenceName?: string;
  readonly [detail: string]: unknown;
}

export function report(figure: Figure): void {
  const rounded = { ...figure, value: round(figure.value) };
  if (figure.reference !== undefined) {
    Object.assign(rounded, {
      reference: round(figure.reference),
      ratio: round(figure.value / figure.reference, 3),
    });
  }
  process.stdout.write(JSON.stringify(rounded) + '\n');
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Runs `body` repeatedly for about `seconds` (after a short warm-up) and returns operations per second. */
export function opsPerSecond(body: () => void, seconds = 1): number {
  const warmUntil = performance.now() + 100;
  while (performance.now() < warmUntil) body();
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    body();
    count++;
    now = performance.now();
  }
  return count / ((now - start) / 1000);
}
