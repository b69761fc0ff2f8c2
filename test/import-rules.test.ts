// Architecture invariants stated as absences (docs/ARCHITECTURE.md), enforced on every import.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'src');

/**
 * Which components (or single files: a service's error catalogue is its public contract) each
 * component may import, besides itself. `*` = any: the composition roots and test support.
 */
const allowed: Record<string, readonly string[] | '*'> = {
  core: [],
  crypto: ['core'],
  'secure-element': ['core', 'crypto'],
  // The device side reaches its DCP only through the DCP's client (src/dcp/api/).
  device: ['core', 'secure-element', 'errors.ts', 'dcp/api/'],
  storage: ['core'],
  // Shared HTTP layers: the client side is core-only, so every service's typed client stays
  // importable by any other service; the server side is what every service's process is built on.
  'http-client': ['core'],
  // The Node transport of those clients (a keep-alive node:http agent), for Node processes to pass in.
  'node-http': ['core', 'http-client'],
  'service-kit': ['core', 'storage'],
  ledger: ['core', 'storage', 'service-kit', 'http-client'],
  directory: ['core', 'crypto', 'storage', 'pki', 'service-kit', 'http-client'],
  'errors.ts': [
    'core',
    'service-kit/service-errors.ts',
    'ledger/api/',
    'directory/api/',
    'dcp/api/',
    'mds/api/',
    'pcsc/errors.ts',
  ],
  pki: ['core', 'crypto'],
  dcp: [
    'core',
    'crypto',
    'storage',
    'pki',
    'service-kit',
    'http-client',
    'node-http',
    'ledger/api/',
    'directory/api/',
    'mds/api/',
  ],
  // Inside the MDS, the enclave and the API process meet only in mds/channel/ (a test below).
  mds: [
    'core',
    'crypto',
    'storage',
    'pki',
    'service-kit',
    'http-client',
    'node-http',
    'directory/api/',
    'ledger/api/',
  ],
  // The virtual card and the PC/SC terminal: the SE behind vpcd, the payment driver on readers.
  pcsc: ['core', 'crypto', 'secure-element', 'device', 'errors.ts'],
  // The simulator drives devices and services as their users do: the device side, the services'
  // typed clients, and the launcher that starts them as processes; never a service's insides.
  sim: [
    'core',
    'crypto',
    'secure-element',
    'device',
    'dcp/api/',
    'ledger/api/',
    'mds/api/',
    'node-http',
    'system',
    'demo/seeded-random.ts',
    'demo/format.ts',
  ],
  // The monitoring room's page runs in a browser: it reaches the services only through their typed
  // clients (api/, over the http-client), and prints money as the demonstrations do.
  web: [
    'core',
    'http-client',
    'service-kit/service-errors.ts',
    'ledger/api/',
    'directory/api/',
    'dcp/api/',
    'mds/api/',
    'demo/format.ts',
  ],
  cli: '*',
  testing: '*',
  demo: '*',
  system: '*',
};

/**
 * A service's `api/` is what other services and devices import: it must stand on core and the
 * http-client alone, and the generic service codes every service answers with (which import only core).
 */
const apiAllowed = ['core', 'http-client', 'service-kit/service-errors.ts'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function componentOf(path: string): string {
  return relative(source, path).split('/')[0]!;
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]!);
}

const productFiles = files(source).filter((path) => !/\.test\.tsx?$/.test(path));

test('every component imports only the components it may (a service reaches another only through its api/)', () => {
  const violations: string[] = [];
  for (const path of productFiles) {
    const component = componentOf(path);
    const rule = allowed[component];
    assert.ok(
      rule !== undefined,
      `src/${component} has no import rule: add it to import-rules.test.ts and ARCHITECTURE.md`,
    );
    if (rule === '*') continue;
    const ownPath = relative(source, path);
    const inApi = ownPath.startsWith(`${component}/api/`);
    for (const specifier of imports(path)) {
      if (!specifier.startsWith('.')) continue;
      const targetPath = resolve(dirname(path), specifier);
      const target = componentOf(targetPath);
      const targetRelative = relative(source, targetPath);
      const permitted = (entry: string) =>
        entry.endsWith('/') ? targetRelative.startsWith(entry) : entry === target || entry === targetRelative;
      const allowedTarget = inApi
        ? targetRelative.startsWith(`${component}/api/`) || apiAllowed.some(permitted)
        : target === component || rule.some(permitted);
      if (!allowedTarget) violations.push(`${relative(root, path)} imports ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});

/**
 * The MDS's privacy boundary in the code (docs/mds.md): the enclave (src/mds/enclave/, which alone
 * opens uploads and reads the raw graph) and the API process (everything else in src/mds/) share only
 * src/mds/channel/ and the public src/mds/api/; the enclave reaches no HTTP, and nothing outside
 * src/mds/enclave/ imports it (the API process starts it as a separate process, by file path).
 */
test('the MDS enclave and the MDS API process import each other only through mds/channel/', () => {
  const violations: string[] = [];
  for (const path of files(source).filter((file) => !componentOf(file).startsWith('testing'))) {
    const ownPath = relative(source, path);
    const inEnclave = ownPath.startsWith('mds/enclave/');
    for (const specifier of imports(path)) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(source, resolve(dirname(path), specifier));
      const targetsEnclave = target.startsWith('mds/enclave/');
      const mdsShared = target.startsWith('mds/channel/') || target.startsWith('mds/api/');
      if (!inEnclave && targetsEnclave) violations.push(`${relative(root, path)} imports ${specifier}`);
      if (inEnclave && target.startsWith('mds/') && !targetsEnclave && !mdsShared)
        violations.push(`${relative(root, path)} imports ${specifier}`);
      if (inEnclave && (specifier.includes('service-kit') || specifier.includes('http-client')))
        violations.push(`${relative(root, path)} imports ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('core is pure: no node:* module, no clock, no randomness', () => {
  const violations: string[] = [];
  for (const path of productFiles.filter((file) => componentOf(file) === 'core')) {
    const text = readFileSync(path, 'utf8');
    for (const specifier of imports(path)) {
      if (!specifier.startsWith('.')) violations.push(`${relative(root, path)} imports ${specifier}`);
    }
    for (const forbidden of [
      'Date.now',
      'new Date(',
      'Math.random',
      'performance.now',
      'process.',
      'Buffer.',
    ]) {
      if (text.includes(forbidden)) violations.push(`${relative(root, path)} uses ${forbidden}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the shared HTTP client imports no node:* module and no package: it runs wherever core does', () => {
  const violations = productFiles
    .filter((path) => componentOf(path) === 'http-client')
    .flatMap((path) =>
      imports(path)
        .filter((specifier) => !specifier.startsWith('.'))
        .map((specifier) => `${relative(root, path)} imports ${specifier}`),
    );
  assert.deepEqual(violations, []);
});

test('the page (src/web) imports no node:* module and no package but Preact and uPlot: it runs in a browser', () => {
  const packages = ['preact', 'preact/hooks', 'uplot', 'uplot/dist/uPlot.min.css'];
  const violations = productFiles
    .filter((path) => componentOf(path) === 'web')
    .flatMap((path) =>
      imports(path)
        .filter((specifier) => !specifier.startsWith('.') && !packages.includes(specifier))
        .map((specifier) => `${relative(root, path)} imports ${specifier}`),
    );
  assert.deepEqual(violations, []);
});

test('no product module imports test support (src/testing)', () => {
  const violations = productFiles
    .filter((path) => !['testing', 'demo', 'cli'].includes(componentOf(path)))
    .flatMap((path) =>
      imports(path)
        .filter(
          (specifier) =>
            specifier.startsWith('.') && componentOf(resolve(dirname(path), specifier)) === 'testing',
        )
        .map((specifier) => `${relative(root, path)} imports ${specifier}`),
    );
  assert.deepEqual(violations, []);
});

test('test support lives in src/testing alone: no testing.ts, fixture or support folder elsewhere', () => {
  const elsewhere = files(source)
    .concat(files(join(root, 'test')))
    .map((path) => relative(root, path))
    .filter((path) => !path.startsWith('src/testing/'))
    .filter((path) => /(^|\/)(testing|scratch)\.ts$|(^|\/)(support|testing)\//.test(path));
  assert.deepEqual(elsewhere, []);
});
