// Renewal, unload and online transfer (DESIGN §7): each starts from the SE's claim over all its tokens
// (signed over a DCP nonce and bound to the sealed upload by its digest). In one local commit the DCP
// spends the nonce, retires every claimed token (a unique key: at most once, ever), mints one fresh
// token for what stays on the SE plus any queued credits, stores the sealed upload in the MDS outbox
// and records the operation; an unload or a cross-DCP transfer then moves money on the ledger through
// the outbox (outbox.ts). The pool invariant holds at every commit: a renewal retires and mints the
// same value; an unload's or transfer's value leaves the pool by the outbox's payment.
//
// What the DCP can check of the claimed tokens in `async` mode (it never sees the offline graph): a
// token it minted itself (load, renewal, credit output) must be claimed by the SE it was minted to,
// with its value; a token it never minted came to the SE offline and is accepted — its backing is the
// MDS's to judge from the sealed history (or, in `sync` mode, the renewal check's, before minting).
// And the claimed value may not exceed the balance limit of the SE's kind.
import { bytesEqual, fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import { claimFromCbor, type Claim } from '../../core/claim.ts';
import { purposes } from '../../core/crypto.ts';
import { deviceRequestFromCbor } from '../../core/device-request.ts';
import { principalIdBytes } from '../../core/ids.ts';
import { dcpError } from '../api/errors.ts';
import type { DeviceRow, OperationRow } from '../store/sql-store.ts';
import { decodeField, hexField, type DcpContext } from './context.ts';
import { claimOrEarlier, earlierResult, fingerprintOf, Replay } from './idempotency.ts';
import { creditsPerSyncMax } from './limits.ts';
import { mint, nextIssuanceTime } from './mint.ts';
import { drive, transferReferencePattern } from './outbox.ts';
import { transferRequestDigest, unloadRequestDigest } from '../../core/request-digests.ts';

export interface SettleRequest {
  readonly claim: string;
  readonly sealedUpload: string;
  /** Unload and transfer: the value that leaves the SE. */
  readonly amount?: bigint;
  /** Transfer: the payee SE id (hex). */
  readonly payeeSeId?: string;
  /** Unload and transfer: the SE's AUTHENTICATE answer (hex) over the claim's nonce. */
  readonly deviceRequest?: string;
}

export interface SettleAnswer {
  readonly operationId: string;
  readonly kind: 'renewal' | 'unload' | 'transfer';
  readonly renewal: string;
  readonly credits: readonly string[];
  readonly amount: string;
}

type SettleKind = SettleAnswer['kind'];

interface Payee {
  readonly seId: string;
  /** null: a device of this DCP. */
  readonly endpoint: string | null;
  readonly poolAccountId: string | null;
}

export async function settle(
  context: DcpContext,
  kind: SettleKind,
  key: string,
  request: SettleRequest,
): Promise<SettleAnswer> {
  const claim = decodeField(request.claim, 'claim', claimFromCbor);
  const seId = toHex(claim.body.seId);
  const fingerprint = fingerprintOf(context.verifier, [
    kind,
    request.claim,
    request.sealedUpload,
    request.amount ?? null,
    request.payeeSeId ?? null,
    request.deviceRequest ?? null,
  ]);
  const earlier = await earlierResult(context.store.reader, seId, key, fingerprint);
  if (earlier !== null) return replay(context, earlier);

  const device = await context.device(seId);
  const sealed = hexField(request.sealedUpload, 'sealedUpload');
  const nonceExpiry = checkClaim(context, device, claim, sealed);
  const amount = kind === 'renewal' ? 0n : requireAmount(request.amount);
  const claimed = claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
  if (kind !== 'renewal') {
    if (claim.body.tokens.length === 0) throw dcpError('claimEmpty');
    if (amount > claimed) throw dcpError('unloadExceedsClaim', `${amount} asked, ${claimed} claimed`);
    checkDeviceRequest(context, device, claim, kind, amount, request);
  }
  const limits = context.limitsByKind[device.kind];
  if (claimed > limits.body.balanceMax)
    throw dcpError('claimExceedsBalanceLimit', `${claimed} claimed, limit ${limits.body.balanceMax}`);
  await context.requireActive(claim.body.seId);
  const payee = kind === 'transfer' ? await findPayee(context, seId, request.payeeSeId!) : null;
  const wallet = kind === 'unload' ? await context.store.reader.findWallet(device.walletId) : null;
  if (kind === 'unload' && wallet === null) throw dcpError('walletNotFound');
  // The point where a `sync` renewal check asks the MDS, before anything is retired or minted.
  const verdict = await context.renewalCheck.check(claim, sealed);
  if (!verdict.backed) throw dcpError('renewalCheckRefused', verdict.reason);

  const operationId = toHex(
    context.verifier.sha256(new TextEncoder().encode(`${seId}/${key}/${fingerprint}`)),
  ).slice(0, 32);
  let operation: OperationRow;
  try {
    operation = await context.store.transaction(async (tx) => {
      const nowMs = context.clock.nowMs();
      const won = await claimOrEarlier(tx, seId, key, fingerprint, operationId, nowMs);
      if (won !== null) throw new Replay(won);
      const locked = await tx.lockDevices(
        payee !== null && payee.endpoint === null ? [seId, payee.seId] : [seId],
      );
      const current = locked.get(seId)!;
      if (!(await tx.useNonce(toHex(claim.body.dcpNonce), nonceExpiry * 1000)))
        throw dcpError('nonceAlreadyUsed');
      const seenTokens = new Set<string>();
      for (const token of claim.body.tokens) {
        const tokenId = toHex(token.tokenId);
        if (seenTokens.has(tokenId))
          throw dcpError('dcpRequestInvalid', `claim lists token ${tokenId} twice`);
        seenTokens.add(tokenId);
        const minted = await tx.findToken(tokenId);
        if (minted !== null && (minted.seId !== seId || minted.value !== token.value))
          throw dcpError('claimTokenNotOwned', `token ${tokenId}`);
        if (!(await tx.retireToken(tokenId, seId, token.value, operationId, nowMs)))
          throw dcpError('tokenAlreadyRetired', `token ${tokenId}`);
      }
      const time = nextIssuanceTime(context.nowSeconds(), current.lastTime);
      const keep = claimed - amount;
      const renewal = mint(
        context.signer,
        context.verifier,
        context.dcpId,
        operationId,
        'renewal',
        'renewal',
        claim.body.seId,
        keep > 0n ? [keep] : [],
        claim.body.tokens.map((token) => token.tokenId),
        time,
      );
      await tx.insertIssuance(renewal.row, nowMs);
      const credits: string[] = [];
      const queued = await tx.queuedCredits(seId, creditsPerSyncMax);
      for (const creditKind of ['credit', 'refund'] as const) {
        const values = queued.filter((credit) => credit.kind === creditKind);
        if (values.length === 0) continue;
        const total = values.reduce((sum, credit) => sum + credit.value, 0n);
        const minted = mint(
          context.signer,
          context.verifier,
          context.dcpId,
          operationId,
          creditKind,
          creditKind,
          claim.body.seId,
          [total],
          [],
          time,
        );
        await tx.insertIssuance(minted.row, nowMs);
        for (const credit of values) await tx.markCreditMinted(credit.id, minted.row.id);
        credits.push(minted.row.signed);
      }
      await tx.setDeviceLastTime(seId, time);
      await tx.insertUpload(toHex(claim.body.uploadDigest), seId, operationId, request.sealedUpload, nowMs);
      const sameDcpPayee = payee !== null && payee.endpoint === null;
      if (sameDcpPayee) {
        if (!locked.has(payee.seId)) throw dcpError('payeeNotFound');
        await tx.queueCredit(`xfer:${operationId}`, payee.seId, 'credit', amount, nowMs);
      }
      const answer: SettleAnswer = {
        operationId,
        kind,
        renewal: renewal.row.signed,
        credits,
        amount: amount.toString(),
      };
      const row: OperationRow = {
        id: operationId,
        kind,
        seId,
        amount,
        state: kind === 'renewal' || sameDcpPayee ? 'done' : 'pending',
        accountId: kind === 'unload' ? wallet!.accountId : (payee?.poolAccountId ?? null),
        holdId: null,
        paymentId: null,
        payeeSeId: payee?.seId ?? null,
        payeeEndpoint: payee?.endpoint ?? null,
        answer: JSON.stringify(answer),
      };
      await tx.insertOperation(row, nowMs);
      return row;
    });
  } catch (error) {
    if (error instanceof Replay) return replay(context, error.result);
    throw error;
  }
  context.fault('settle.afterCommit');
  const done = await drive(context, operation);
  return JSON.parse(done.answer!) as SettleAnswer;
}

async function replay(context: DcpContext, operationId: string): Promise<SettleAnswer> {
  const operation = await context.store.reader.findOperation(operationId);
  if (operation === null) throw dcpError('dcpInternalError', `operation ${operationId} is missing`);
  const done = await drive(context, operation);
  return JSON.parse(done.answer!) as SettleAnswer;
}

/** Claim signature by the SE's certified key, its nonce, and the sealed upload it names. */
function checkClaim(context: DcpContext, device: DeviceRow, claim: Claim, sealed: Bytes): number {
  const publicKey = fromHex(device.publicKey)!;
  if (!context.verifier.verify(publicKey, purposes.claim, claim.bodyBytes, claim.signature))
    throw dcpError('deviceSignatureInvalid', 'claim signature');
  const expiry = context.nonces.check(claim.body.seId, claim.body.dcpNonce, context.nowSeconds());
  if (!bytesEqual(context.verifier.sha256(sealed), claim.body.uploadDigest))
    throw dcpError('uploadDigestMismatch');
  return expiry;
}

function checkDeviceRequest(
  context: DcpContext,
  device: DeviceRow,
  claim: Claim,
  kind: 'unload' | 'transfer',
  amount: bigint,
  request: SettleRequest,
): void {
  if (request.deviceRequest === undefined)
    throw dcpError('deviceSignatureInvalid', 'deviceRequest is missing');
  const signed = decodeField(request.deviceRequest, 'deviceRequest', deviceRequestFromCbor);
  if (
    !context.verifier.verify(
      fromHex(device.publicKey)!,
      purposes.deviceRequest,
      signed.bodyBytes,
      signed.signature,
    )
  )
    throw dcpError('deviceSignatureInvalid', 'device request signature');
  const digest =
    kind === 'unload'
      ? unloadRequestDigest(context.verifier, amount, claim.bodyBytes)
      : transferRequestDigest(
          context.verifier,
          amount,
          hexField(request.payeeSeId ?? '', 'payeeSeId'),
          claim.bodyBytes,
        );
  if (
    !bytesEqual(signed.body.seId, claim.body.seId) ||
    !bytesEqual(signed.body.dcpNonce, claim.body.dcpNonce) ||
    !bytesEqual(signed.body.requestDigest, digest)
  )
    throw dcpError('deviceRequestMismatch');
}

function requireAmount(amount: bigint | undefined): bigint {
  if (amount === undefined || amount <= 0n) throw dcpError('dcpAmountInvalid', 'amount is required');
  return amount;
}

async function findPayee(context: DcpContext, payerSeId: string, payeeSeId: string): Promise<Payee> {
  const payeeBytes = hexField(payeeSeId, 'payeeSeId');
  if (payeeBytes.length !== principalIdBytes) throw dcpError('dcpRequestInvalid', 'payeeSeId has 16 bytes');
  if (payeeSeId === payerSeId) throw dcpError('payeeMustDifferFromPayer');
  const record = await context.directoryRecord(payeeBytes);
  if (record === null) throw dcpError('payeeNotFound', `secure element ${payeeSeId}`);
  if (record.status !== 'active')
    throw dcpError(record.status === 'revoked' ? 'deviceRevoked' : 'deviceSuspended', 'the payee');
  if (bytesEqual(record.dcpId, context.dcpId))
    return { seId: payeeSeId, endpoint: null, poolAccountId: null };
  const endpoint = await context.callDirectory(() => context.directory.dcpEndpoint(record.dcpId));
  if (endpoint === null) throw dcpError('payeeNotFound', "the payee's DCP published no endpoint");
  const peer = await context.callDirectory(() => context.peers.describe(endpoint));
  return { seId: payeeSeId, endpoint, poolAccountId: peer.poolAccountId };
}

/**
 * A credit announced by another DCP (or by this one's outbox): the ledger payment into this DCP's
 * pool is the authority, so the caller needs no key; the payment's reference names the payee SE.
 * Idempotent by payment id.
 */
export async function acceptCredit(
  context: DcpContext,
  paymentId: string,
): Promise<{ readonly seId: string; readonly amount: bigint }> {
  let payment;
  try {
    payment = await context.ledger.payment(paymentId);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'paymentNotFound')
      throw dcpError('creditPaymentInvalid', `payment ${paymentId} is not visible to this DCP`);
    throw dcpError('dcpLedgerUnavailable', error instanceof Error ? error.message : String(error));
  }
  const match = transferReferencePattern.exec(payment.reference ?? '');
  if (payment.payeeAccountId !== context.poolAccountId || match === null)
    throw dcpError('creditPaymentInvalid', 'not a transfer into this DCP pool');
  const seId = match[2]!;
  await context.device(seId).catch(() => {
    throw dcpError('creditPaymentInvalid', `secure element ${seId} is not a device of this DCP`);
  });
  await context.store.transaction((tx) =>
    tx.queueCredit(`pay:${paymentId}`, seId, 'credit', payment.amount, context.clock.nowMs()),
  );
  return { seId, amount: payment.amount };
}
