// How the page writes figures: money as the demonstrations print it (minor units of XTS, 2 decimals),
// times in the reader's locale, ids shortened with the whole id kept in the title.
export { formatAmount } from '../demo/format.ts';

export function formatTime(atMs: number): string {
  return new Date(atMs).toLocaleString();
}

/** The first and last digits of a long hex id: enough to tell ids apart at a glance. */
export function shortId(id: string): string {
  return id.length <= 16 ? id : `${id.slice(0, 8)}…${id.slice(-6)}`;
}

/** Money as a chart's y value: whole units (a float is fine for drawing, never for figures). */
export function chartUnits(minorUnits: bigint): number {
  return Number(minorUnits) / 100;
}
