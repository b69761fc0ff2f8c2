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
//   renewal:  done at once (no ledger movement)
import { fromHex } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { certificateFromCbor } from '../../core/certificate.ts';
import { isCbdcError } from '../../core/errors.ts';
import { dcpError } from '../api/errors.ts';
import type { OperationRow } from '../store/sql-store.ts';
import type { DcpContext } from './context.ts';
import { loadHoldSeconds, reconcileBatchMax } from './limits.ts';
import { mint, nextIssuanceTime } from './mint.ts';

export interface LoadAnswer {
  readonly operationId: string;
  readonly issuance: string;
}

/** Drives an operation until it is done (or a call fails, which throws and leaves it for a retry). */
export async function drive(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  let current = operation;
  for (let step = 0; step < 3 && current.state !== 'done'; step++) current = await advance(context, current);
  return current;
}

async function advance(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
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
    case 'renewal':
      return operation;
  }
}

async function placeLoadHold(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  let holdId: string;
  try {
    const hold = await context.ledger.placeHold(`dcp-load-${operation.id}`, {
      payerAccountId: operation.accountId!,
      payeeAccountId: context.poolAccountId,
      amount: operation.amount,
      expiresInSeconds: loadHoldSeconds,
      reference: `load:${operation.id}`,
    });
    holdId = hold.value.id;
  } catch (error) {
    if (isCbdcError(error) && error.code !== 'ledgerUnavailable' && error.code !== 'ledgerAnswerInvalid') {
      // Refused: nothing moved and nothing will be issued; forget the operation.
      await context.store.transaction((tx) => tx.deleteOperation(operation.id));
      if (error.code === 'insufficientBalance') throw dcpError('walletInsufficientBalance', error.message);
      throw dcpError('dcpRequestInvalid', `the ledger refused the hold: ${error.message}`);
    }
    throw ledgerUnavailable(error);
  }
  const held = await context.store.transaction(async (tx) => {
    const current = await tx.findOperation(operation.id, true);
    if (current === null || current.state !== 'pending') return current;
    const next = { ...current, state: 'held' as const, holdId };
    await tx.updateOperation(next, context.clock.nowMs());
    return next;
  });
  context.fault('load.afterHold');
  if (held === null) throw dcpError('dcpRequestInvalid', 'the load was abandoned');
  return held;
}

async function captureLoad(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  try {
    await context.ledger.captureHold(operation.holdId!);
  } catch (error) {
    if (isCbdcError(error) && (error.code === 'holdExpired' || error.code === 'holdAlreadyReleased')) {
      await context.store.transaction((tx) => tx.deleteOperation(operation.id));
      throw dcpError('walletInsufficientBalance', `the load's hold ended before capture: ${error.message}`);
    }
    throw ledgerUnavailable(error);
  }
  context.fault('load.afterCapture');
  const done = await context.store.transaction(async (tx) => {
    const current = await tx.findOperation(operation.id, true);
    if (current === null || current.state !== 'held') return current;
    const device = await tx.findDevice(current.seId, true);
    if (device === null) throw dcpError('deviceNotFound');
    const time = nextIssuanceTime(context.nowSeconds(), device.lastTime);
    const seId = fromHex(current.seId)!;
    const minted = mint(
      context.signer,
      context.verifier,
      context.dcpId,
      current.id,
      'load',
      'load',
      seId,
      [current.amount],
      [],
      time,
    );
    const nowMs = context.clock.nowMs();
    await tx.insertIssuance(minted.row, nowMs);
    await tx.setDeviceLastTime(current.seId, time);
    const answer: LoadAnswer = { operationId: current.id, issuance: minted.row.signed };
    const next = { ...current, state: 'done' as const, answer: JSON.stringify(answer) };
    await tx.updateOperation(next, nowMs);
    return next;
  });
  context.fault('load.afterCommit');
  if (done === null) throw dcpError('dcpRequestInvalid', 'the load was abandoned');
  return done;
}

async function payUnload(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  const payment = await ledgerCall(() =>
    context.ledger.pay(`dcp-unload-${operation.id}`, {
      payerAccountId: context.poolAccountId,
      payeeAccountId: operation.accountId!,
      amount: operation.amount,
      reference: `unload:${operation.id}`,
    }),
  );
  context.fault('unload.afterPayment');
  const done = await finish(context, operation, 'pending', 'done', payment.value.id);
  context.fault('unload.afterCommit');
  return done;
}

async function payTransfer(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  const payment = await ledgerCall(() =>
    context.ledger.pay(`dcp-transfer-${operation.id}`, {
      payerAccountId: context.poolAccountId,
      payeeAccountId: operation.accountId!,
      amount: operation.amount,
      reference: transferReference(operation.id, operation.payeeSeId!),
    }),
  );
  context.fault('transfer.afterPayment');
  return finish(context, operation, 'pending', 'paid', payment.value.id);
}

async function creditPayee(context: DcpContext, operation: OperationRow): Promise<OperationRow> {
  await context.peers.credit(operation.payeeEndpoint!, operation.paymentId!);
  context.fault('transfer.afterCredit');
  return finish(context, operation, 'paid', 'done', operation.paymentId!);
}

async function finish(
  context: DcpContext,
  operation: OperationRow,
  from: OperationRow['state'],
  to: OperationRow['state'],
  paymentId: string,
): Promise<OperationRow> {
  return context.store.transaction(async (tx) => {
    const current = await tx.findOperation(operation.id, true);
    if (current === null) throw dcpError('dcpInternalError', `operation ${operation.id} vanished`);
    if (current.state !== from) return current;
    const next = { ...current, state: to, paymentId };
    await tx.updateOperation(next, context.clock.nowMs());
    return next;
  });
}

/** The ledger reference of a transfer's payment; the payee DCP reads the payee SE from it. */
export function transferReference(operationId: string, payeeSeId: string): string {
  return `xfer:${operationId}:${payeeSeId}`;
}

export const transferReferencePattern = /^xfer:([0-9a-f]{32}):([0-9a-f]{32})$/;

async function ledgerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw ledgerUnavailable(error);
  }
}

function ledgerUnavailable(error: unknown): Error {
  if (isCbdcError(error) && error.code.startsWith('dcp')) return error;
  const message = error instanceof Error ? error.message : String(error);
  return dcpError('dcpLedgerUnavailable', message);
}

export interface ReconcileReport {
  readonly driven: number;
  readonly failed: number;
  readonly registered: number;
}

/**
 * Drives every open operation and finishes every interrupted device registration (on start and
 * periodically). Failures are counted, not thrown: the next pass retries them.
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
  return { driven, failed, registered };
}

/** Registers a personalised SE in the directory (idempotent there), then marks it active. */
export async function finishRegistration(
  context: DcpContext,
  seId: string,
  certificateHex: string,
  walletId: string,
): Promise<void> {
  const certificate = certificateFromCbor(decodeCbor(fromHex(certificateHex)!));
  await context.callDirectory(() => context.directory.register(certificate, walletId));
  await context.store.transaction((tx) => tx.setDeviceState(seId, 'active'));
}
