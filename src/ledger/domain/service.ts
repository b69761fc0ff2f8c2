// The ledger's operations. Pure orchestration over injected ports: no I/O of its own, no clock, no
// randomness. Every mutation runs in one storage transaction, so it happens entirely or not at all;
// a refusal (a thrown typed error) rolls everything back, idempotency claim included, so a refused
// request changes nothing and may be retried with the same key once the cause is gone.
import { assert } from '../../core/assert.ts';
import { ParticipantService } from '../../service-kit/participant-service.ts';
import { requestFingerprint as fingerprint, type IdempotentAnswer } from '../../storage/idempotency.ts';
import { ledgerError } from '../api/errors.ts';
import type { LedgerStore, LedgerTransaction, PaymentDecision, PaymentView } from './ports.ts';
import {
  checkAccountOpening,
  checkAvailable,
  checkDebit,
  checkSettlement,
  checkDistinct,
  checkHoldPlacement,
  checkIssuance,
  checkRead,
  holdStatus,
  isVisible,
  postings,
  requireRole,
} from './rules.ts';
import {
  issuanceAccountId,
  type Account,
  type AccountKind,
  type AccountView,
  type Clock,
  type Entry,
  type Hold,
  type HoldStatus,
  type IdGenerator,
  type Participant,
  type Payment,
  type PaymentKind,
  type Role,
  type StoredResult,
} from './types.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

/** An idempotent answer: `replayed` is true when it comes from an earlier request with the same key. */
export type Answer<T> = IdempotentAnswer<T>;

export interface PaymentRequest {
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference: string | null;
}

export interface HoldRequest extends PaymentRequest {
  readonly expiresInSeconds: number;
}

export interface Capture {
  readonly hold: Hold;
  readonly payment: Payment;
}

export interface LedgerServiceOptions {
  /** How long an idempotency key's answer replays (default idempotencyRetentionMsDefault, 7 days). */
  readonly idempotencyRetentionMs?: number;
}

/** The ledger's operations; authentication, the bootstrap operator and idempotency are the kit's. */
export class LedgerService extends ParticipantService<
  Participant,
  StoredResult,
  LedgerTransaction,
  LedgerStore
> {
  constructor(
    store: LedgerStore,
    clock: Clock,
    private readonly ids: IdGenerator,
    options: LedgerServiceOptions = {},
  ) {
    super({
      store,
      clock,
      ids,
      idempotencyRetentionMs: options.idempotencyRetentionMs,
      operator: (id, name, createdAtMs) => ({ id, name, role: 'operator', createdAtMs }),
    });
  }

  createParticipant(
    caller: Participant,
    key: string,
    request: { readonly name: string; readonly role: Role; readonly apiKeySha256: string },
  ): Promise<Answer<Participant>> {
    requireRole(caller, ['operator'], 'create participants');
    const print = fingerprint('createParticipant', [request.name, request.role, request.apiKeySha256]);
    return this.idempotent(caller, key, print, 'participant', async (tx, nowMs) => {
      const participant: Participant = { id: this.ids.next('prt'), ...pick(request), createdAtMs: nowMs };
      if (!(await tx.insertParticipant(participant, request.apiKeySha256)))
        throw serviceError('apiKeyAlreadyRegistered');
      return { kind: 'participant', participant };
    }).then((answer) => ({ value: answer.value.participant, replayed: answer.replayed }));
  }

  createAccount(
    caller: Participant,
    key: string,
    request: { readonly kind: AccountKind; readonly ownerId: string },
  ): Promise<Answer<Account>> {
    const print = fingerprint('createAccount', [request.kind, request.ownerId]);
    return this.idempotent(caller, key, print, 'account', async (tx, nowMs) => {
      const owner = request.ownerId === caller.id ? caller : await tx.findParticipant(request.ownerId);
      if (owner === null) throw ledgerError('participantNotFound', `participant ${request.ownerId}`);
      checkAccountOpening(caller, owner, request.kind);
      const account: Account = {
        id: this.ids.next('acc'),
        kind: request.kind,
        ownerId: owner.id,
        balance: 0n,
        entryCount: 0,
        createdAtMs: nowMs,
      };
      await tx.insertAccount(account);
      return { kind: 'account', account };
    }).then((answer) => ({ value: answer.value.account, replayed: answer.replayed }));
  }

  /** The central bank creates money into an intermediary's account. */
  issue(
    caller: Participant,
    key: string,
    request: { readonly accountId: string; readonly amount: bigint; readonly reference: string | null },
  ): Promise<Answer<Payment>> {
    requireRole(caller, ['operator'], 'issue money');
    const print = fingerprint('issue', [request.accountId, request.amount, request.reference]);
    return this.idempotent(caller, key, print, 'payment', async (tx, nowMs) => {
      const [issuance, payee] = await lockPair(tx, issuanceAccountId, request.accountId);
      checkIssuance(issuance, payee, request.amount);
      const payment = this.makePayment(
        'issuance',
        { ...request, payerAccountId: issuanceAccountId, payeeAccountId: payee.id },
        null,
        nowMs,
      );
      await settle(tx, issuance, payee, payment);
      return { kind: 'payment', payment };
    }).then(paymentAnswer);
  }

  pay(caller: Participant, key: string, request: PaymentRequest): Promise<Answer<Payment>> {
    checkDistinct(request.payerAccountId, request.payeeAccountId);
    const print = fingerprint('pay', [
      request.payerAccountId,
      request.payeeAccountId,
      request.amount,
      request.reference,
    ]);
    const nowMs = this.clock.nowMs();
    const target = { kind: 'payment', participantId: caller.id, key, ...request, nowMs } as const;
    return this.store
      .decideAndPost(target, (view) => this.decidePayment(caller, key, print, request, view, nowMs))
      .then(paymentAnswer);
  }

  /** A payment's rules on its view: the first answer for a replay, else the payment or a refusal. */
  private decidePayment(
    caller: Participant,
    key: string,
    print: string,
    request: PaymentRequest,
    view: PaymentView,
    nowMs: number,
  ): PaymentDecision<Answer<{ readonly payment: Payment }>> {
    const claim = { participantId: caller.id, key, fingerprint: print, kind: 'payment', nowMs } as const;
    if (view.earlier !== null)
      return { kind: 'answer', answer: this.keys.replay<StoredResult, 'payment'>(view.earlier, claim) };
    const [payer, payee] = presentPair(view, request.payerAccountId, request.payeeAccountId);
    const kind = caller.role === 'settlement' ? 'settlement' : 'payment';
    if (kind === 'settlement') checkSettlement(caller, payer, payee);
    else checkDebit(caller, payer);
    checkAvailable(payer, view.payerHeld, request.amount);
    const payment = this.makePayment(kind, request, null, nowMs);
    const result = { kind: 'payment', payment } as const;
    return {
      kind: 'post',
      payment,
      result,
      fingerprint: print,
      captured: null,
      answer: { value: result, replayed: false },
    };
  }

  /** Reserves an amount of the payer's balance for a later capture to the payee (load, unload). */
  placeHold(caller: Participant, key: string, request: HoldRequest): Promise<Answer<Hold>> {
    checkDistinct(request.payerAccountId, request.payeeAccountId);
    const print = fingerprint('placeHold', [
      request.payerAccountId,
      request.payeeAccountId,
      request.amount,
      request.reference,
      request.expiresInSeconds,
    ]);
    return this.idempotent(caller, key, print, 'hold', async (tx, nowMs) => {
      // Only the payer's row is locked: a hold changes no balance, and the payee (often a DCP's
      // pool, on every load) must not queue its other holds and captures behind this one.
      const payer = await lockPayer(tx, request.payerAccountId, request.payeeAccountId);
      checkDebit(caller, payer);
      const active = await tx.activeHolds(payer.id, nowMs);
      checkHoldPlacement(request.expiresInSeconds, active.count);
      checkAvailable(payer, active.total, request.amount);
      const hold: Hold = {
        id: this.ids.next('hold'),
        payerAccountId: request.payerAccountId,
        payeeAccountId: request.payeeAccountId,
        amount: request.amount,
        reference: request.reference,
        state: 'held',
        expiresAtMs: nowMs + request.expiresInSeconds * 1000,
        createdAtMs: nowMs,
        paymentId: null,
        closedAtMs: null,
      };
      await tx.insertHold(hold);
      return { kind: 'hold', hold };
    }).then((answer) => ({ value: answer.value.hold, replayed: answer.replayed }));
  }

  /** Moves the held amount to the payee. Idempotent by hold: capturing a captured hold answers the same. */
  async captureHold(caller: Participant, holdId: string): Promise<Answer<Capture>> {
    const nowMs = this.clock.nowMs();
    const decided = await this.store.decideAndPost({ kind: 'capture', holdId, nowMs }, (view) =>
      this.decideCapture(caller, holdId, view, nowMs),
    );
    if (decided.payment !== null)
      return { value: { hold: decided.hold, payment: decided.payment }, replayed: false };
    assert(decided.hold.paymentId !== null, 'a captured hold names its payment');
    const payment = await this.store.findPayment(decided.hold.paymentId);
    assert(payment !== null, 'the capture payment of a hold exists');
    return { value: { hold: decided.hold, payment }, replayed: true };
  }

  /** A capture's rules on its view; a hold already captured answers without its payment (read after). */
  private decideCapture(
    caller: Participant,
    holdId: string,
    view: PaymentView,
    nowMs: number,
  ): PaymentDecision<{ readonly hold: Hold; readonly payment: Payment | null }> {
    const { hold } = view;
    if (hold === null) throw ledgerError('holdNotFound', `hold ${holdId}`);
    const [payer] = presentPair(view, hold.payerAccountId, hold.payeeAccountId);
    if (payer.ownerId !== caller.id) throw ledgerError('holdNotFound', `hold ${holdId}`);
    if (hold.state === 'captured') return { kind: 'answer', answer: { hold, payment: null } };
    if (hold.state === 'released') throw ledgerError('holdAlreadyReleased', `hold ${hold.id}`);
    if (holdStatus(hold, nowMs) === 'expired') throw ledgerError('holdExpired', `hold ${hold.id}`);
    const payment = this.makePayment('capture', hold, hold.id, nowMs);
    const captured: Hold = { ...hold, state: 'captured', paymentId: payment.id, closedAtMs: nowMs };
    // The hold stops counting against the payer (state captured) in the same commit as the debit.
    // Always true while clocks move forward (a held amount stays covered by the balance); checked
    // as a rule rather than asserted because instances sharing PostgreSQL may disagree on time.
    checkAvailable(payer, view.payerHeld - hold.amount, hold.amount);
    return {
      kind: 'post',
      payment,
      result: null,
      fingerprint: '',
      captured,
      answer: { hold: captured, payment },
    };
  }

  /** Gives the held amount back to the payer's available balance. Idempotent by hold. */
  releaseHold(caller: Participant, holdId: string): Promise<Answer<Hold>> {
    return this.store.transaction(async (tx) => {
      const nowMs = this.clock.nowMs();
      const hold = await lockHold(tx, caller, holdId);
      if (hold.state === 'released') return { value: hold, replayed: true };
      if (hold.state === 'captured') throw ledgerError('holdAlreadyCaptured', `hold ${hold.id}`);
      const released: Hold = { ...hold, state: 'released', closedAtMs: nowMs };
      await tx.updateHold(released);
      return { value: released, replayed: false };
    });
  }

  async account(caller: Participant, accountId: string): Promise<AccountView> {
    const view = await this.store.accountView(accountId, this.clock.nowMs());
    if (view === null) throw ledgerError('accountNotFound', `account ${accountId}`);
    checkRead(caller, view.account);
    return view;
  }

  async statement(
    caller: Participant,
    accountId: string,
    afterSequence: number,
    limit: number,
  ): Promise<readonly Entry[]> {
    await this.account(caller, accountId);
    return this.store.entries(accountId, afterSequence, limit);
  }

  async payment(caller: Participant, paymentId: string): Promise<Payment> {
    const payment = await this.store.findPayment(paymentId);
    if (payment === null) throw ledgerError('paymentNotFound', `payment ${paymentId}`);
    const payer = await this.store.accountView(payment.payerAccountId, 0);
    const payee = await this.store.accountView(payment.payeeAccountId, 0);
    if (!isVisible(caller, [payer?.account.ownerId ?? null, payee?.account.ownerId ?? null])) {
      throw ledgerError('paymentNotFound', `payment ${paymentId}`);
    }
    return payment;
  }

  async hold(caller: Participant, holdId: string): Promise<Hold> {
    const hold = await this.store.findHold(holdId);
    if (hold === null) throw ledgerError('holdNotFound', `hold ${holdId}`);
    const payer = await this.store.accountView(hold.payerAccountId, 0);
    const payee = await this.store.accountView(hold.payeeAccountId, 0);
    if (!isVisible(caller, [payer?.account.ownerId ?? null, payee?.account.ownerId ?? null])) {
      throw ledgerError('holdNotFound', `hold ${holdId}`);
    }
    return hold;
  }

  statusOf(hold: Hold): HoldStatus {
    return holdStatus(hold, this.clock.nowMs());
  }

  private makePayment(
    kind: PaymentKind,
    request: PaymentRequest,
    holdId: string | null,
    nowMs: number,
  ): Payment {
    return {
      id: this.ids.next('pay'),
      kind,
      payerAccountId: request.payerAccountId,
      payeeAccountId: request.payeeAccountId,
      amount: request.amount,
      reference: request.reference,
      holdId,
      createdAtMs: nowMs,
    };
  }
}

function pick(request: { readonly name: string; readonly role: Role }): { name: string; role: Role } {
  return { name: request.name, role: request.role };
}

function paymentAnswer(answer: Answer<{ readonly payment: Payment }>): Answer<Payment> {
  return { value: answer.value.payment, replayed: answer.replayed };
}

/** Locks both accounts (in id order, by the store) and returns them as [first, second]. */
async function lockPair(
  tx: LedgerTransaction,
  first: string,
  second: string,
): Promise<readonly [Account, Account]> {
  const accounts = await tx.lockAccounts([first, second]);
  const a = accounts.get(first);
  const b = accounts.get(second);
  if (a === undefined) throw ledgerError('accountNotFound', `account ${first}`);
  if (b === undefined) throw ledgerError('accountNotFound', `account ${second}`);
  return [a, b];
}

/** Locks the payer alone, after checking that the payee exists (accounts are never deleted). */
async function lockPayer(tx: LedgerTransaction, payerId: string, payeeId: string): Promise<Account> {
  if ((await tx.findAccount(payeeId)) === null) throw ledgerError('accountNotFound', `account ${payeeId}`);
  const payer = (await tx.lockAccounts([payerId])).get(payerId);
  if (payer === undefined) throw ledgerError('accountNotFound', `account ${payerId}`);
  return payer;
}

/** The view's accounts as [payer, payee], refusing an unknown one (payer named first). */
function presentPair(view: PaymentView, payerId: string, payeeId: string): readonly [Account, Account] {
  if (view.payer === null) throw ledgerError('accountNotFound', `account ${payerId}`);
  if (view.payee === null) throw ledgerError('accountNotFound', `account ${payeeId}`);
  return [view.payer, view.payee];
}

/** A hold to release, read under its lock after its payer's (releasing changes no balance). */
async function lockHold(tx: LedgerTransaction, caller: Participant, holdId: string): Promise<Hold> {
  // The hold's accounts never change, so an unlocked read names the account to lock first (the
  // global order is accounts, then hold); the hold is then read again under its lock.
  const unlocked = await tx.findHold(holdId);
  if (unlocked === null) throw ledgerError('holdNotFound', `hold ${holdId}`);
  const payer = await lockPayer(tx, unlocked.payerAccountId, unlocked.payeeAccountId);
  if (payer.ownerId !== caller.id) throw ledgerError('holdNotFound', `hold ${holdId}`);
  const hold = await tx.lockHold(holdId);
  assert(hold !== null, 'holds are never deleted');
  return hold;
}

async function settle(
  tx: LedgerTransaction,
  payer: Account,
  payee: Account,
  payment: Payment,
): Promise<void> {
  await tx.postPayment(payment, postings(payer, payee, payment));
}
