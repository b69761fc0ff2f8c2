// Test support every service's fixtures share: a manual clock, counting ids, fresh API and
// idempotency keys, one request through a service app's `inject` (no socket), and the rows of an
// error table in a service's document, to compare with its catalogue.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ErrorCatalogue } from '../core/errors.ts';

/** Test time: 2030-01-01T00:00:00Z. */
export const testEpochSeconds = 1_893_456_000;

export class ManualClock {
  constructor(public now = testEpochSeconds * 1000) {}
  nowMs(): number {
    return this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
  get seconds(): number {
    return Math.floor(this.now / 1000);
  }
}

/** `prefix_00000001`, `prefix_00000002`...: ids a run can predict. */
export function countingIds(): { next(prefix: string): string } {
  let next = 0;
  return { next: (prefix) => `${prefix}_${(++next).toString().padStart(8, '0')}` };
}

/** 24 random bytes, base64url: 32 characters, the shortest key the services accept. */
export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

let keys = 0;
/** A fresh idempotency key. */
export function freshKey(): string {
  return `k-${process.pid}-${++keys}-${randomBytes(4).toString('hex')}`;
}

/** What `call` needs of an app: fastify's `inject`. */
export interface InjectableApp {
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

export interface CallResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly replayed: boolean;
}

/** One request through `inject`. `key` sets the Idempotency-Key header; `apiKey` null sends none. */
export async function call(
  app: InjectableApp,
  apiKey: string | null,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  options: { readonly body?: unknown; readonly key?: string; readonly rawBody?: string } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = {};
  if (apiKey !== null) headers['authorization'] = `Bearer ${apiKey}`;
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  if (options.body !== undefined || options.rawBody !== undefined)
    headers['content-type'] = 'application/json';
  const response = await app.inject({
    method,
    url,
    headers,
    ...(options.rawBody !== undefined
      ? { payload: options.rawBody }
      : options.body !== undefined
        ? { payload: JSON.stringify(options.body) }
        : {}),
  });
  return {
    status: response.statusCode,
    body: response.json<Record<string, unknown>>(),
    replayed: response.headers['idempotent-replayed'] === 'true',
  };
}

/** The `error.code` of a refusal, undefined for an answer. */
export function errorCode(result: CallResult): string | undefined {
  const error = result.body['error'] as { code?: string } | undefined;
  return error?.code;
}

/** One documented or catalogued error: code, number, kind. */
export type ErrorRow = readonly [code: string, number: number, kind: string];

/** The rows of the error table in a service's document (`| \`code\` | 0x1234 | kind |`), in order. */
export function documentedErrorRows(markdown: string): ErrorRow[] {
  return [...markdown.matchAll(/^\| `([A-Za-z]+)` *\| 0x([0-9A-F]{4}) *\| ([A-Za-z]+) *\|/gm)].map(
    (match) => [match[1]!, Number.parseInt(match[2]!, 16), match[3]!],
  );
}

/** The same rows from the catalogue, in its order. */
export function catalogueErrorRows(catalogue: ErrorCatalogue): ErrorRow[] {
  return Object.entries(catalogue).map(([code, definition]) => [code, definition.number, definition.kind]);
}

/** What Prometheus's own linter says of a /metrics text, or that it is not installed. */
export type PromtoolVerdict =
  | { readonly kind: 'missing' }
  | { readonly kind: 'checked'; readonly passed: boolean; readonly output: string };

/** Runs `promtool check metrics` (Debian package `prometheus`) on an exposition text. */
export function promtoolCheckMetrics(text: string): PromtoolVerdict {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ENOENT')
    return { kind: 'missing' };
  if (run.error !== undefined) throw run.error;
  return { kind: 'checked', passed: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** The skip reason of a promtool test: only a missing promtool skips it, and says how to get it. */
export function promtoolSkip(): string | false {
  return promtoolCheckMetrics('').kind === 'missing'
    ? 'promtool is not installed: apt-get install --no-install-recommends prometheus (.ci/run does)'
    : false;
}
