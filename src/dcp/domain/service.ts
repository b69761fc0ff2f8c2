// The DCP's operations that are not claim settlements: API participants, wallets, personalisation,
// nonces, loads, device updates and the supply figures. Orchestration over the context's ports.
import { bytesEqual, fromHex, toHex } from '../../core/bytes.ts';
import { certificateBodyToCbor, type SecureElementKind } from '../../core/certificate.ts';
import { publicKeyBytes, purposes } from '../../core/crypto.ts';
import { deviceRequestFromCbor } from '../../core/device-request.ts';
import { principalIdOf } from '../../core/ids.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { dcpError } from '../api/errors.ts';
import type {
  DeviceRow,
  OperationRow,
  ParticipantRole,
  ParticipantRow,
  WalletRow,
} from '../store/sql-store.ts';
import { decodeField, hexField, type DcpContext } from './context.ts';
import { claimOrEarlier, earlierResult, fingerprintOf, Replay } from './idempotency.ts';
import { secureElementCertificateSeconds } from './limits.ts';
import { drive, finishRegistration, type LoadAnswer } from './outbox.ts';
import { loadRequestDigest } from '../../core/request-digests.ts';

export interface Personalisation {
  readonly seId: string;
  readonly walletId: string;
  readonly certificate: string;
  readonly rootPublicKey: string;
  readonly dcpIssuers: readonly string[];
  readonly directory: string;
  readonly mds: string;
  readonly limits: string;
  readonly denyList: string;
}

export async function createParticipant(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  request: { readonly name: string; readonly role: ParticipantRole; readonly apiKeySha256: string },
): Promise<ParticipantRow> {
  requireRole(caller, ['operator']);
  const fingerprint = fingerprintOf(context.verifier, [
    'participant',
    request.name,
    request.role,
    request.apiKeySha256,
  ]);
  const participant: ParticipantRow = { id: context.newId('prt'), name: request.name, role: request.role };
  const id = await context.store.transaction(async (tx) => {
    const earlier = await claimOrEarlier(
      tx,
      caller.id,
      key,
      fingerprint,
      participant.id,
      context.clock.nowMs(),
    );
    if (earlier !== null) return earlier;
    if (!(await tx.insertParticipant(participant, request.apiKeySha256, context.clock.nowMs())))
      throw dcpError('dcpApiKeyAlreadyRegistered');
    return participant.id;
  });
  return id === participant.id ? participant : { ...participant, id };
}

/** Registers the bootstrap operator key (idempotent). */
export async function bootstrapOperator(context: DcpContext, apiKeySha256: string): Promise<void> {
  if ((await context.store.reader.findParticipantByKeyDigest(apiKeySha256)) !== null) return;
  await context.store.transaction((tx) =>
    tx.insertParticipant(
      { id: context.newId('prt'), name: 'DCP operator', role: 'operator' },
      apiKeySha256,
      context.clock.nowMs(),
    ),
  );
}

/** A wallet linked to a ledger account: a given one, or a new wallet account owned by this DCP. */
export async function createWallet(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  request: { readonly name: string; readonly accountId?: string },
): Promise<WalletRow> {
  requireRole(caller, ['operator', 'agent']);
  const fingerprint = fingerprintOf(context.verifier, ['wallet', request.name, request.accountId ?? null]);
  const earlier = await earlierResult(context.store.reader, caller.id, key, fingerprint);
  if (earlier !== null) return (await context.store.reader.findWallet(earlier))!;
  // The ledger account first, with a key derived from the client's: a retry after a crash gets the
  // same account back, and the wallet row below is written once.
  const accountId =
    request.accountId ??
    (
      await context.ledger.createAccount(
        `dcp-wallet-${toHex(context.verifier.sha256(new TextEncoder().encode(`${caller.id}/${key}`))).slice(0, 40)}`,
        {
          kind: 'wallet',
          ownerId: context.ledgerParticipantId,
        },
      )
    ).value.id;
  const wallet: WalletRow = {
    id: context.newId('wal'),
    name: request.name,
    accountId,
    createdAtMs: context.clock.nowMs(),
  };
  const id = await context.store.transaction(async (tx) => {
    const won = await claimOrEarlier(tx, caller.id, key, fingerprint, wallet.id, wallet.createdAtMs);
    if (won !== null) return won;
    await tx.insertWallet(wallet);
    return wallet.id;
  });
  return (await context.store.reader.findWallet(id))!;
}

/**
 * Personalisation (DESIGN §7 onboarding): the SE made its key inside itself and gives its public key
 * (INITIALISE's answer); the DCP certifies it, registers it in the directory under the wallet, and
 * returns everything PERSONALISE takes.
 */
export async function personalise(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  walletId: string,
  request: { readonly kind: SecureElementKind; readonly publicKey: string },
): Promise<Personalisation> {
  requireRole(caller, ['operator', 'agent']);
  const publicKey = hexField(request.publicKey, 'publicKey');
  if (publicKey.length !== publicKeyBytes || !isPoint(context, publicKey))
    throw dcpError('dcpRequestInvalid', 'publicKey is not an uncompressed P-256 point');
  const seId = toHex(principalIdOf(context.verifier, publicKey));
  const fingerprint = fingerprintOf(context.verifier, [
    'personalise',
    walletId,
    request.kind,
    request.publicKey,
  ]);
  const earlier = await earlierResult(context.store.reader, caller.id, key, fingerprint);
  if (earlier === null) {
    const wallet = await context.store.reader.findWallet(walletId);
    if (wallet === null) throw dcpError('walletNotFound', `wallet ${walletId}`);
    const now = context.nowSeconds();
    const certificate = signBody(
      context.signer,
      purposes.certificate,
      {
        role: request.kind,
        subjectId: fromHex(seId)!,
        publicKey,
        issuerId: context.dcpId,
        validFrom: now - 60,
        validUntil: now + secureElementCertificateSeconds,
        profile: 'standard',
      },
      certificateBodyToCbor,
    );
    const device: DeviceRow = {
      seId,
      walletId,
      kind: request.kind,
      publicKey: request.publicKey.toLowerCase(),
      certificate: toHex(encodeSigned(certificate)),
      state: 'registering',
      lastTime: 0,
    };
    await context.store.transaction(async (tx) => {
      const won = await claimOrEarlier(tx, caller.id, key, fingerprint, seId, context.clock.nowMs());
      if (won !== null) return;
      if (!(await tx.insertDevice(device, context.clock.nowMs())))
        throw dcpError('deviceAlreadyPersonalised');
    });
  }
  const device = await context.store.reader.findDevice(seId);
  if (device === null) throw dcpError('dcpInternalError', `device ${seId} missing`);
  if (device.state === 'registering')
    await finishRegistration(context, seId, device.certificate, device.walletId);
  return {
    seId,
    walletId: device.walletId,
    certificate: device.certificate,
    rootPublicKey: toHex(context.trust.rootPublicKey),
    dcpIssuers: context.trust.dcpIssuers.map((certificate) => toHex(encodeSigned(certificate))),
    directory: toHex(encodeSigned(context.trust.directory)),
    mds: toHex(encodeSigned(context.trust.mds)),
    limits: toHex(encodeSigned(context.limitsByKind[device.kind])),
    denyList: toHex(encodeSigned(await context.denyList())),
  };
}

function isPoint(context: DcpContext, publicKey: Uint8Array): boolean {
  const verifier = context.verifier as { publicKeyObject?: (key: Uint8Array) => unknown };
  return verifier.publicKeyObject === undefined || verifier.publicKeyObject(publicKey) !== null;
}

export async function makeNonce(
  context: DcpContext,
  seId: string,
): Promise<{ readonly nonce: string; readonly expiresAt: number }> {
  const bytes = hexField(seId, 'seId');
  await context.device(seId);
  const made = context.nonces.make(bytes, context.nowSeconds());
  return { nonce: toHex(made.nonce), expiresAt: made.expiresAt };
}

export interface LoadRequest {
  readonly seId: string;
  readonly amount: bigint;
  /** The SE's balance before the load, as the device read it (GET DATA) and signed it. */
  readonly balance: bigint;
  readonly deviceRequest: string;
}

/**
 * Load (DESIGN §7): the device signs [amount, balance] over a fresh nonce; the DCP commits the
 * operation (spending the nonce), then the outbox holds the wallet's money for the pool, captures it
 * and mints the load issuance in one commit (outbox.ts).
 */
export async function load(context: DcpContext, key: string, request: LoadRequest): Promise<LoadAnswer> {
  const fingerprint = fingerprintOf(context.verifier, [
    'load',
    request.seId,
    request.amount,
    request.balance,
    request.deviceRequest,
  ]);
  await forgetRefusedLoad(context, request.seId, key);
  const earlier = await earlierResult(context.store.reader, request.seId, key, fingerprint);
  if (earlier !== null) return replayLoad(context, earlier);
  const device = await context.device(request.seId);
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
  if (
    toHex(signed.body.seId) !== request.seId ||
    !bytesEqual(
      signed.body.requestDigest,
      loadRequestDigest(context.verifier, request.amount, request.balance),
    )
  )
    throw dcpError('deviceRequestMismatch');
  const expiry = context.nonces.check(signed.body.seId, signed.body.dcpNonce, context.nowSeconds());
  const limits = context.limitsByKind[device.kind].body;
  if (request.balance + request.amount > limits.balanceMax)
    throw dcpError(
      'loadBalanceLimitExceeded',
      `would hold ${request.balance + request.amount}, limit ${limits.balanceMax}`,
    );
  await context.requireActive(signed.body.seId);
  const wallet = await context.store.reader.findWallet(device.walletId);
  if (wallet === null) throw dcpError('walletNotFound');
  const operation: OperationRow = {
    id: context.newId('op'),
    kind: 'load',
    seId: request.seId,
    amount: request.amount,
    state: 'pending',
    accountId: wallet.accountId,
    holdId: null,
    paymentId: null,
    payeeSeId: null,
    payeeEndpoint: null,
    answer: null,
  };
  try {
    await context.store.transaction(async (tx) => {
      const nowMs = context.clock.nowMs();
      const won = await claimOrEarlier(tx, request.seId, key, fingerprint, operation.id, nowMs);
      if (won !== null) throw new Replay(won);
      if (!(await tx.useNonce(toHex(signed.body.dcpNonce), expiry * 1000)))
        throw dcpError('nonceAlreadyUsed');
      await tx.insertOperation(operation, nowMs);
    });
  } catch (error) {
    if (error instanceof Replay) return replayLoad(context, error.result);
    throw error;
  }
  context.fault('load.afterIntent');
  return answerOf(await drive(context, operation));
}

/** A refused load deleted its operation (nothing moved): its key is free again for a new attempt. */
async function forgetRefusedLoad(context: DcpContext, seId: string, key: string): Promise<void> {
  const earlier = await context.store.reader.findKey(seId, key);
  if (earlier === null || (await context.store.reader.findOperation(earlier.result)) !== null) return;
  await context.store.transaction((tx) => tx.releaseKey(seId, key));
}

async function replayLoad(context: DcpContext, operationId: string): Promise<LoadAnswer> {
  const operation = await context.store.reader.findOperation(operationId);
  // A refused load forgets its operation (nothing moved): the same key may be retried.
  if (operation === null) throw dcpError('walletInsufficientBalance', 'the load with this key was refused');
  return answerOf(await drive(context, operation));
}

function answerOf(operation: OperationRow): LoadAnswer {
  return JSON.parse(operation.answer!) as LoadAnswer;
}

export async function supply(context: DcpContext) {
  const figures = await context.store.supply();
  const pool = await context.ledger.account(context.poolAccountId);
  const inFlight = (await context.store.openOperations(1_000))
    .filter((operation) => operation.kind !== 'load')
    .reduce((sum, operation) => sum + (operation.state === 'pending' ? operation.amount : 0n), 0n);
  const issued = figures.minted + figures.queued;
  return {
    minted: figures.minted,
    queued: figures.queued,
    issued,
    retired: figures.retired,
    outstanding: issued - figures.retired,
    poolBalance: pool.balance,
    inFlight,
  };
}

export function requireRole(caller: ParticipantRow, roles: readonly ParticipantRole[]): void {
  if (!roles.includes(caller.role)) throw dcpError('dcpRoleNotAllowed', `${caller.role} may not do this`);
}
