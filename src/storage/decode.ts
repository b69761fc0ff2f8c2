// Decoders for database rows. A row that does not decode is a corrupt database or a bug in a query
// (never bad user input), so a failure is an assertion that names the column.
import { AssertionFailed } from '../core/assert.ts';
import type { Row } from './database.ts';

export function columnText(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw badColumn(column, 'text', value);
  return value;
}

export function columnTextOrNull(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null) return null;
  if (typeof value !== 'string') throw badColumn(column, 'text or null', value);
  return value;
}

/** An integer column as `bigint` (both engines return 64-bit integers as bigint; 32-bit ones may be numbers). */
export function columnBigint(row: Row, column: string): bigint {
  const value = row[column];
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  // PostgreSQL returns `numeric` (SUM, COUNT on some versions) as a decimal string.
  if (typeof value === 'string' && /^-?[0-9]{1,20}$/.test(value)) return BigInt(value);
  throw badColumn(column, 'integer', value);
}

/** An integer column that must fit a JavaScript number exactly (timestamps, counts, sequences). */
export function columnSafeInteger(row: Row, column: string): number {
  const value = columnBigint(row, column);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw badColumn(column, 'safe integer', value);
  }
  return Number(value);
}

export function columnOneOf<const T extends string>(row: Row, column: string, values: readonly T[]): T {
  const value = columnText(row, column);
  const found = values.find((candidate) => candidate === value);
  if (found === undefined) throw badColumn(column, values.join(' | '), value);
  return found;
}

function badColumn(column: string, expected: string, value: unknown): AssertionFailed {
  const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  return new AssertionFailed(`database column ${column}: expected ${expected}, found ${shown}`);
}
