// Tidy: habits of the code checked on every run, in the spirit of TigerBeetle's tidy.zig. Each rule
// is read from the syntax tree (the TypeScript compiler's parser), not from text, so comments and
// strings never count. Where the code breaks a rule today, the offenders are listed below with their
// exact figures, and the lists only shrink: an offender that grows fails, a new offender fails, and
// one that shrank or was mended fails until its entry is lowered or removed.
//
// After merging branches, regenerate the lists with
//   TIDY_PRINT=1 npx tsx test/tidy.test.ts 2>&1 >/dev/null
// which prints every list below (and eslint.config.js's) ready to paste, then review the diff: a list
// that grew is a regression to mend, not to paste.
//
// Scope: the rules read src/. "Product code" is every src/ file except tests (`*.test.ts`) and test
// support (a `testing/` folder or a `testing.ts` file); `fromHex(...)!` is checked in tests too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';

/** A function longer than this many lines does not fit on a screen (TigerBeetle keeps the same limit). */
const functionLinesMax = 70;

/**
 * Functions over `functionLinesMax` lines today, by `file:name`, with their current line count.
 * A name is the declared one (`Class.method`), or the variable or property an arrow function or
 * function expression is assigned to, or for a callback `callee(firstStringArgument) callback`.
 */
const longFunctionsAllowed: Record<string, number> = {
  'src/dcp/store/migrations.ts:statements': 84,
  'src/service-kit/app.ts:createServiceApp': 78,
};

/** `fetch(` outside `src/http-client/`: every outbound call has a timeout and a bounded, decoded answer. */
const fetchAllowed: Record<string, number> = {};

/**
 * `JSON.parse(...) as T` outside decoders: a cast is not a check. A decoder file is one named
 * `decode.ts`, `*-decode.ts`, `codec.ts` or `*-codec.ts`, or one in an `api/` folder (a service's
 * wire types and strict codecs). `JSON.parse(...) as unknown` is fine anywhere: it starts a decode.
 */
const jsonParseCastAllowed: Record<string, number> = {};

/** `fromHex(...)!`: hex that does not parse is a value to refuse (or, in a test, an assertion), not a `!`. */
const fromHexAssertedAllowed: Record<string, number> = {
  'src/device/link.test.ts': 5,
  'src/directory/http/directory-api.test.ts': 1,
  'src/secure-element/apdu/card-transport.test.ts': 3,
  'src/secure-element/apdu/terminal.test.ts': 11,
  'src/secure-element/view.ts': 1,
};

/** A `node:*` import in a `domain/` folder: domain logic is pure, its I/O comes in through ports. */
const domainNodeImportAllowed: Record<string, number> = {};

// --- reading the tree ---------------------------------------------------------------------------

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : /\.tsx?$/.test(path) ? [path] : [];
    });
}

interface SourceFile {
  /** Relative to the repository, with forward slashes: `src/dcp/domain/settle.ts`. */
  readonly path: string;
  readonly tree: ts.SourceFile;
}

function isTest(path: string): boolean {
  return /\.test\.tsx?$/.test(path);
}

function isTestSupport(path: string): boolean {
  return path.includes('/testing/') || path.endsWith('/testing.ts');
}

function isProduct(path: string): boolean {
  return !isTest(path) && !isTestSupport(path);
}

function isDecoder(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (
    /^(?:.+-)?(?:decode|codec)\.ts$/.test(name) ||
    path.includes('/api/') ||
    path.startsWith('src/http-client/')
  );
}

function parse(path: string, text: string): SourceFile {
  return {
    path,
    tree: ts.createSourceFile(
      path,
      text,
      ts.ScriptTarget.Latest,
      true,
      path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
    ),
  };
}

const sources: readonly SourceFile[] = files(source).map((absolute) =>
  parse(relative(root, absolute).split('\\').join('/'), readFileSync(absolute, 'utf8')),
);

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => {
    walk(child, visit);
  });
}

/** What a call calls, as written: `fetch`, `JSON.parse`, `app.post`. */
function calleeName(call: ts.CallExpression): string {
  return call.expression.getText().replace(/\s+/g, '');
}

function unwrapParentheses(node: ts.Expression): ts.Expression {
  let inner = node;
  while (ts.isParenthesizedExpression(inner)) inner = inner.expression;
  return inner;
}

/** Counts, per file that `include` keeps, the nodes `matches` picks out. */
function countPerFile(
  within: readonly SourceFile[],
  include: (path: string) => boolean,
  matches: (node: ts.Node) => boolean,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of within.filter((each) => include(each.path))) {
    let count = 0;
    walk(file.tree, (node) => {
      if (matches(node)) count++;
    });
    if (count > 0) counts[file.path] = count;
  }
  return counts;
}

// --- function lengths ---------------------------------------------------------------------------

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression;

function isFunction(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

function propertyName(name: ts.PropertyName | ts.BindingName): string {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name)
    ? name.text
    : name.getText();
}

function className(node: ts.Node): string {
  const owner = node.parent;
  return (ts.isClassDeclaration(owner) || ts.isClassExpression(owner)) && owner.name !== undefined
    ? `${owner.name.text}.`
    : '';
}

/** The name a reader would search for (see `longFunctionsAllowed`). */
function functionName(node: FunctionNode): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (!ts.isArrowFunction(node) && node.name !== undefined) {
    const prefix = ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) ? '' : className(node);
    return `${prefix}${propertyName(node.name)}`;
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return propertyName(parent.name);
  if (ts.isPropertyDeclaration(parent)) return `${className(parent)}${propertyName(parent.name)}`;
  if (ts.isCallExpression(parent)) {
    const first = parent.arguments[0];
    const label =
      first !== undefined && ts.isStringLiteralLike(first) ? `(${JSON.stringify(first.text)})` : '';
    return `${calleeName(parent)}${label} callback`;
  }
  return '<anonymous>';
}

function lineOf(tree: ts.SourceFile, position: number): number {
  return tree.getLineAndCharacterOfPosition(position).line;
}

/** Every function of product code over the limit, as `file:name` → lines (first to last, inclusive). */
function longFunctions(within: readonly SourceFile[]): Record<string, number> {
  const found: Record<string, number> = {};
  for (const file of within.filter((each) => isProduct(each.path))) {
    walk(file.tree, (node) => {
      if (!isFunction(node)) return;
      const lines = lineOf(file.tree, node.getEnd()) - lineOf(file.tree, node.getStart(file.tree)) + 1;
      if (lines <= functionLinesMax) return;
      let key = `${file.path}:${functionName(node)}`;
      for (let twin = 2; key in found; twin++) key = `${file.path}:${functionName(node)}#${twin}`;
      found[key] = lines;
    });
  }
  return found;
}

// --- the other rules ----------------------------------------------------------------------------

function fetchCalls(within: readonly SourceFile[]): Record<string, number> {
  return countPerFile(
    within,
    (path) => isProduct(path) && !path.startsWith('src/http-client/'),
    (node) =>
      ts.isCallExpression(node) && ['fetch', 'globalThis.fetch', 'window.fetch'].includes(calleeName(node)),
  );
}

function jsonParseCasts(within: readonly SourceFile[]): Record<string, number> {
  return countPerFile(
    within,
    (path) => isProduct(path) && !isDecoder(path),
    (node) => {
      if (!ts.isAsExpression(node) || node.type.kind === ts.SyntaxKind.UnknownKeyword) return false;
      let inner = unwrapParentheses(node.expression);
      if (ts.isAwaitExpression(inner)) inner = unwrapParentheses(inner.expression);
      return ts.isCallExpression(inner) && calleeName(inner) === 'JSON.parse';
    },
  );
}

function fromHexAsserted(within: readonly SourceFile[]): Record<string, number> {
  return countPerFile(
    within,
    () => true,
    (node) => {
      if (!ts.isNonNullExpression(node)) return false;
      const inner = unwrapParentheses(node.expression);
      return ts.isCallExpression(inner) && /(?:^|\.)fromHex$/.test(calleeName(inner));
    },
  );
}

function moduleSpecifier(node: ts.Node): string | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
    return ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const first = node.arguments[0];
    return first !== undefined && ts.isStringLiteralLike(first) ? first.text : undefined;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const expression = node.moduleReference.expression;
    return ts.isStringLiteral(expression) ? expression.text : undefined;
  }
  return undefined;
}

function domainNodeImports(within: readonly SourceFile[]): Record<string, number> {
  return countPerFile(
    within,
    (path) => isProduct(path) && path.includes('/domain/'),
    (node) => moduleSpecifier(node)?.startsWith('node:') === true,
  );
}

function nonNullAssertions(path: string): number {
  const file = sources.find((each) => each.path === path);
  if (file === undefined) return 0;
  let count = 0;
  walk(file.tree, (node) => {
    if (ts.isNonNullExpression(node)) count++;
  });
  return count;
}

// --- the ratchet --------------------------------------------------------------------------------

/**
 * Compares what the code has with what its list allows, both exact: a listed figure is today's, so
 * the list can only be lowered. Returns one sentence per difference.
 */
function ratchet(
  what: string,
  found: Record<string, number>,
  allowed: Record<string, number>,
  mended: (key: string) => string,
): string[] {
  const problems: string[] = [];
  for (const [key, figure] of Object.entries(found)) {
    const listed = allowed[key];
    if (listed === undefined) problems.push(`${key}: ${what} ${figure}, not allowed: mend it`);
    else if (figure > listed) problems.push(`${key}: ${what} grew from ${listed} to ${figure}: mend it`);
    else if (figure < listed)
      problems.push(`${key}: ${what} shrank from ${listed} to ${figure}: lower the list`);
  }
  for (const key of Object.keys(allowed)) {
    if (!(key in found)) problems.push(`${key}: ${mended(key)}: remove it from the list`);
  }
  return problems;
}

function listed(name: string, entries: Record<string, number>): string {
  const lines = Object.entries(entries)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, figure]) => `  '${key}': ${figure},`);
  return `const ${name}: Record<string, number> = {${lines.length === 0 ? '' : `\n${lines.join('\n')}\n`}};`;
}

interface EslintConfigModule {
  readonly nonNullAssertionAllowed: readonly string[];
}

async function eslintNonNullAllowed(): Promise<readonly string[]> {
  const module = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as EslintConfigModule;
  return module.nonNullAssertionAllowed;
}

/** Product files with a `!` assertion: what eslint.config.js's list must be. */
function productFilesWithNonNull(): string[] {
  return sources.map((file) => file.path).filter((path) => isProduct(path) && nonNullAssertions(path) > 0);
}

if (process.env['TIDY_PRINT'] === '1') {
  const print = [
    '// test/tidy.test.ts',
    listed('longFunctionsAllowed', longFunctions(sources)),
    listed('fetchAllowed', fetchCalls(sources)),
    listed('jsonParseCastAllowed', jsonParseCasts(sources)),
    listed('fromHexAssertedAllowed', fromHexAsserted(sources)),
    listed('domainNodeImportAllowed', domainNodeImports(sources)),
    '// eslint.config.js',
    `export const nonNullAssertionAllowed = [\n${productFilesWithNonNull()
      .map((path) => `  '${path}',`)
      .join('\n')}\n];`,
  ];
  process.stderr.write(`${print.join('\n\n')}\n`);
}

// --- the rules ----------------------------------------------------------------------------------

test(`no function of product code is over ${functionLinesMax} lines, but the listed ones, which only shrink`, () => {
  const found = longFunctions(sources);
  const problems = ratchet(
    'lines',
    found,
    longFunctionsAllowed,
    () => `now ${functionLinesMax} lines or fewer`,
  );
  assert.deepEqual(problems, []);
});

test('no fetch( outside src/http-client, but in the listed files, which only shrink', () => {
  assert.deepEqual(
    ratchet('fetch calls', fetchCalls(sources), fetchAllowed, () => 'no fetch left'),
    [],
  );
});

test('no JSON.parse(...) as T outside decoders, but in the listed files, which only shrink', () => {
  assert.deepEqual(
    ratchet('JSON.parse casts', jsonParseCasts(sources), jsonParseCastAllowed, () => 'no cast left'),
    [],
  );
});

test('no fromHex(...)!, in product code or tests, but in the listed files, which only shrink', () => {
  assert.deepEqual(
    ratchet('fromHex(...)!', fromHexAsserted(sources), fromHexAssertedAllowed, () => 'none left'),
    [],
  );
});

test('no node:* import in a domain/ folder, but in the listed files, which only shrink', () => {
  assert.deepEqual(
    ratchet('node:* imports', domainNodeImports(sources), domainNodeImportAllowed, () => 'none left'),
    [],
  );
});

test("eslint's no-non-null-assertion allowlist names only product files that still have a `!`", async () => {
  const allowed = await eslintNonNullAllowed();
  const stale = allowed.filter((path) => !isProduct(path) || nonNullAssertions(path) === 0);
  assert.deepEqual(stale, [], 'no `!` left (or not a product file): remove it from eslint.config.js');
  assert.deepEqual([...allowed].sort(), [...allowed], 'eslint.config.js keeps the list sorted');
  // The other direction, a file with `!` missing from the list, is eslint's own error.
});

test('the rules see what they claim to: each finds its pattern in samples, and only there', () => {
  // Guards the rules against passing vacuously (a parser change, a wrong node kind, a wrong scope).
  const offending = [
    "import { readFileSync } from 'node:fs';",
    'export async function get(url: string) {',
    '  const a = (await fetch(url)).ok;',
    '  const b = JSON.parse(text) as Answer;',
    '  const c = JSON.parse(text) as unknown;',
    '  const d = fromHex(text)!;',
    '  const e = (await JSON.parse(text)) as Answer;',
    ...Array.from({ length: functionLinesMax - 6 }, () => '  work();'),
    '}',
  ].join('\n');
  const product = parse('src/sample/domain/sample.ts', offending);
  const tests = parse('src/sample/domain/sample.test.ts', offending);
  const decoder = parse('src/sample/api/client.ts', offending);
  assert.deepEqual(longFunctions([product, tests]), { 'src/sample/domain/sample.ts:get': 71 });
  const shorter = parse('src/sample/short.ts', offending.replace('  work();\n', ''));
  assert.deepEqual(longFunctions([shorter]), {}, 'exactly the limit is allowed');
  assert.deepEqual(fetchCalls([product, tests]), { 'src/sample/domain/sample.ts': 1 });
  assert.deepEqual(jsonParseCasts([product, tests, decoder]), { 'src/sample/domain/sample.ts': 2 });
  assert.deepEqual(fromHexAsserted([product, tests]), {
    'src/sample/domain/sample.ts': 1,
    'src/sample/domain/sample.test.ts': 1,
  });
  assert.deepEqual(domainNodeImports([product, tests, decoder]), { 'src/sample/domain/sample.ts': 1 });
  assert.deepEqual(
    ratchet('lines', { a: 80 }, { a: 80 }, () => 'gone'),
    [],
  );
  assert.equal(ratchet('lines', { a: 81 }, { a: 80 }, () => 'gone').length, 1, 'grew');
  assert.equal(ratchet('lines', { a: 79 }, { a: 80 }, () => 'gone').length, 1, 'shrank, list not lowered');
  assert.equal(ratchet('lines', {}, { a: 80 }, () => 'gone').length, 1, 'mended, still listed');
  assert.equal(ratchet('lines', { b: 75 }, {}, () => 'gone').length, 1, 'new offender');
  assert.ok(isDecoder('src/storage/decode.ts') && isDecoder('src/http-client/answer-decode.ts'));
  assert.ok(!isDecoder('src/dcp/device-app.ts') && !isProduct('src/ledger/testing.ts'));
  assert.ok(!isProduct('src/testing/forge.ts') && isProduct('src/dcp/domain/settle.ts'));
});
