// docs/directory.md documents every directory error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { directoryErrors } from './errors.ts';

test('docs/directory.md lists exactly the directory error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/directory.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Za-z]+)` *\| 0x([0-9A-F]{4}) *\| ([A-Za-z]+) *\|/gm)].map(
    (match) => [match[1], Number.parseInt(match[2]!, 16), match[3]],
  );
  const expected = Object.entries(directoryErrors).map(([code, definition]) => [
    code,
    definition.number,
    definition.kind,
  ]);
  assert.deepEqual(rows, expected);
  const numbers = Object.values(directoryErrors).map((definition) => definition.number);
  assert.equal(new Set(numbers).size, numbers.length);
  assert.ok(numbers.every((number) => number >= 0x2000 && number <= 0x20ff));
});
