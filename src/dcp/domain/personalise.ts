// Personalisation (DESIGN §7 onboarding): the SE made its key inside itself and gives its public key
// (INITIALISE's answer); the DCP certifies it, registers it in the directory under the wallet, and
// returns everything PERSONALISE takes. Idempotent by the agent's key.
import { toHex } from '../../core/bytes.ts';
import { certificateBodyToCbor, type SecureElementKind } from '../../core/certificate.ts';
import { publicKeyBytes, purposes } from '../../core/crypto.ts';
import { principalIdOf, type PrincipalId } from '../../core/ids.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { dcpError } from '../api/errors.ts';
import { hexField, type DcpContext } from './context.ts';
import { secureElementCertificateSeconds } from './limits.ts';
import { finishRegistration } from './outbox.ts';
import { requireRole } from './participants.ts';
import type { DeviceRow, ParticipantRow } from './ports.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

/** What `POST /v1/wallets/{id}/devices` answers: hex of each signed structure. */
export interface PersonalisationResult {
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

export async function personalise(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  walletId: string,
  request: { readonly kind: SecureElementKind; readonly publicKey: string },
): Promise<PersonalisationResult> {
  requireRole(caller, ['operator', 'agent']);
  const publicKey = hexField(request.publicKey, 'publicKey');
  if (publicKey.length !== publicKeyBytes || !isPoint(context, publicKey))
    throw serviceError('requestInvalid', 'publicKey is not an uncompressed P-256 point');
  const seIdBytes = principalIdOf(context.verifier, publicKey);
  const seId = toHex(seIdBytes);
  const fingerprint = context.fingerprint('personalise', [walletId, request.kind, request.publicKey]);
  await forgetRefusedPersonalisation(context, caller.id, key);
  if ((await context.earlier(caller.id, key, fingerprint)) === null) {
    const wallet = await context.store.reader.findWallet(walletId);
    if (wallet === null) throw dcpError('walletNotFound', `wallet ${walletId}`);
    const device = certified(context, walletId, request.kind, seIdBytes, publicKey);
    await context.store.transaction((tx) =>
      context.idempotent(tx, { scope: caller.id, key, fingerprint, kind: 'personalisation' }, async () => {
        if (!(await tx.insertDevice(device, context.clock.nowMs())))
          throw dcpError('deviceAlreadyPersonalised');
        return { kind: 'personalisation', id: seId };
      }),
    );
  }
  const device = await context.store.reader.findDevice(seId);
  if (device === null) throw serviceError('internalError', `device ${seId} missing`);
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

/**
 * The directory refused an earlier personalisation under this key and its device row was removed
 * (outbox.ts `finishRegistration`): the key is free again, so that a retry runs the request again and
 * meets the same refusal rather than a replay of a device that is not there (as a refused load).
 */
async function forgetRefusedPersonalisation(context: DcpContext, scope: string, key: string): Promise<void> {
  const earlier = await context.store.reader.findKey(scope, key);
  if (earlier?.result?.kind !== 'personalisation' || context.keyExpired(earlier)) return;
  if ((await context.store.reader.findDevice(earlier.result.id)) !== null) return;
  await context.store.transaction((tx) => tx.releaseKey(scope, key));
}

/** The device row of a freshly certified SE, still to be registered in the directory. */
function certified(
  context: DcpContext,
  walletId: string,
  kind: SecureElementKind,
  seId: PrincipalId,
  publicKey: Uint8Array,
): DeviceRow {
  const now = context.nowSeconds();
  const certificate = signBody(
    context.signer,
    purposes.certificate,
    {
      role: kind,
      subjectId: seId,
      publicKey,
      issuerId: context.dcpId,
      validFrom: now - 60,
      validUntil: now + secureElementCertificateSeconds,
      profile: 'standard',
    },
    certificateBodyToCbor,
  );
  return {
    seId: toHex(seId),
    walletId,
    kind,
    publicKey,
    certificate: toHex(encodeSigned(certificate)),
    state: 'registering',
    lastTime: 0,
    syncedThrough: 0,
  };
}

function isPoint(context: DcpContext, publicKey: Uint8Array): boolean {
  const verifier = context.verifier as { publicKeyObject?: (key: Uint8Array) => unknown };
  return verifier.publicKeyObject === undefined || verifier.publicKeyObject(publicKey) !== null;
}
