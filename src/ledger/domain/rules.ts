// The ledger's rules as pure functions: who may do what, and what a payment does to balances.
// Each refusal throws a typed error from the catalogue; a broken invariant is an assertion.
import { assert } from '../../core/assert.ts';
import { ledgerError } from '../api/errors.ts';
import { activeHoldsPerAccountMax, holdSecondsMax, holdSecondsMin, supplyMax } from './limits.ts';
import type {
  Account,
  AccountKind,
  Entry,
  Hold,
  HoldStatus,
  Participant,
  Payment,
  PaymentKind,
  Role,
} from './types.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

export function requireRole(caller: Participant, allowed: readonly Role[], operation: string): void {
  if (!allowed.includes(caller.role)) {
    throw serviceError('roleNotAllowed', `a ${caller.role} may not ${operation}`);
  }
}

const kindsByRole: Readonly<Record<Role, readonly AccountKind[]>> = {
  operator: [],
  intermediary: ['intermediary', 'wallet'],
  dcp: ['dcpPool', 'wallet'],
  settlement: [],
};

/** Operators open accounts for anyone; others open accounts only for themselves. */
export function checkAccountOpening(caller: Participant, owner: Participant, kind: AccountKind): void {
  if (caller.role !== 'operator' && caller.id !== owner.id) {
    throw serviceError('roleNotAllowed', `a ${caller.role} opens accounts only for itself`);
  }
  if (!kindsByRole[owner.role].includes(kind)) {
    throw ledgerError('accountKindNotAllowedForOwner', `a ${owner.role} may not own a ${kind} account`);
  }
}

/** Only the owner debits an account; the issuance account is debited only by issuances. */
export function checkDebit(caller: Participant, payer: Account): void {
  if (payer.kind === 'issuance') throw ledgerError('issuanceAccountOnlyIssues');
  if (caller.role === 'settlement')
    throw serviceError('roleNotAllowed', 'a settlement only pays pool to pool');
  if (payer.ownerId !== caller.id) throw ledgerError('notAccountOwner', `account ${payer.id}`);
}

/**
 * A settlement moves money between DCP pools only (docs/ledger.md, "Settlement"): the caller owns
 * neither, and nothing else may be paid by the role.
 */
export function checkSettlement(caller: Participant, payer: Account, payee: Account): void {
  assert(caller.role === 'settlement', 'a settlement is made by the settlement role');
  if (payer.kind !== 'dcpPool' || payee.kind !== 'dcpPool')
    throw ledgerError(
      'settlementMustJoinPools',
      `accounts ${payer.id} (${payer.kind}) → ${payee.id} (${payee.kind})`,
    );
}

/** The owner and the operators read an account; the settlement role reads DCP pools. */
export function checkRead(caller: Participant, account: Account): void {
  if (caller.role === 'settlement' && account.kind === 'dcpPool') return;
  if (caller.role !== 'operator' && account.ownerId !== caller.id) {
    throw ledgerError('notAccountOwner', `account ${account.id}`);
  }
}

export function isVisible(caller: Participant, owners: readonly (string | null)[]): boolean {
  return caller.role === 'operator' || owners.includes(caller.id);
}

export function checkDistinct(payerAccountId: string, payeeAccountId: string): void {
  if (payerAccountId === payeeAccountId)
    throw ledgerError('payerMustDifferFromPayee', `account ${payerAccountId}`);
}

export function checkAvailable(payer: Account, activeHoldsTotal: bigint, amount: bigint): void {
  const available = payer.balance - activeHoldsTotal;
  if (available < amount) {
    throw ledgerError(
      'insufficientBalance',
      `account ${payer.id} has ${available} available, needs ${amount}`,
    );
  }
}

export function checkIssuance(issuance: Account, payee: Account, amount: bigint): void {
  assert(issuance.kind === 'issuance', 'issuance debits the issuance account');
  if (payee.kind !== 'intermediary') {
    throw ledgerError('issuanceMustCreditIntermediary', `account ${payee.id} is a ${payee.kind} account`);
  }
  if (-(issuance.balance - amount) > supplyMax) {
    throw ledgerError('supplyLimitExceeded', `${-issuance.balance} issued already`);
  }
}

export function checkHoldPlacement(expiresInSeconds: number, activeHoldCount: number): void {
  if (
    !Number.isSafeInteger(expiresInSeconds) ||
    expiresInSeconds < holdSecondsMin ||
    expiresInSeconds > holdSecondsMax
  ) {
    throw ledgerError(
      'holdDurationOutOfRange',
      `expiresInSeconds must be ${holdSecondsMin}..${holdSecondsMax}`,
    );
  }
  if (activeHoldCount >= activeHoldsPerAccountMax) throw ledgerError('holdsLimitReached');
}

export function holdStatus(hold: Hold, nowMs: number): HoldStatus {
  return hold.state === 'held' && nowMs >= hold.expiresAtMs ? 'expired' : hold.state;
}

/** The two entries of a payment: the payer's debit and the payee's credit, with new balances. */
export function postings(payer: Account, payee: Account, payment: Payment): readonly [Entry, Entry] {
  assert(payment.amount > 0n, 'payments move a positive amount');
  const debit = entry(payer, payment, 'debit', payer.balance - payment.amount);
  const credit = entry(payee, payment, 'credit', payee.balance + payment.amount);
  // Defence in depth behind the checks above (and the database's CHECK constraint).
  assert(payer.kind === 'issuance' || debit.balanceAfter >= 0n, 'only the issuance account goes negative');
  return [debit, credit];
}

function entry(
  account: Account,
  payment: Payment,
  direction: Entry['direction'],
  balanceAfter: bigint,
): Entry {
  const kind: PaymentKind = payment.kind;
  return {
    accountId: account.id,
    sequence: account.entryCount + 1,
    paymentId: payment.id,
    kind,
    direction,
    amount: payment.amount,
    balanceAfter,
    createdAtMs: payment.createdAtMs,
  };
}
