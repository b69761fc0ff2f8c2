// Runs every `*.test.ts` under src/ and test/ with node's own test runner (through tsx).
// Node 20's `--test` takes no globs, so the files are collected here.
//
// A file that hangs (seen once: a test process asleep on a futex with nothing running, on Node 20's
// off-thread module hooks) would stall the whole run until CI's limit. So every test has a timeout
// (`--test-timeout`), which also ends a hung file as "cancelled"; a run whose only problem is files
// cancelled that way runs those files once more, and says so. A failing assertion is never retried.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Longer than any one test takes on a loaded 2-core machine (the slowest, end to end, take ~2 min). */
const testTimeoutMs = Number(process.env['CBDC_TEST_TIMEOUT_MS'] ?? 600_000);

function collect(dir: string, into: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return into;
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, into);
    else if (name.endsWith('.test.ts')) into.push(path);
  }
  return into;
}

interface Run {
  readonly status: number;
  readonly output: string;
}

/** Runs `files` with the spec reporter, passing its output through and keeping a copy. */
function runFiles(files: readonly string[]): Promise<Run> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      `--test-timeout=${testTimeoutMs}`,
      '--test-reporter=spec',
      ...files,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    output += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once('close', (code) => {
      resolve({ status: code ?? 1, output });
    });
  });
}

/** The summary's count of `name` (`ℹ fail 0`), or undefined when absent. */
function summaryCount(output: string, name: string): number | undefined {
  const match = new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Files the runner cancelled because they ran past the timeout as a whole (a hang, not a test). */
function hungFiles(output: string, files: readonly string[]): string[] {
  const timedOut = [...output.matchAll(/^✖ (\S+\.test\.ts) \([\d.]+ms\)\n\s+'test timed out after \d+ms'/gm)];
  return files.filter((file) => timedOut.some((match) => match[1]?.endsWith(file) === true));
}

const filters = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((dir) => collect(dir, []))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const first = await runFiles(files);
const hung = hungFiles(first.output, files);
if (first.status === 0 || summaryCount(first.output, 'fail') !== 0 || hung.length === 0)
  process.exit(first.status);
console.log(
  `\n${hung.length} file(s) hung past ${testTimeoutMs} ms and were cancelled; running them once more: ${hung.join(', ')}`,
);
const retry = await runFiles(hung);
process.exit(retry.status);
