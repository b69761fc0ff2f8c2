// docs/dcp.md documents every DCP error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dcpErrors } from './api/errors.ts';

test('docs/dcp.md lists exactly the DCP error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/dcp.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Za-z]+)` *\| 0x([0-9A-F]{4}) *\| ([A-Za-z]+) *\|/gm)].map(
    (match) => [match[1], Number.parseInt(match[2]!, 16), match[3]],
  );
  const expected = Object.entries(dcpErrors).map(([code, definition]) => [
    code,
    definition.number,
    definition.kind,
  ]);
  assert.deepEqual(rows, expected);
  assert.ok(
    Object.values(dcpErrors).every(
      (definition) => definition.number >= 0x3000 && definition.number <= 0x30ff,
    ),
  );
});
