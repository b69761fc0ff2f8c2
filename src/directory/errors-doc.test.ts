// docs/directory.md documents every directory error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalogueErrorRows, documentedErrorRows } from '../testing/service-kit.ts';
import { directoryErrors } from './api/errors.ts';

test('docs/directory.md lists exactly the directory error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/directory.md', import.meta.url), 'utf8');
  const rows = documentedErrorRows(doc);
  const expected = catalogueErrorRows(directoryErrors);
  assert.deepEqual(rows, expected);
  const numbers = Object.values(directoryErrors).map((definition) => definition.number);
  assert.equal(new Set(numbers).size, numbers.length);
  assert.ok(numbers.every((number) => number >= 0x2000 && number <= 0x20ff));
});
