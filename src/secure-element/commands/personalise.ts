// INITIALISE, PERSONALISE and GET DATA: the SE's birth (its key pair is generated inside and never
// leaves) and its public face.
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import { decodeCbor, encodeCbor, FieldReader } from '../../core/cbor.ts';
import { certificateFromCbor } from '../../core/certificate.ts';
import { digestBytes, publicKeyBytes, purposes } from '../../core/crypto.ts';
import { signedDenyListFromCbor } from '../../core/deny-list.ts';
import { coreError } from '../../core/errors.ts';
import { nonceBytes, principalIdOf } from '../../core/ids.ts';
import { deviceRequestBodyToCbor } from '../../core/device-request.ts';
import { signedLimitsFromCbor } from '../../core/limits.ts';
import { signBody, signedToCbor } from '../../core/signed.ts';
import {
  buildTrustAnchors,
  verifyRootCertificate,
  verifySecureElementCertificate,
} from '../../core/trust.ts';
import {
  configToCbor,
  dcpIssuersMax,
  encodeDenyListRecord,
  encodeIdentity,
  encodeLimitsRecord,
  encodeState,
  recordKeys,
  recordPrefixes,
  type Config,
} from '../records.ts';
import { Changes, type SecureElementView } from '../view.ts';
import { checkDenyList, checkLimits, ownIssuer } from './checks.ts';

/** INITIALISE: generates the key pair inside the SE, once. Returns [se id, public key]. */
export function initialise(se: SecureElementView): Bytes {
  if (se.identity() !== undefined) throw coreError('alreadyPersonalised', 'key pair already generated');
  const { privateScalar, publicKey } = se.platform.generateKey();
  const seId = principalIdOf(se.platform.verifier, publicKey);
  se.commit(new Changes().put(recordKeys.identity, encodeIdentity({ seId, publicKey, privateScalar })));
  return encodeCbor([seId, publicKey]);
}

/**
 * PERSONALISE [certificate, root public key, DCP issuer certificates, directory certificate, MDS
 * certificate, signed limits, signed deny list]: installs what the SE trusts, once.
 */
export function personalise(se: SecureElementView, data: Bytes): Bytes {
  const identity = se.identity();
  if (identity === undefined) throw coreError('notPersonalised', 'INITIALISE first');
  if (se.store.has(recordKeys.config)) throw coreError('alreadyPersonalised');
  const r = new FieldReader(decodeCbor(data), 'personalise', 7);
  const config: Config = {
    certificate: certificateFromCbor(r.raw(0)),
    rootPublicKey: r.bytes(1, 'rootPublicKey', publicKeyBytes),
    dcpIssuers: r.array(2, 'dcpIssuers', dcpIssuersMax, (item) => certificateFromCbor(item)),
    directory: certificateFromCbor(r.raw(3)),
    mds: certificateFromCbor(r.raw(4)),
  };
  const limits = signedLimitsFromCbor(r.raw(5));
  const denyList = signedDenyListFromCbor(r.raw(6));
  const verifier = se.platform.verifier;
  const trustedTime = Math.max(limits.body.time, denyList.body.time);
  const anchors = buildTrustAnchors(verifier, config.rootPublicKey, config.dcpIssuers, trustedTime);
  const certificate = config.certificate;
  if (
    !bytesEqual(certificate.body.publicKey, identity.publicKey) ||
    !bytesEqual(certificate.body.subjectId, identity.seId)
  ) {
    throw coreError('certificateIdMismatch', 'the certificate is not for this SE key');
  }
  verifySecureElementCertificate(verifier, anchors, certificate, trustedTime);
  verifyRootCertificate(verifier, config.rootPublicKey, config.directory, 'directory', trustedTime);
  verifyRootCertificate(verifier, config.rootPublicKey, config.mds, 'mds', trustedTime);
  checkLimits(verifier, ownIssuer(anchors, certificate), certificate, limits);
  checkDenyList(verifier, config.directory, denyList);
  const changes = new Changes()
    .put(recordKeys.config, encodeCbor(configToCbor(config)))
    .put(recordKeys.limits, encodeLimitsRecord(limits))
    .put(recordKeys.denyList, encodeDenyListRecord(denyList))
    .put(recordKeys.state, encodeState({ ...se.state(), trustedTime }));
  se.commit(changes);
  return new Uint8Array(0);
}

export const lifeCycles = { blank: 0, keyGenerated: 1, personalised: 2 } as const;

/**
 * GET DATA: [life cycle, se id, public key, certificate or [], balance, counter, payments since sync,
 * limits version, deny list version, tokens held, outgoing pending, trusted time].
 */
export function getData(se: SecureElementView): Bytes {
  const identity = se.identity();
  if (identity === undefined)
    return encodeCbor([lifeCycles.blank, new Uint8Array(0), new Uint8Array(0), [], 0, 0, 0, 0, 0, 0, 0, 0]);
  const state = se.state();
  if (!se.store.has(recordKeys.config)) {
    return encodeCbor([
      lifeCycles.keyGenerated,
      identity.seId,
      identity.publicKey,
      [],
      0,
      state.counter,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
  }
  const context = se.personalised();
  const pending = se.store.keys(recordPrefixes.pendingOutgoing).length;
  return encodeCbor([
    lifeCycles.personalised,
    identity.seId,
    identity.publicKey,
    signedToCbor(context.config.certificate),
    state.balance,
    state.counter,
    state.paymentsSinceSync,
    context.limits.version,
    context.denyList.body.version,
    se.store.keys(recordPrefixes.token).length,
    pending,
    state.trustedTime,
  ]);
}

/**
 * AUTHENTICATE [DCP nonce, request digest] → signed device request. Signs for the online side; it
 * changes no state and spends no counter (the nonce makes each signature single-use at the DCP).
 */
export function authenticate(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const r = new FieldReader(decodeCbor(data), 'authenticate', 2);
  const body = {
    seId: context.identity.seId,
    dcpNonce: r.bytes(0, 'dcpNonce', nonceBytes),
    requestDigest: r.bytes(1, 'requestDigest', digestBytes),
  };
  return encodeCbor(
    signedToCbor(signBody(context.signer, purposes.deviceRequest, body, deviceRequestBodyToCbor)),
  );
}
