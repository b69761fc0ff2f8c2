// docs/pcsc.md documents every PC/SC error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pcscErrors } from '../../src/pcsc/errors.ts';

test('docs/pcsc.md lists exactly the PC/SC error catalogue, numbered 0x50xx', () => {
  const doc = readFileSync(new URL('../../docs/pcsc.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Za-z]+)` *\| 0x([0-9A-F]{4}) *\| ([A-Za-z]+) *\|/gm)].map(
    (match) => [match[1], Number.parseInt(match[2]!, 16), match[3]],
  );
  const expected = Object.entries(pcscErrors).map(([code, definition]) => [
    code,
    definition.number,
    definition.kind,
  ]);
  assert.deepEqual(rows, expected);
  assert.ok(Object.values(pcscErrors).every(({ number }) => number >= 0x5000 && number <= 0x50ff));
});
