// docs/mds.md documents every MDS error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mdsErrors } from './api/errors.ts';

test('docs/mds.md lists exactly the MDS error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/mds.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Za-z]+)` *\| 0x([0-9A-F]{4}) *\| ([A-Za-z]+) *\|/gm)].map(
    (match) => [match[1], Number.parseInt(match[2]!, 16), match[3]],
  );
  const expected = Object.entries(mdsErrors).map(([code, definition]) => [
    code,
    definition.number,
    definition.kind,
  ]);
  assert.deepEqual(rows, expected);
  assert.ok(
    Object.values(mdsErrors).every(
      (definition) => definition.number >= 0x4000 && definition.number <= 0x40ff,
    ),
  );
});
