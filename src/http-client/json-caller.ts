// The HTTP side of every typed service client (the ledger gateway, the directory client): one JSON
// call with a timeout per attempt, bounded attempts with exponential backoff and jitter, a bound on
// the answer, and refusals mapped to the service's error catalogue. Only core is imported (a test
// checks it): `fetch`, `AbortSignal` and `setTimeout` are globals, so a client built on this file
// stays importable by any service without pulling in another service's implementation.
//
// Every mutation carries the caller's idempotency key, so every call may be retried after a timeout
// or a lost connection: the service answers a replay with the first answer (and says so in the
// `Idempotent-Replayed` header). A refusal (4xx) is never retried: the same request would be refused
// again.
import { answerDecoders, type AnswerDecoders } from './answer-decode.ts';

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
  private readonly fetch: typeof fetch;

  /** `answerCharactersMax` bounds the answer's text: anything far longer is not a service answer. */
  constructor(
    private readonly options: JsonCallerOptions,
    private readonly errors: CallErrors,
    private readonly answerCharactersMax: number,
  ) {
    this.decoders = answerDecoders((detail) => errors.answerInvalid(detail));
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? callTimeoutMsDefault;
    this.attemptsMax = Math.max(1, options.attemptsMax ?? callAttemptsMaxDefault);
    this.backoffMs = options.backoffMs ?? backoffMsDefault;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? fetch;
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
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers: this.headers(call),
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      return {
        kind: 'retry',
        problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (text.length > this.answerCharactersMax)
      throw this.errors.answerInvalid(`answer of ${text.length} characters`);
    if (response.status >= 500) return { kind: 'retry', problem: `HTTP ${response.status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw this.errors.answerInvalid(`HTTP ${response.status} answer is not JSON`);
    }
    if (response.status >= 400) throw this.refusal(response.status, body);
    return {
      kind: 'answer',
      answer: { body, replayed: response.headers.get('idempotent-replayed') === 'true' },
    };
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
