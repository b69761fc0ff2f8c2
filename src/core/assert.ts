// Assertions are for programmer errors (broken invariants), never for bad input: bad input gets a
// typed error from the catalogue (STYLE.md §4).

export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
}

export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new AssertionFailed(why);
}

export function unreachable(value: never, why = 'unreachable'): never {
  throw new AssertionFailed(`${why}: ${String(value)}`);
}
