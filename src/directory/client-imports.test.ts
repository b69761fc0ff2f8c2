// The client is what other services import: its whole import closure must stay inside core, the
// directory's error catalogue, the client's own files and the shared client-side HTTP layer
// (`src/http-client/`, held to the same rule as core: nothing else, no package), so no service
// depends on the directory's implementation (storage, fastify, node:crypto) through it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { test } from 'node:test';

const source = resolve(import.meta.dirname, '..');
const allowedFiles = ['directory/client.ts', 'directory/client-decode.ts', 'directory/errors.ts'];
/** Folders the closure may enter whole: both import nothing but core (test/import-rules.test.ts). */
const allowedFolders = ['core/', 'http-client/'];

function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]!);
}

test('src/directory/client.ts imports only core, the shared HTTP client, the error catalogue and its decoders (transitively)', () => {
  const seen = new Set<string>();
  const pending = [resolve(source, 'directory/client.ts')];
  const violations: string[] = [];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const name = relative(source, path);
    for (const specifier of importsOf(path)) {
      if (!specifier.startsWith('.')) {
        if (!name.startsWith('core/') || specifier !== 'cborg')
          violations.push(`${name} imports ${specifier}`);
        continue;
      }
      const target = resolve(dirname(path), specifier);
      const targetName = relative(source, target);
      if (allowedFolders.some((folder) => targetName.startsWith(folder)) || allowedFiles.includes(targetName))
        pending.push(target);
      else violations.push(`${name} imports ${targetName}`);
    }
  }
  assert.deepEqual(violations, []);
  assert.ok(seen.size > 3);
});
