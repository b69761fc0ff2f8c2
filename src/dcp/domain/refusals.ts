// What the ledger's refusals mean to a DCP caller (docs/dcp.md, "Refusals of other services"). The
// ledger answers in its own catalogue (src/ledger/api/errors.ts); the DCP answers only in its own, so
// every ledger code the DCP can meet becomes a DCP code here, and none falls through to a 500. A
// refusal that is about the caller's request (the wallet's account, its balance) gets a code naming
// it; one that is about the DCP itself (its key, role, a version mismatch) is `dcpLedgerRefused`, a
// 503 an operator must look at; a ledger that does not answer is `dcpLedgerUnavailable`.
import { AssertionFailed } from '../../core/assert.ts';
import { isCbdcError } from '../../core/errors.ts';
import { ledgerAnswers, type LedgerAnswerCode } from '../../ledger/api/errors.ts';
import { dcpError, isDcpErrorCode, type DcpErrorCode } from '../api/errors.ts';

/** The ledger's code of `error`, when it is the ledger's (codes are unique across catalogues). */
export function ledgerCodeOf(error: unknown): LedgerAnswerCode | undefined {
  return isCbdcError(error) && ledgerAnswers.isCode(error.code) ? error.code : undefined;
}

const unavailable: ReadonlySet<LedgerAnswerCode> = new Set([
  'ledgerUnavailable',
  'ledgerAnswerInvalid',
  'storageUnavailable',
  'internalError',
]);

/** Ledger codes about a wallet's account, wherever the DCP names it (creation, reading, a load). */
const walletAccountCodes: Partial<Record<LedgerAnswerCode, DcpErrorCode>> = {
  accountNotFound: 'walletAccountNotFound',
  notAccountOwner: 'walletAccountNotOwned',
};

/** Ledger codes a load's hold on the wallet's account may meet. */
const holdCodes: Partial<Record<LedgerAnswerCode, DcpErrorCode>> = {
  ...walletAccountCodes,
  insufficientBalance: 'walletInsufficientBalance',
  holdsLimitReached: 'walletHoldsLimitReached',
  payerMustDifferFromPayee: 'walletAccountNotWallet',
  issuanceAccountOnlyIssues: 'walletAccountNotWallet',
};

export type LedgerCallKind = 'walletAccount' | 'hold' | 'other';

/**
 * The DCP error for anything a ledger call threw. A DCP error and a failed assertion (a bug, for the
 * envelope's logged 500) pass as they are; anything else that is not a ledger refusal (a failure
 * below the client) is the ledger not answering.
 */
export function fromLedger(error: unknown, call: LedgerCallKind): unknown {
  if ((isCbdcError(error) && isDcpErrorCode(error.code)) || error instanceof AssertionFailed) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = ledgerCodeOf(error);
  if (code === undefined) return dcpError('dcpLedgerUnavailable', message);
  if (unavailable.has(code)) return dcpError('dcpLedgerUnavailable', message);
  // The outbox derives each call's key from the operation id, so the ledger refusing it as expired
  // stays so: the call is never made again as new money (docs/dcp.md, "Idempotency").
  if (code === 'idempotencyKeyExpired') return dcpError('dcpLedgerKeyExpired', message);
  const table = call === 'hold' ? holdCodes : call === 'walletAccount' ? walletAccountCodes : {};
  const mapped = table[code];
  if (mapped !== undefined) return dcpError(mapped, `the ledger answered ${code}: ${message}`);
  return dcpError('dcpLedgerRefused', `the ledger answered ${code}: ${message}`);
}

/** Runs a ledger call; whatever it throws is a DCP error (fromLedger). */
export async function ledgerCall<T>(call: LedgerCallKind, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw fromLedger(error, call);
  }
}
