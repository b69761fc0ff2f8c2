// The outbox (DESIGN §7: "core ledger and DCP commit in a crash-safe order"). Every operation that
// moves money on the ledger is first committed locally as a row of `dcp_operations`, then driven
// forward one ledger call at a time; each call carries an idempotency key derived from the operation
// id, and each call's outcome is committed before the next call. A crash at any point leaves a row
// whose state says which call to (re)make; replaying a call with its key returns the first answer,
// so nothing happens twice. On start (and periodically) `reconcile` drives every open row.
//
//   load:     pending --placeHold--> held --captureHold + mint issuance--> done
//             (a refused hold deletes the row: nothing was issued, nothing moved)
//   unload:   pending --pay pool→wallet--> done        (tokens retired and change minted at pending)
//   transfer: pending --pay pool→payee pool--> paid --payee DCP queues the credit--> done
//             (to a device of this DCP: done at once, the credit queued in the settlement's commit)
//   renewal:  done at once (no ledger movement)
//   refusal:  pending --pay pool→wallet--> done        (the refused load's token retired at pending)
//
// Each state is a member of the `Operation` union (ports.ts) carrying what it needs: a held load its
// hold, a paid transfer its payment. After every pass `reconcile` checks the pool invariant.
import { assert, unreachable } from '../../core/assert.ts';
import { isCbdcError } from '../../core/errors.ts';
import { dcpError } from '../api/errors.ts';
import { storedCertificate, storedSeId, type DcpContext } from './context.ts';
import { poolDifference } from './invariant.ts';
import { loadHoldSeconds, reconcileBatchMax } from './limits.ts';
import { mint } from './mint.ts';
import { fromLedger, ledgerCall } from './refusals.ts';
import type {
  DcpTransaction,
  LoadOperation,
  LoadResult,
  OpenOperation,
  Operation,
  RefusalOperation,
  TransferOperation,
  UnloadOperation,
} from './ports.ts';
import { poolFigures } from './supply.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

type Stage<T extends Operation, State extends Operation['state']> = Extract<T, { readonly state: State }>;
type PendingLoad = Stage<LoadOperation, 'pending'>;
type HeldLoad = Stage<LoadOperation, 'held'>;
type PendingUnload = Stage<UnloadOperation, 'pending'>;
type PendingTransfer = Extract<Stage<TransferOperation, 'pending'>, { readonly route: 'peer' }>;
type PaidTransfer = Stage<TransferOperation, 'paid'>;
type PendingRefusal = Stage<RefusalOperation, 'pending'>;

/** Steps from an operation's first state to done: load, held, done (the longest). */
const stepsMax = 3;

/** Drives an operation until it is done (or a call fails, which throws and leaves it for a retry). */
export async function drive(context: DcpContext, operation: Operation): Promise<Operation> {
  let current = operation;
  for (let step = 0; step < stepsMax && current.state !== 'done'; step++)
    current = await advance(context, current);
  assert(current.state === 'done', `operation ${current.id} is done after ${stepsMax} steps`);
  return current;
}

/** What a load answered, once driven to done. */
export function loadResultOf(operation: Operation): LoadResult {
  assert(operation.kind === 'load' && operation.state === 'done', 'a driven load is done');
  return operation.answer;
}

async function advance(context: DcpContext, operation: OpenOperation): Promise<Operation> {
  switch (operation.kind) {
    case 'load':
      return operation.state === 'pending'
        ? placeLoadHold(context, operation)
        : captureLoad(context, operation);
    case 'unload':
      return payUnload(context, operation);
    case 'transfer':
      return operation.state === 'pending'
        ? payTransfer(context, operation)
        : creditPayee(context, operation);
    case 'refusal':
      return payRefusal(context, operation);
    default:
      return unreachable(operation);
  }
}

/**
 * Commits one step: under the row's lock, when the operation is still in the state `from` accepts,
 * writes what `next` makes of it; otherwise (another driver was faster) answers the row as it is.
 */
async function step<T extends Operation>(
  context: DcpContext,
  id: string,
  from: (operation: Operation) => operation is T,
  next: (current: T, tx: DcpTransaction, nowMs: number) => Promise<Operation> | Operation,
): Promise<Operation | null> {
  return context.store.transaction(async (tx) => {
    const current = await tx.findOperation(id, true);
    if (current === null || !from(current)) return current;
    const nowMs = context.clock.nowMs();
    const updated = await next(current, tx, nowMs);
    await tx.updateOperation(updated, nowMs);
    return updated;
  });
}

/**
 * A step that writes nothing but the operation's row: one conditional write of `next` while the row
 * is still in `from`'s state (else the row as it is), without a transaction's locking read.
 */
function transition(context: DcpContext, from: OpenOperation, next: Operation): Promise<Operation | null> {
  return context.store.advanceOperation(next, from.state, context.clock.nowMs());
}

const isHeldLoad = (operation: Operation): operation is HeldLoad =>
  operation.kind === 'load' && operation.state === 'held';

async function placeLoadHold(context: DcpContext, operation: PendingLoad): Promise<Operation> {
  let holdId: string;
  try {
    const hold = await context.ledger.placeHold(`dcp-load-${operation.id}`, {
      payerAccountId: operation.accountId,
      payeeAccountId: context.poolAccountId,
      amount: operation.amount,
      expiresInSeconds: loadHoldSeconds,
      reference: `load:${operation.id}`,
    });
    holdId = hold.value.id;
  } catch (error) {
    const refusal = fromLedger(error, 'hold');
    if (isCbdcError(refusal) && refusalIsFinal(refusal.code)) {
      // Refused: nothing moved and nothing will be issued; forget the operation.
      await context.store.transaction((tx) => tx.deleteOperation(operation.id));
    }
    throw refusal;
  }
  const held = await transition(context, operation, { ...operation, state: 'held', holdId });
  context.fault('load.afterHold');
  if (held === null) throw serviceError('requestInvalid', 'the load was abandoned');
  return held;
}

async function captureLoad(context: DcpContext, operation: HeldLoad): Promise<Operation> {
  try {
    await context.ledger.captureHold(operation.holdId);
  } catch (error) {
    if (isCbdcError(error) && (error.code === 'holdExpired' || error.code === 'holdAlreadyReleased')) {
      await context.store.transaction((tx) => tx.deleteOperation(operation.id));
      throw dcpError('walletInsufficientBalance', `the load's hold ended before capture: ${error.message}`);
    }
    throw fromLedger(error, 'other');
  }
  context.fault('load.afterCapture');
  const done = await step(context, operation.id, isHeldLoad, (current, tx, nowMs) =>
    mintLoad(context, current, tx, nowMs),
  );
  context.fault('load.afterCommit');
  if (done === null) throw serviceError('requestInvalid', 'the load was abandoned');
  return done;
}

/** The load's issuance, in the commit that records its capture. */
async function mintLoad(
  context: DcpContext,
  load: HeldLoad,
  tx: DcpTransaction,
  nowMs: number,
): Promise<Operation> {
  const time = await tx.stampIssuanceTime(load.seId, context.nowSeconds());
  if (time === null) throw dcpError('deviceNotFound');
  const minted = mint({
    issuer: context,
    operationId: load.id,
    kind: 'load',
    seId: storedSeId(load.seId),
    values: [load.amount],
    retiredTokenIds: [],
    time,
  });
  await tx.insertIssuance(minted.row, nowMs);
  return { ...load, state: 'done', answer: { operationId: load.id, issuance: minted.row.signed } };
}

async function payUnload(context: DcpContext, operation: PendingUnload): Promise<Operation> {
  const payment = await ledgerCall('other', () =>
    context.ledger.pay(`dcp-unload-${operation.id}`, {
      payerAccountId: context.poolAccountId,
      payeeAccountId: operation.accountId,
      amount: operation.amount,
      reference: `unload:${operation.id}`,
    }),
  );
  context.fault('unload.afterPayment');
  const done = await transition(context, operation, {
    ...operation,
    state: 'done',
    paymentId: payment.value.id,
  });
  context.fault('unload.afterCommit');
  return vanishedUnlessFound(operation, done);
}

/** A refused load's value back to the wallet it came from (refusal.ts committed the retirement). */
async function payRefusal(context: DcpContext, operation: PendingRefusal): Promise<Operation> {
  const payment = await ledgerCall('other', () =>
    context.ledger.pay(`dcp-${operation.id}`, {
      payerAccountId: context.poolAccountId,
      payeeAccountId: operation.accountId,
      amount: operation.amount,
      reference: `refusal:${operation.answer.loadOperationId}`,
    }),
  );
  const done = await transition(context, operation, {
    ...operation,
    state: 'done',
    paymentId: payment.value.id,
  });
  return vanishedUnlessFound(operation, done);
}

async function payTransfer(context: DcpContext, operation: PendingTransfer): Promise<Operation> {
  const payment = await ledgerCall('other', () =>
    context.ledger.pay(`dcp-transfer-${operation.id}`, {
      payerAccountId: context.poolAccountId,
      payeeAccountId: operation.accountId,
      amount: operation.amount,
      reference: transferReference(operation.id, operation.payeeSeId),
    }),
  );
  context.fault('transfer.afterPayment');
  const paid = await transition(context, operation, {
    ...operation,
    state: 'paid',
    paymentId: payment.value.id,
  });
  return vanishedUnlessFound(operation, paid);
}

async function creditPayee(context: DcpContext, operation: PaidTransfer): Promise<Operation> {
  await context.peers.credit(operation.payeeEndpoint, operation.paymentId);
  context.fault('transfer.afterCredit');
  const done = await transition(context, operation, { ...operation, state: 'done' });
  return vanishedUnlessFound(operation, done);
}

/** Only a refused load deletes its row: an unload's, a transfer's or a refusal's row never vanishes. */
function vanishedUnlessFound(operation: Operation, found: Operation | null): Operation {
  if (found === null) throw serviceError('internalError', `operation ${operation.id} vanished`);
  return found;
}

/** The ledger reference of a transfer's payment; the payee DCP reads the payee SE from it. */
export function transferReference(operationId: string, payeeSeId: string): string {
  return `xfer:${operationId}:${payeeSeId}`;
}

export const transferReferencePattern = /^xfer:([0-9a-f]{32}):([0-9a-f]{32})$/;

/**
 * Whether a hold's refusal ends the load: a refusal about the wallet or the request does; the ledger
 * not answering, or refusing the DCP itself (`dcpLedgerRefused`, its setup), leaves the row for a
 * retry once an operator has looked.
 */
function refusalIsFinal(code: string): boolean {
  return code !== 'dcpLedgerUnavailable' && code !== 'dcpLedgerRefused';
}

export interface ReconcileReport {
  readonly driven: number;
  readonly failed: number;
  readonly registered: number;
  /**
   * The pool invariant after the pass (invariant.ts): pool − (issued − retired), zero when every
   * operation is done; null when the ledger could not be read.
   */
  readonly poolDifference: bigint | null;
}

/**
 * Drives every open operation and finishes every interrupted device registration (on start and
 * periodically), then checks the pool invariant. Failures are counted, not thrown: the next pass
 * retries them.
 */
export async function reconcile(
  context: DcpContext,
  log?: (error: unknown, what: string) => void,
): Promise<ReconcileReport> {
  let driven = 0;
  let failed = 0;
  for (const operation of await context.store.openOperations(reconcileBatchMax)) {
    try {
      await drive(context, operation);
      driven++;
    } catch (error) {
      failed++;
      log?.(error, `operation ${operation.id}`);
    }
  }
  let registered = 0;
  for (const device of await context.store.registeringDevices(reconcileBatchMax)) {
    try {
      await finishRegistration(context, device.seId, device.certificate, device.walletId);
      registered++;
    } catch (error) {
      failed++;
      log?.(error, `device ${device.seId}`);
    }
  }
  await context.store.transaction((tx) => tx.forgetExpiredNonces(context.clock.nowMs() - 60_000));
  let difference: bigint | null = null;
  try {
    difference = poolDifference(await poolFigures(context));
  } catch (error) {
    log?.(error, 'pool invariant check');
  }
  return { driven, failed, registered, poolDifference: difference };
}

/**
 * Registers a personalised SE in the directory (idempotent there), then marks it active. When the
 * directory refuses the registration (the public key is another DCP's SE, the SE is revoked...), the
 * device row is removed in one step and the refusal thrown: nothing was certified that anyone holds
 * (PERSONALISE never ran), the next pass does not retry it, and a retry of the request under the
 * same key runs again and meets the same refusal (personalise.ts).
 */
export async function finishRegistration(
  context: DcpContext,
  seId: string,
  certificateHex: string,
  walletId: string,
): Promise<void> {
  const certificate = storedCertificate(certificateHex);
  const outcome = await context.callDirectory(() => context.directory.register(certificate, walletId));
  if (outcome !== 'registered') {
    await context.store.transaction((tx) => tx.deleteRegisteringDevice(seId));
    throw dcpError(outcome.refused, outcome.message);
  }
  await context.store.transaction((tx) => tx.setDeviceState(seId, 'active'));
}
