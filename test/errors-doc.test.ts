import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalogues } from '../src/errors.ts';
import { errorDocsPath, renderErrorDocs } from '../scripts/error-docs.ts';

test('docs/errors.md documents exactly the codes in the catalogues (run `npm run docs:errors`)', () => {
  assert.equal(readFileSync(errorDocsPath, 'utf8'), renderErrorDocs());
});

test('error numbers and codes are unique across every catalogue', () => {
  const numbers = new Map<number, string>();
  const codes = new Set<string>();
  for (const { component, catalogue } of catalogues) {
    for (const [code, definition] of Object.entries(catalogue)) {
      const clash = numbers.get(definition.number);
      assert.equal(
        clash,
        undefined,
        `${component}.${code} reuses number ${definition.number} of ${String(clash)}`,
      );
      numbers.set(definition.number, `${component}.${code}`);
      assert.ok(!codes.has(code), `code ${code} defined twice`);
      codes.add(code);
      assert.match(code, /^[a-z][A-Za-z0-9]*$/, 'codes are camelCase');
    }
  }
});
