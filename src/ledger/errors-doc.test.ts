// docs/ledger.md documents every ledger error code with its number and kind, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalogueErrorRows, documentedErrorRows } from '../testing/service-kit.ts';
import { ledgerErrors } from './api/errors.ts';

test('docs/ledger.md lists exactly the ledger error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/ledger.md', import.meta.url), 'utf8');
  const rows = documentedErrorRows(doc);
  const expected = catalogueErrorRows(ledgerErrors);
  assert.deepEqual(rows, expected);
  const numbers = Object.values(ledgerErrors).map((definition) => definition.number);
  assert.equal(new Set(numbers).size, numbers.length);
  assert.ok(numbers.every((number) => number >= 0x1000 && number <= 0x11ff));
});
