// The core ledger gateway: the DCP's only path to the ledger. Every mutation carries the caller's
// idempotency key, so a call may be retried after a timeout or a lost connection without paying
// twice: the ledger answers a replay with the first answer. Retries are bounded, with exponential
// backoff; refusals (4xx) are never retried and surface as typed `CbdcError`s with the ledger's code.
import { CbdcError } from '../core/errors.ts';
import { isLedgerErrorCode, ledgerError, ledgerErrors, type LedgerErrorCode } from '../ledger/errors.ts';
import {
  decodeAccount,
  decodeHold,
  decodeParticipant,
  decodePayment,
  decodeStatement,
  object,
} from './decode.ts';
import type {
  LedgerAccount,
  LedgerHold,
  LedgerParticipant,
  LedgerPayment,
  LedgerRole,
  LedgerStatementPage,
  Replayable,
} from './types.ts';

export const ledgerCallTimeoutMsDefault = 5_000;
export const ledgerCallAttemptsMaxDefault = 5;
export const ledgerBackoffMsDefault = 50;
export const ledgerBackoffMsMax = 2_000;
export const ledgerAnswerBytesMax = 1024 * 1024;

export interface LedgerClientOptions {
  /** e.g. http://127.0.0.1:4100 */
  readonly baseUrl: string;
  readonly apiKey: string;
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

/** A refusal from the ledger: `code` is one of the ledger's catalogue, `status` the HTTP status. */
export class LedgerRefusal extends CbdcError<LedgerErrorCode> {
  constructor(
    code: LedgerErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(code, ledgerErrors[code], message);
  }
}

export interface PaymentOrder {
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference?: string;
}

export interface HoldOrder extends PaymentOrder {
  readonly expiresInSeconds: number;
}

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string;
}

interface Answer {
  readonly body: unknown;
  readonly replayed: boolean;
}

export class LedgerClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly attemptsMax: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: LedgerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? ledgerCallTimeoutMsDefault;
    this.attemptsMax = Math.max(1, options.attemptsMax ?? ledgerCallAttemptsMaxDefault);
    this.backoffMs = options.backoffMs ?? ledgerBackoffMsDefault;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? fetch;
  }

  async whoAmI(): Promise<LedgerParticipant> {
    const answer = await this.call({ method: 'GET', path: '/v1/participants/me' });
    return decodeParticipant(field(answer.body, 'participant'));
  }

  async createParticipant(
    idempotencyKey: string,
    request: { readonly name: string; readonly role: LedgerRole; readonly apiKeySha256: string },
  ): Promise<Replayable<LedgerParticipant>> {
    const answer = await this.call({
      method: 'POST',
      path: '/v1/participants',
      body: request,
      idempotencyKey,
    });
    return { value: decodeParticipant(field(answer.body, 'participant')), replayed: answer.replayed };
  }

  async createAccount(
    idempotencyKey: string,
    request: { readonly kind: 'intermediary' | 'dcpPool' | 'wallet'; readonly ownerId: string },
  ): Promise<Replayable<LedgerAccount>> {
    const answer = await this.call({ method: 'POST', path: '/v1/accounts', body: request, idempotencyKey });
    return { value: decodeAccount(field(answer.body, 'account')), replayed: answer.replayed };
  }

  async account(accountId: string): Promise<LedgerAccount> {
    const answer = await this.call({ method: 'GET', path: `/v1/accounts/${encodeURIComponent(accountId)}` });
    return decodeAccount(field(answer.body, 'account'));
  }

  async statement(
    accountId: string,
    page: { readonly after?: string; readonly limit?: number } = {},
  ): Promise<LedgerStatementPage> {
    const query = new URLSearchParams();
    if (page.after !== undefined) query.set('after', page.after);
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    const suffix = query.size === 0 ? '' : `?${query.toString()}`;
    const answer = await this.call({
      method: 'GET',
      path: `/v1/accounts/${encodeURIComponent(accountId)}/statement${suffix}`,
    });
    return decodeStatement(answer.body);
  }

  async issue(
    idempotencyKey: string,
    request: { readonly accountId: string; readonly amount: bigint; readonly reference?: string },
  ): Promise<Replayable<LedgerPayment>> {
    const body = { ...request, amount: request.amount.toString() };
    const answer = await this.call({ method: 'POST', path: '/v1/issuances', body, idempotencyKey });
    return { value: decodePayment(field(answer.body, 'payment')), replayed: answer.replayed };
  }

  async pay(idempotencyKey: string, order: PaymentOrder): Promise<Replayable<LedgerPayment>> {
    const body = { ...order, amount: order.amount.toString() };
    const answer = await this.call({ method: 'POST', path: '/v1/payments', body, idempotencyKey });
    return { value: decodePayment(field(answer.body, 'payment')), replayed: answer.replayed };
  }

  async payment(paymentId: string): Promise<LedgerPayment> {
    const answer = await this.call({ method: 'GET', path: `/v1/payments/${encodeURIComponent(paymentId)}` });
    return decodePayment(field(answer.body, 'payment'));
  }

  async placeHold(idempotencyKey: string, order: HoldOrder): Promise<Replayable<LedgerHold>> {
    const body = { ...order, amount: order.amount.toString() };
    const answer = await this.call({ method: 'POST', path: '/v1/holds', body, idempotencyKey });
    return { value: decodeHold(field(answer.body, 'hold')), replayed: answer.replayed };
  }

  async hold(holdId: string): Promise<LedgerHold> {
    const answer = await this.call({ method: 'GET', path: `/v1/holds/${encodeURIComponent(holdId)}` });
    return decodeHold(field(answer.body, 'hold'));
  }

  /** Idempotent by hold: a retried capture answers the same capture. */
  async captureHold(
    holdId: string,
  ): Promise<Replayable<{ readonly hold: LedgerHold; readonly payment: LedgerPayment }>> {
    const answer = await this.call({
      method: 'POST',
      path: `/v1/holds/${encodeURIComponent(holdId)}/capture`,
    });
    const hold = decodeHold(field(answer.body, 'hold'));
    return {
      value: { hold, payment: decodePayment(field(answer.body, 'payment')) },
      replayed: answer.replayed,
    };
  }

  /** Idempotent by hold. */
  async releaseHold(holdId: string): Promise<Replayable<LedgerHold>> {
    const answer = await this.call({
      method: 'POST',
      path: `/v1/holds/${encodeURIComponent(holdId)}/release`,
    });
    return { value: decodeHold(field(answer.body, 'hold')), replayed: answer.replayed };
  }

  private async call(call: Call): Promise<Answer> {
    let lastProblem = 'no attempt';
    for (let attempt = 1; attempt <= this.attemptsMax; attempt++) {
      if (attempt > 1) await this.sleep(this.backoff(attempt - 1));
      const outcome = await this.attempt(call);
      if (outcome.kind === 'answer') return outcome.answer;
      lastProblem = outcome.problem;
    }
    throw ledgerError(
      'ledgerUnavailable',
      `${call.method} ${call.path}: ${lastProblem} (${this.attemptsMax} attempts)`,
    );
  }

  private backoff(retry: number): number {
    const ceiling = Math.min(ledgerBackoffMsMax, this.backoffMs * 2 ** (retry - 1));
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  /** One attempt: an answer, a refusal (thrown), or a transient problem worth a retry. */
  private async attempt(
    call: Call,
  ): Promise<{ kind: 'answer'; answer: Answer } | { kind: 'retry'; problem: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}` };
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
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
    if (text.length > ledgerAnswerBytesMax)
      throw ledgerError('ledgerAnswerInvalid', `answer of ${text.length} characters`);
    if (response.status >= 500) return { kind: 'retry', problem: `HTTP ${response.status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw ledgerError('ledgerAnswerInvalid', `HTTP ${response.status} answer is not JSON`);
    }
    if (response.status >= 400) throw refusal(response.status, body);
    return {
      kind: 'answer',
      answer: { body, replayed: response.headers.get('idempotent-replayed') === 'true' },
    };
  }
}

function refusal(status: number, body: unknown): CbdcError {
  const error = object(field(body, 'error'), 'error');
  const code = error['code'];
  const message = error['message'];
  if (typeof code !== 'string' || !isLedgerErrorCode(code) || typeof message !== 'string') {
    return ledgerError('ledgerAnswerInvalid', `HTTP ${status} refusal without a known error code`);
  }
  return new LedgerRefusal(code, status, message);
}

function field(body: unknown, name: string): unknown {
  return object(body, 'answer')[name];
}
