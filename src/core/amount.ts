// Money is a bigint number of minor units (DESIGN §4), never a float.
import { coreError } from './errors.ts';

/** Largest amount the protocol carries: 10^15 minor units (ten trillion units of a 2-decimal currency), well inside CBOR uint64. */
export const amountMax = 1_000_000_000_000_000n;

export type Amount = bigint;

/** Throws `amountMustBePositive` / `amountOutOfRange` naming `what`. */
export function checkAmount(value: bigint, what: string): Amount {
  if (value <= 0n) throw coreError('amountMustBePositive', `${what} is ${value}`);
  if (value > amountMax) throw coreError('amountOutOfRange', `${what} is ${value}`);
  return value;
}

export function sumAmounts(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}
