// The HTTP side of every typed service client (the ledger gateway, the directory client): one JSON
// call with a timeout per attempt, bounded attempts with exponential backoff and jitter, a bound on
// the answer, and refusals mapped to the service's error catalogue. Only core is imported (a test
// checks it): the default transport is the global `fetch` (transport.ts), so a client built on this
// file stays importable by any service, and runs wherever core does; a Node process passes a faster
// transport in the options.
//
// Every mutation carries the caller's idempotency key, so every call may be retried after a timeout
// or a lost connection: the service answers a replay with the first answer (and says so in the
// `Idempotent-Replayed` header). A refusal (4xx) is never retried: the same request would be refused
// again.
import { answerDecoders, type AnswerDecoders } from './answer-decode.ts';
import { fetchTransport, type HttpTransport, type TransportAnswer } from './transport.ts';

export const callTimeoutMsDefault = 5_000;
export const callAttemptsMaxDefault = 5;
export const backoffMsDefault = 50;
/** However many retries came before, one never waits longer than this. */
export const backoffMsMax = 2_000;

export interface JsonCallerOptions {
  /** e.g. http://127.0.0.1:4100 */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; without it, only a service's public routes answer. */
  readonly apiKey?: string;
  /** Per attempt. */
  readonly timeoutMs?: number;
  /** Attempts per call, the first included. */
  readonly attemptsMax?: number;
  readonly backoffMs?: number;
  /** Injected for tests (no real waiting) and deterministic runs. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ random() < 1, for backoff jitter; injected for deterministic runs. */
  readonly random?: () => number;
  /** How requests reach the wire (src/node-http/ in a Node process); `fetch` when absent. */
  readonly transport?: HttpTransport;
  /** The `fetch` of the default transport; tests inject one to play a misbehaving service. */
  readonly fetch?: typeof fetch;
}

/** How a client names failures in its service's catalogue. */
export interface CallErrors {
  /** No answer after every attempt: refused connection, timeout or 5xx. */
  unavailable(detail: string): Error;
  /** An answer that does not decode: too long, not JSON, a refusal without a known code. */
  answerInvalid(detail: string): Error;
  /** The typed refusal for a 4xx answer, or undefined when `code` is not in the catalogue. */
  refusal(code: string, status: number, message: string): Error | undefined;
}

/**
 * The call errors of a client whose service has a catalogue: its two client-side codes, and its typed
 * refusal (a `ServiceRefusal` subclass) for every code `isCode` knows.
 */
export function catalogueCallErrors<Code extends string>(
  isCode: (code: string) => code is Code,
  Refusal: new (code: Code, status: number, message: string) => Error,
  errors: Pick<CallErrors, 'unavailable' | 'answerInvalid'>,
): CallErrors {
  return {
    unavailable: (detail) => errors.unavailable(detail),
    answerInvalid: (detail) => errors.answerInvalid(detail),
    refusal: (code, status, message) => (isCode(code) ? new Refusal(code, status, message) : undefined),
  };
}

export interface JsonCall {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path and query, starting with `/`; ids in it are already URI-encoded. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string;
}

export interface JsonAnswer {
  readonly body: unknown;
  /** The `Idempotent-Replayed: true` header: the answer of an earlier request with the same key. */
  readonly replayed: boolean;
}

/** Whether the answer came from an earlier request with the same idempotency key. */
export interface Replayable<T> {
  readonly value: T;
  readonly replayed: boolean;
}

type Attempt = { kind: 'answer'; answer: JsonAnswer } | { kind: 'retry'; problem: string };

export class JsonCaller {
  /** Readers of the refusal envelope, failing with the client's `answerInvalid`. */
  private readonly decoders: AnswerDecoders;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly attemptsMax: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly transport: HttpTransport;

  /** `answerBytesMax` bounds the answer: anything far longer is not a service answer. */
  constructor(
    private readonly options: JsonCallerOptions,
    private readonly errors: CallErrors,
    private readonly answerBytesMax: number,
  ) {
    this.decoders = answerDecoders((detail) => errors.answerInvalid(detail));
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? callTimeoutMsDefault;
    this.attemptsMax = Math.max(1, options.attemptsMax ?? callAttemptsMaxDefault);
    this.backoffMs = options.backoffMs ?? backoffMsDefault;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.transport = options.transport ?? fetchTransport(options.fetch ?? fetch);
  }

  async call(call: JsonCall): Promise<JsonAnswer> {
    let lastProblem = 'no attempt';
    for (let attempt = 1; attempt <= this.attemptsMax; attempt++) {
      if (attempt > 1) await this.sleep(this.backoff(attempt - 1));
      const outcome = await this.attempt(call);
      if (outcome.kind === 'answer') return outcome.answer;
      lastProblem = outcome.problem;
    }
    throw this.errors.unavailable(
      `${call.method} ${call.path}: ${lastProblem} (${this.attemptsMax} attempts)`,
    );
  }

  /**
   * "Equal jitter" (AWS Architecture Blog, Exponential Backoff and Jitter, 2015): half the doubled
   * delay plus a random part of the other half, so many clients' retries spread out.
   */
  private backoff(retry: number): number {
    const ceiling = Math.min(backoffMsMax, this.backoffMs * 2 ** (retry - 1));
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  /** One attempt: an answer, a refusal (thrown), or a transient problem worth a retry. */
  private async attempt(call: JsonCall): Promise<Attempt> {
    let answer: TransportAnswer;
    try {
      answer = await this.transport({
        method: call.method,
        url: `${this.baseUrl}${call.path}`,
        headers: this.headers(call),
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        timeoutMs: this.timeoutMs,
        answerBytesMax: this.answerBytesMax,
      });
    } catch (error) {
      return {
        kind: 'retry',
        problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (answer.kind === 'tooLong')
      throw this.errors.answerInvalid(`an answer longer than ${this.answerBytesMax} bytes`);
    const { status, text } = answer;
    if (status >= 500) return { kind: 'retry', problem: `HTTP ${status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw this.errors.answerInvalid(`HTTP ${status} answer is not JSON`);
    }
    if (status >= 400) throw this.refusal(status, body);
    return { kind: 'answer', answer: { body, replayed: answer.header('idempotent-replayed') === 'true' } };
  }

  private headers(call: JsonCall): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey !== undefined) headers['authorization'] = `Bearer ${this.options.apiKey}`;
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  /** The `{ error: { code, number, message } }` envelope every service answers a refusal with. */
  private refusal(status: number, body: unknown): Error {
    const { object, field } = this.decoders;
    const error = object(field(body, 'error'), 'error');
    const code = error['code'];
    const message = error['message'];
    const refusal =
      typeof code === 'string' && typeof message === 'string'
        ? this.errors.refusal(code, status, message)
        : undefined;
    return refusal ?? this.errors.answerInvalid(`HTTP ${status} refusal without a known error code`);
  }
}
