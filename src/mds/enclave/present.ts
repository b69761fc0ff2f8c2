// Product code has no `!` assertions (eslint.config.js): a value that must be there by an invariant
// is unwrapped with a named assertion instead, so a broken invariant fails saying which.
import { assert } from '../../core/assert.ts';

export function present<T>(value: T | undefined, why: string): T {
  assert(value !== undefined, why);
  return value;
}
