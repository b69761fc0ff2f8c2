// The core ledger gateway: the DCP's only path to the ledger. Every mutation carries the caller's
// idempotency key, so a call may be retried after a timeout or a lost connection without paying
// twice: the ledger answers a replay with the first answer. Retries are bounded, with exponential
// backoff (the shared `JsonCaller`); refusals (4xx) are never retried and surface as typed
// `CbdcError`s with the ledger's code.
import { ledgerAnswers, ledgerError, type LedgerAnswerCode } from './errors.ts';
import {
  JsonCaller,
  catalogueCallErrors,
  type JsonCall,
  type JsonCallerOptions,
} from '../../http-client/json-caller.ts';
import { catalogueRefusal } from '../../http-client/refusal.ts';
import {
  decodeAccount,
  decodeHold,
  decodeParticipant,
  decodePayment,
  decodeStatement,
  field,
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

/** The ledger's largest answer is a statement page of statementPageSizeMax entries (≈ 40 KiB). */
export const ledgerAnswerBytesMax = 1024 * 1024;

export interface LedgerClientOptions extends JsonCallerOptions {
  /** e.g. http://127.0.0.1:4100 */
  readonly baseUrl: string;
  /** Every ledger route needs the participant's key. */
  readonly apiKey: string;
}

/**
 * A refusal from the ledger: `code` is one of the ledger's catalogue or a generic service code
 * (service-kit/service-errors.ts), `status` the HTTP status.
 */
export class LedgerRefusal extends catalogueRefusal<LedgerAnswerCode>(ledgerAnswers.definition) {}

const ledgerCallErrors = catalogueCallErrors(ledgerAnswers.isCode, LedgerRefusal, {
  unavailable: (detail) => ledgerError('ledgerUnavailable', detail),
  answerInvalid: (detail) => ledgerError('ledgerAnswerInvalid', detail),
});

export interface PaymentOrder {
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference?: string;
}

export interface HoldOrder extends PaymentOrder {
  readonly expiresInSeconds: number;
}

export class LedgerClient {
  private readonly caller: JsonCaller;

  constructor(options: LedgerClientOptions) {
    this.caller = new JsonCaller(options, ledgerCallErrors, ledgerAnswerBytesMax);
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

  private call(call: JsonCall) {
    return this.caller.call(call);
  }
}
