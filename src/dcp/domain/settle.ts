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
// And the claimed value may not exceed the balance limit of the SE's kind. Money leaves the offline
// system (unload, transfer) only on value the DCP vouches for itself or after the MDS's yes: the
// unload gate (renewal-check.ts), in either mode.
//
// `settle` runs in three steps: decode the request (no I/O), check it (signatures, nonce, limits, the
// SE's status, where the value goes, the renewal check), then commit it in one transaction.
import { assert } from '../../core/assert.ts';
import { bytesEqual, toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { claimFromCbor, type Claim } from '../../core/claim.ts';
import { purposes } from '../../core/crypto.ts';
import { deviceRequestFromCbor, type DeviceRequest } from '../../core/device-request.ts';
import { encodeSigned } from '../../core/signed.ts';
import { isCbdcError } from '../../core/errors.ts';
import type { PrincipalId } from '../../core/ids.ts';
import { transferRequestDigest, unloadRequestDigest } from '../../core/request-digests.ts';
import { dcpError } from '../api/errors.ts';
import { decodeField, hexField, seIdField, storedSeId, type DcpContext } from './context.ts';
import { creditsPerSyncMax, loadsOpenMax } from './limits.ts';
import { mint, nextIssuanceTime } from './mint.ts';
import { drive, transferReferencePattern } from './outbox.ts';
import { fromLedger } from './refusals.ts';
import { mustAsk } from './renewal-check.ts';
import type { DcpTransaction, DeviceRow, Operation, SettleKind, SettleResult } from './ports.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

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

/** A settlement request, decoded: what the SE signed and what its kind adds. */
interface Decoded {
  readonly kind: SettleKind;
  readonly claim: Claim;
  /** Hex of the claim's SE id. */
  readonly seId: string;
  readonly sealed: Bytes;
  readonly sealedHex: string;
  /** What leaves the SE: 0 for a renewal. */
  readonly amount: bigint;
  readonly payeeSeId: PrincipalId | null;
  readonly deviceRequest: DeviceRequest | null;
}

/** Where the value that leaves the SE goes. */
type Destination =
  | { readonly to: 'nowhere' }
  | { readonly to: 'wallet'; readonly accountId: string }
  | { readonly to: 'local'; readonly payeeSeId: string }
  | {
      readonly to: 'peer';
      readonly payeeSeId: string;
      readonly endpoint: string;
      readonly poolAccountId: string;
    };

/** What the checks established. */
interface Checked {
  readonly nonceExpiry: number;
  readonly claimed: bigint;
  readonly destination: Destination;
  /** The vouched part of what stays on the SE (docs/dcp.md, "Renewal check and the unload gate"). */
  readonly keptVouched: bigint;
}

export async function settle(
  context: DcpContext,
  kind: SettleKind,
  key: string,
  request: SettleRequest,
): Promise<SettleResult> {
  const decoded = decodeSettlement(kind, request);
  const fingerprint = context.fingerprint(kind, [
    request.claim,
    request.sealedUpload,
    request.amount ?? null,
    request.payeeSeId ?? null,
    request.deviceRequest ?? null,
  ]);
  const earlier = await context.earlier(decoded.seId, key, fingerprint);
  if (earlier !== null) return replay(context, earlier.id);
  const checked = await checkSettlement(context, decoded);
  const operationId = toHex(context.verifier.sha256(utf8(`${decoded.seId}/${key}/${fingerprint}`))).slice(
    0,
    32,
  );
  let inserted: Operation | undefined;
  const committed = await context.store.transaction((tx) =>
    context.idempotentAnswered(
      tx,
      { scope: decoded.seId, key, fingerprint, kind },
      { kind, id: operationId },
      async () => {
        inserted = await commitSettlement(context, tx, operationId, decoded, checked);
      },
    ),
  );
  if (committed.replayed) return replay(context, committed.value.id);
  assert(inserted !== undefined, 'the commit recorded its operation');
  context.fault('settle.afterCommit');
  return settleResultOf(await drive(context, inserted));
}

async function replay(context: DcpContext, operationId: string): Promise<SettleResult> {
  const operation = await context.store.reader.findOperation(operationId);
  if (operation === null) throw serviceError('internalError', `operation ${operationId} is missing`);
  return settleResultOf(await drive(context, operation));
}

function settleResultOf(operation: Operation): SettleResult {
  if (operation.kind === 'load' || operation.kind === 'refusal')
    throw serviceError('internalError', `operation ${operation.id} is a ${operation.kind}`);
  return operation.answer;
}

/** Decodes every field (no I/O): a field that does not decode is refused, named. */
function decodeSettlement(kind: SettleKind, request: SettleRequest): Decoded {
  const claim = decodeField(request.claim, 'claim', claimFromCbor);
  const sealed = hexField(request.sealedUpload, 'sealedUpload');
  const amount = kind === 'renewal' ? 0n : requireAmount(request.amount);
  return {
    kind,
    claim,
    seId: toHex(claim.body.seId),
    sealed,
    sealedHex: request.sealedUpload,
    amount,
    payeeSeId: kind === 'transfer' ? seIdField(request.payeeSeId ?? '', 'payeeSeId') : null,
    deviceRequest:
      request.deviceRequest === undefined
        ? null
        : decodeField(request.deviceRequest, 'deviceRequest', deviceRequestFromCbor),
  };
}

function requireAmount(amount: bigint | undefined): bigint {
  if (amount === undefined || amount <= 0n) throw dcpError('dcpAmountInvalid', 'amount is required');
  return amount;
}

/** Everything but the commit: who signed, which nonce, how much, whether the SE may, where it goes. */
async function checkSettlement(context: DcpContext, decoded: Decoded): Promise<Checked> {
  const { kind, claim, amount } = decoded;
  const device = await context.device(decoded.seId);
  // Both signatures (the claim's, and an unload's or transfer's AUTHENTICATE) go to the verifier
  // together (one batch for its workers); their verdicts are read in the order of the checks.
  const claimSigned = verifyClaim(context, device, claim);
  const requestSigned = kind === 'renewal' ? null : verifyDeviceRequest(context, device, decoded);
  // Neither rejection may go unobserved while the other is awaited.
  void claimSigned.catch(() => undefined);
  void requestSigned?.catch(() => undefined);
  const nonceExpiry = checkClaim(context, claim, decoded.sealed, await claimSigned);
  const claimed = claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
  if (kind !== 'renewal') {
    if (claim.body.tokens.length === 0) throw dcpError('claimEmpty');
    if (amount > claimed) throw dcpError('unloadExceedsClaim', `${amount} asked, ${claimed} claimed`);
    checkDeviceRequest(context, decoded, (await requestSigned) ?? false);
  }
  const limits = context.limitsByKind[device.kind];
  if (claimed > limits.body.balanceMax)
    throw dcpError('claimExceedsBalanceLimit', `${claimed} claimed, limit ${limits.body.balanceMax}`);
  await context.requireActive(claim.body.seId);
  const destination = await destinationOf(context, decoded, device);
  // The renewal check (sync mode) and the unload gate ask the MDS here, before anything is retired.
  const vouched = await vouchedValue(context, decoded);
  const asked = mustAsk(context.renewalCheck.mode, kind, amount, vouched);
  if (asked) {
    const verdict = await context.renewalCheck.ask(claim, decoded.sealed);
    if (!verdict.backed)
      throw dcpError('renewalCheckRefused', `the MDS answered ${verdict.reason} (policy ${verdict.policy})`);
  }
  // What stays on the SE is vouched in full after a yes; else what the vouched value leaves of it.
  const keptVouched = asked ? claimed - amount : vouched > amount ? vouched - amount : 0n;
  return { nonceExpiry, claimed, destination, keptVouched };
}

/**
 * The vouched value of the claimed tokens this DCP minted to the claiming SE with the claimed value
 * (a token minted to another SE is refused at the commit; one it never minted counts for nothing).
 */
async function vouchedValue(context: DcpContext, decoded: Decoded): Promise<bigint> {
  let vouched = 0n;
  for (const token of decoded.claim.body.tokens) {
    const minted = await context.store.reader.findToken(toHex(token.tokenId));
    if (minted !== null && minted.seId === decoded.seId && minted.value === token.value)
      vouched += minted.vouched;
  }
  return vouched;
}

/** Whether the claim is signed by the SE's certified key. */
function verifyClaim(context: DcpContext, device: DeviceRow, claim: Claim): Promise<boolean> {
  return context.requestVerifier.verify(device.publicKey, purposes.claim, claim.bodyBytes, claim.signature);
}

/** Claim signature by the SE's certified key (`signed`), its nonce, and the sealed upload it names. */
function checkClaim(context: DcpContext, claim: Claim, sealed: Bytes, signed: boolean): number {
  if (!signed) throw dcpError('deviceSignatureInvalid', 'claim signature');
  const expiry = context.nonces.check(claim.body.seId, claim.body.dcpNonce, context.nowSeconds()).expiresAt;
  if (!bytesEqual(context.verifier.sha256(sealed), claim.body.uploadDigest))
    throw dcpError('uploadDigestMismatch');
  return expiry;
}

/** Whether an unload's or transfer's AUTHENTICATE is signed by the SE's certified key (false if missing). */
function verifyDeviceRequest(context: DcpContext, device: DeviceRow, decoded: Decoded): Promise<boolean> {
  const signed = decoded.deviceRequest;
  if (signed === null) return Promise.resolve(false);
  return context.requestVerifier.verify(
    device.publicKey,
    purposes.deviceRequest,
    signed.bodyBytes,
    signed.signature,
  );
}

/**
 * An unload's or transfer's AUTHENTICATE (`valid`: its signature verified): the claim's SE, the
 * claim's nonce, this request's digest.
 */
function checkDeviceRequest(context: DcpContext, decoded: Decoded, valid: boolean): void {
  const { claim, amount, deviceRequest: signed } = decoded;
  if (signed === null) throw dcpError('deviceSignatureInvalid', 'deviceRequest is missing');
  if (!valid) throw dcpError('deviceSignatureInvalid', 'device request signature');
  const digest =
    decoded.payeeSeId === null
      ? unloadRequestDigest(context.verifier, amount, claim.bodyBytes)
      : transferRequestDigest(context.verifier, amount, decoded.payeeSeId, claim.bodyBytes);
  if (
    !bytesEqual(signed.body.seId, claim.body.seId) ||
    !bytesEqual(signed.body.dcpNonce, claim.body.dcpNonce) ||
    !bytesEqual(signed.body.requestDigest, digest)
  )
    throw dcpError('deviceRequestMismatch');
}

async function destinationOf(context: DcpContext, decoded: Decoded, device: DeviceRow): Promise<Destination> {
  if (decoded.kind === 'renewal') return { to: 'nowhere' };
  if (decoded.payeeSeId === null) {
    const wallet = await context.wallet(device.walletId);
    if (wallet === null) throw dcpError('walletNotFound');
    return { to: 'wallet', accountId: wallet.accountId };
  }
  return findPayee(context, decoded.seId, decoded.payeeSeId);
}

async function findPayee(context: DcpContext, payerSeId: string, payee: PrincipalId): Promise<Destination> {
  const payeeSeId = toHex(payee);
  if (payeeSeId === payerSeId) throw dcpError('payeeMustDifferFromPayer');
  const record = await context.directoryRecord(payee);
  if (record === null) throw dcpError('payeeNotFound', `secure element ${payeeSeId}`);
  if (record.status !== 'active')
    throw dcpError(record.status === 'revoked' ? 'deviceRevoked' : 'deviceSuspended', 'the payee');
  if (bytesEqual(record.dcpId, context.dcpId)) return { to: 'local', payeeSeId };
  const endpoint = await context.callDirectory(() => context.directory.dcpEndpoint(record.dcpId));
  if (endpoint === null) throw dcpError('payeeNotFound', "the payee's DCP published no endpoint");
  const peer = await context.callDirectory(() => context.peers.describe(endpoint));
  return { to: 'peer', payeeSeId, endpoint, poolAccountId: peer.poolAccountId };
}

/**
 * The one commit: nonce spent, every claimed token retired, the renewal and queued credits minted,
 * the sealed upload kept for the MDS, a same-DCP payee's credit queued, and the operation recorded.
 */
async function commitSettlement(
  context: DcpContext,
  tx: DcpTransaction,
  operationId: string,
  decoded: Decoded,
  checked: Checked,
): Promise<Operation> {
  const { claim, seId, amount } = decoded;
  const { destination } = checked;
  const nowMs = context.clock.nowMs();
  const locked = await tx.lockDevices(destination.to === 'local' ? [seId, destination.payeeSeId] : [seId]);
  const current = locked.get(seId);
  if (current === undefined) throw dcpError('deviceNotFound', `secure element ${seId}`);
  if (!(await tx.useNonce(toHex(claim.body.dcpNonce), checked.nonceExpiry * 1000)))
    throw dcpError('nonceAlreadyUsed');
  await retireClaimed(tx, claim, seId, operationId, nowMs);
  const { loads, syncedThrough } = await openLoadsToDeliver(tx, claim, current);
  const time = nextIssuanceTime(context.nowSeconds(), current.lastTime);
  const keep = checked.claimed - amount;
  const renewal = mint({
    issuer: context,
    operationId,
    kind: 'renewal',
    seId: claim.body.seId,
    values: keep > 0n ? [keep] : [],
    vouched: keep > 0n ? [checked.keptVouched] : [],
    retiredTokenIds: claim.body.tokens.map((token) => token.tokenId),
    time,
  });
  await tx.insertIssuance(renewal.row, nowMs);
  const credits = await mintCredits(context, tx, operationId, seId, time, nowMs);
  await tx.setDeviceTimes(seId, time, syncedThrough);
  await tx.insertUpload(
    {
      digest: toHex(claim.body.uploadDigest),
      seId,
      operationId,
      // The canonical envelope as the SE signed it: the MDS checks the signature over these bytes.
      claim: toHex(encodeSigned(claim)),
      sealed: decoded.sealedHex,
    },
    nowMs,
  );
  if (destination.to === 'local') {
    if (!locked.has(destination.payeeSeId)) throw dcpError('payeeNotFound');
    await tx.queueCredit(`xfer:${operationId}`, destination.payeeSeId, 'credit', amount, nowMs);
  }
  const answer: SettleResult = {
    operationId,
    kind: decoded.kind,
    renewal: renewal.row.signed,
    credits,
    loads,
    amount: amount.toString(),
  };
  const operation = operationOf({ id: operationId, seId, amount }, destination, answer);
  await tx.insertOperation(operation, nowMs);
  return operation;
}

/** Retires each claimed token once, ever; a token this DCP minted must be the claimer's, with its value. */
async function retireClaimed(
  tx: DcpTransaction,
  claim: Claim,
  seId: string,
  operationId: string,
  nowMs: number,
): Promise<void> {
  const seen = new Set<string>();
  const uploadDigest = toHex(claim.body.uploadDigest);
  for (const token of claim.body.tokens) {
    const tokenId = toHex(token.tokenId);
    if (seen.has(tokenId)) throw serviceError('requestInvalid', `claim lists token ${tokenId} twice`);
    seen.add(tokenId);
    const minted = await tx.findToken(tokenId);
    if (minted !== null && (minted.seId !== seId || minted.value !== token.value))
      throw dcpError('claimTokenNotOwned', `token ${tokenId}`);
    if (!(await tx.retireToken({ tokenId, seId, value: token.value, operationId, uploadDigest }, nowMs)))
      throw dcpError('tokenAlreadyRetired', `token ${tokenId}`);
  }
}

/**
 * The SE's loads this sync could leave stale, to deliver again with it (issue 8). COMPLETE SYNC sets
 * the SE's last sync time to the renewal's, and from then on LOAD refuses every issuance stamped no
 * later, so a load issued before this commit but not yet installed (its LOAD still on its way, from
 * another client) would stay in the pool on an issuance no SE takes. Every load stamped after the
 * last sync the claim shows and not claimed or refused goes with the renewal: COMPLETE SYNC installs
 * it, or skips it when the SE installed (or refused) it already, so delivering one twice never pays
 * twice. Those stamped no later were delivered by the sync the SE completed then. Under the device's
 * lock, after the claimed tokens are retired. Answers them with the SE's new `syncedThrough`, which
 * the commit writes with the renewal's time.
 */
async function openLoadsToDeliver(
  tx: DcpTransaction,
  claim: Claim,
  current: DeviceRow,
): Promise<{ readonly loads: string[]; readonly syncedThrough: number }> {
  const { seId, syncedThrough } = current;
  const shown = claim.body.lastSyncTime;
  if (shown < syncedThrough)
    throw dcpError(
      'claimStale',
      `the claim shows its last sync at ${shown}, a claim settled showed ${syncedThrough}`,
    );
  const loads = await tx.loadsOpen(seId, shown, loadsOpenMax + 1);
  // The load guard (load.ts) keeps at most loadsOpenMax open since `syncedThrough` ≤ `shown`.
  assert(loads.length <= loadsOpenMax, 'no more loads are open than a sync delivers');
  // No renewal of this SE is stamped after `lastTime`: a later time only an SE lying to itself shows.
  return { loads, syncedThrough: Math.min(shown, current.lastTime) };
}

/** One issuance per kind of queued credits (credit, refund); returns their signed hex. */
async function mintCredits(
  context: DcpContext,
  tx: DcpTransaction,
  operationId: string,
  seId: string,
  time: number,
  nowMs: number,
): Promise<string[]> {
  const credits: string[] = [];
  const queued = await tx.queuedCredits(seId, creditsPerSyncMax);
  for (const kind of ['credit', 'refund'] as const) {
    const values = queued.filter((credit) => credit.kind === kind);
    if (values.length === 0) continue;
    const total = values.reduce((sum, credit) => sum + credit.value, 0n);
    const minted = mint({
      issuer: context,
      operationId,
      kind,
      seId: storedSeId(seId),
      values: [total],
      retiredTokenIds: [],
      time,
    });
    await tx.insertIssuance(minted.row, nowMs);
    for (const credit of values) await tx.markCreditMinted(credit.id, minted.row.id);
    credits.push(minted.row.signed);
  }
  return credits;
}

/** The operation row: a renewal and a same-DCP transfer are done; an unload or a peer transfer opens. */
function operationOf(
  common: { readonly id: string; readonly seId: string; readonly amount: bigint },
  destination: Destination,
  answer: SettleResult,
): Operation {
  switch (destination.to) {
    case 'nowhere':
      return { ...common, kind: 'renewal', state: 'done', answer };
    case 'wallet':
      return { ...common, kind: 'unload', state: 'pending', accountId: destination.accountId, answer };
    case 'local':
      return {
        ...common,
        kind: 'transfer',
        route: 'local',
        state: 'done',
        payeeSeId: destination.payeeSeId,
        answer,
      };
    case 'peer':
      return {
        ...common,
        kind: 'transfer',
        route: 'peer',
        state: 'pending',
        payeeSeId: destination.payeeSeId,
        payeeEndpoint: destination.endpoint,
        accountId: destination.poolAccountId,
        answer,
      };
  }
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
    if (isCbdcError(error) && error.code === 'paymentNotFound')
      throw dcpError('creditPaymentInvalid', `payment ${paymentId} is not visible to this DCP`);
    throw fromLedger(error, 'other');
  }
  const seId = transferReferencePattern.exec(payment.reference ?? '')?.[2];
  if (payment.payeeAccountId !== context.poolAccountId || seId === undefined)
    throw dcpError('creditPaymentInvalid', 'not a transfer into this DCP pool');
  await context.device(seId).catch(() => {
    throw dcpError('creditPaymentInvalid', `secure element ${seId} is not a device of this DCP`);
  });
  await context.store.transaction((tx) =>
    tx.queueCredit(`pay:${paymentId}`, seId, 'credit', payment.amount, context.clock.nowMs()),
  );
  return { seId, amount: payment.amount };
}
