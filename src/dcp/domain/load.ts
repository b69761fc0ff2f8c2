// Nonces and loads (DESIGN §7). A load: the device signs [amount, balance] over a fresh nonce; the
// DCP checks it, commits the operation (spending the nonce), then the outbox holds the wallet's
// money for the pool, captures it and mints the load issuance in one commit (outbox.ts).
import { bytesEqual, toHex } from '../../core/bytes.ts';
import { purposes } from '../../core/crypto.ts';
import { deviceRequestFromCbor, type DeviceRequest } from '../../core/device-request.ts';
import { loadRequestDigest } from '../../core/request-digests.ts';
import type { IdempotencyRecord } from '../../storage/idempotency.ts';
import { dcpError } from '../api/errors.ts';
import { decodeField, hexField, type DcpContext } from './context.ts';
import { drive, loadResultOf } from './outbox.ts';
import { loadsOpenMax } from './limits.ts';
import {
  refusalOperationId,
  type DcpTransaction,
  type DeviceRow,
  type KeyResult,
  type LoadOperation,
  type LoadResult,
} from './ports.ts';

export async function makeNonce(
  context: DcpContext,
  seId: string,
): Promise<{ readonly nonce: string; readonly expiresAt: number }> {
  const bytes = hexField(seId, 'seId');
  await context.device(seId);
  const made = context.nonces.make(bytes, context.clock.nowMs());
  return { nonce: toHex(made.nonce), expiresAt: made.expiresAt };
}

export interface LoadRequest {
  readonly seId: string;
  readonly amount: bigint;
  /** The SE's balance before the load, as the device read it (GET DATA) and signed it. */
  readonly balance: bigint;
  readonly deviceRequest: string;
}

export async function load(context: DcpContext, key: string, request: LoadRequest): Promise<LoadResult> {
  const fingerprint = context.fingerprint('load', [
    request.seId,
    request.amount,
    request.balance,
    request.deviceRequest,
  ]);
  // One read of the key serves both: a refused load's key is freed, any other answers a replay.
  const record = await context.store.reader.findKey(request.seId, key);
  const released = await forgetRefusedLoad(context, request.seId, key, record);
  const earlier = context.earlierOf(released ? null : record, key, fingerprint);
  if (earlier !== null) return replayLoad(context, earlier.id);
  const device = await context.device(request.seId);
  const signed = await checkLoadRequest(context, device, request);
  const nonce = context.nonces.check(signed.body.seId, signed.body.dcpNonce, context.nowSeconds());
  const limits = context.limitsByKind[device.kind].body;
  if (request.balance + request.amount > limits.balanceMax)
    throw dcpError(
      'loadBalanceLimitExceeded',
      `would hold ${request.balance + request.amount}, limit ${limits.balanceMax}`,
    );
  await context.requireActive(signed.body.seId);
  const wallet = await context.wallet(device.walletId);
  if (wallet === null) throw dcpError('walletNotFound');
  const operation: LoadOperation = {
    id: context.newId('op'),
    kind: 'load',
    seId: request.seId,
    amount: request.amount,
    state: 'pending',
    accountId: wallet.accountId,
  };
  const committed = await context.store.transaction((tx) =>
    context.idempotentAnswered(
      tx,
      { scope: request.seId, key, fingerprint, kind: 'load' },
      { kind: 'load', id: operation.id },
      async () => {
        if (!(await tx.useNonce(toHex(signed.body.dcpNonce), nonce.expiresAt * 1000)))
          throw dcpError('nonceAlreadyUsed');
        await requireRoomForUnseen(tx, request, limits.balanceMax, nonce.madeAtMs);
        await tx.insertOperation(operation, context.clock.nowMs());
      },
    ),
  );
  if (committed.replayed) return replayLoad(context, committed.value.id);
  context.fault('load.afterIntent');
  return loadResultOf(await drive(context, operation));
}

/**
 * The guard against loads no SE will install (issue 8, item 6). The balance the SE signed does not
 * hold the loads issued to it but not yet installed; the SE would refuse those that pass its limit,
 * and their value would stay in the pool. So the DCP counts, per SE, the value of its loads not yet
 * seen installed, and refuses a load that would bring the signed balance, that value and the load
 * above the balance limit. It is counted under the device row's lock, in the load's own commit, so
 * concurrent loads of one SE are counted one after the other and cannot both pass.
 *
 * A load counts as seen installed when the SE signs a balance over a nonce made after the load was
 * done (the device app installs a load as soon as it is answered, before it asks for the next
 * nonce), or when the SE claims its tokens (renewal, unload, transfer) after it: the claim holds it,
 * or the SE can no longer install it, since it refuses issuances stamped before its last sync. Open
 * loads, and loads done in or after the millisecond the nonce was made, count as not seen.
 */
async function requireRoomForUnseen(
  tx: DcpTransaction,
  request: LoadRequest,
  balanceMax: bigint,
  nonceMadeAtMs: number,
): Promise<void> {
  const device = await tx.findDevice(request.seId, true);
  if (device === null) throw dcpError('deviceNotFound');
  const { open, value: unseen } = await tx.loadsUnseen(device, nonceMadeAtMs);
  // A sync delivers every open load again (settle.ts), and COMPLETE SYNC takes only so many.
  if (open >= loadsOpenMax)
    throw dcpError('loadsOpenLimitReached', `${open} loads open, at most ${loadsOpenMax}: sync first`);
  if (request.balance + unseen + request.amount > balanceMax)
    throw dcpError(
      'loadUnseenExceedsBalanceLimit',
      `balance ${request.balance} + loads not yet installed ${unseen} + ${request.amount} > ${balanceMax}`,
    );
}

/** The device request: signed by the SE's certified key, over this load's digest. */
async function checkLoadRequest(
  context: DcpContext,
  device: DeviceRow,
  request: LoadRequest,
): Promise<DeviceRequest> {
  const signed = decodeField(request.deviceRequest, 'deviceRequest', deviceRequestFromCbor);
  const valid = await context.requestVerifier.verify(
    device.publicKey,
    purposes.deviceRequest,
    signed.bodyBytes,
    signed.signature,
  );
  if (!valid) throw dcpError('deviceSignatureInvalid', 'device request signature');
  const digest = loadRequestDigest(context.verifier, request.amount, request.balance);
  if (toHex(signed.body.seId) !== request.seId || !bytesEqual(signed.body.requestDigest, digest))
    throw dcpError('deviceRequestMismatch');
  return signed;
}

/**
 * A refused load deleted its operation (nothing moved): its key is free again for a new attempt,
 * unless it expired (then it is refused like every expired key). True when the key was freed.
 */
async function forgetRefusedLoad(
  context: DcpContext,
  seId: string,
  key: string,
  earlier: IdempotencyRecord<KeyResult> | null,
): Promise<boolean> {
  if (earlier?.result == null || context.keyExpired(earlier)) return false;
  if ((await context.store.reader.findOperation(earlier.result.id)) !== null) return false;
  await context.store.transaction((tx) => tx.releaseKey(seId, key));
  return true;
}

async function replayLoad(context: DcpContext, operationId: string): Promise<LoadResult> {
  const operation = await context.store.reader.findOperation(operationId);
  // A refused load forgets its operation (nothing moved): the same key may be retried.
  if (operation === null) throw dcpError('walletInsufficientBalance', 'the load with this key was refused');
  // Its SE refused the issuance and the value went back (refusal.ts): it is not delivered again.
  if ((await context.store.reader.findOperation(refusalOperationId(operationId))) !== null)
    throw dcpError('loadRefused', `operation ${operationId}`);
  return loadResultOf(await drive(context, operation));
}
