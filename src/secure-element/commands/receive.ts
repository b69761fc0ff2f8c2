// RECEIVE (step 3, payee SE) and ACKNOWLEDGE (step 4, payer SE) of the offline payment (DESIGN §5).
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import { encodeCbor } from '../../core/cbor.ts';
import { purposes } from '../../core/crypto.ts';
import { coreError } from '../../core/errors.ts';
import { idKey, principalIdOf } from '../../core/ids.ts';
import { decodeReceipt, receiptBodyToCbor } from '../../core/payment.ts';
import { encodeEntry } from '../../core/bundle.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { signedToCbor } from '../../core/signed.ts';
import { validateBundle, type IdentifiedEntry, type ValidatedBundle } from '../../core/validate-bundle.ts';
import {
  encodeIncoming,
  encodeOutgoing,
  encodeState,
  encodeToken,
  recordKeys,
  type IncomingRecord,
} from '../records.ts';
import { Changes, type SecureElementView } from '../view.ts';
import { heldEntry, heldHistoryConflict } from './history.ts';

/**
 * RECEIVE bundle → receipt. Verifies everything (validateBundle) against an outstanding challenge of
 * this SE, then stores the token with its history, closes the challenge and signs a receipt in one
 * atomic commit. The same bundle again returns the same receipt: never credited twice.
 */
export function receive(se: SecureElementView, bundleBytes: Bytes): Bytes {
  const context = se.personalised();
  const state = se.state();
  let request: IncomingRecord | undefined;
  let replayedReceipt: Bytes | undefined;
  let bundleDigest: Bytes | undefined;
  let receivedTwin = false;
  const rules = {
    verifier: se.platform.verifier,
    anchors: context.anchors,
    isDenied: (seId: Bytes) => context.denied.has(idKey(seId)),
    trustedTime: state.trustedTime,
    generationMax: context.limits.generationMax,
    historyBytesMax: context.limits.historyBytesMax,
    inputsMax: context.limits.inputsMax,
    certificates: se.verifiedCertificates,
    // A held entry was verified when stored, unless the SE stored entries under lastHop since its
    // last complete renewal: then nothing held is taken as verified.
    isHeld: se.store.has(recordKeys.unverifiedHistory)
      ? () => false
      : (entry: IdentifiedEntry) => se.holds(entry),
    verification: context.limits.verification ?? 'full',
  };
  let validated: ValidatedBundle;
  try {
    validated = validateBundle(rules, bundleBytes, (transfer) => {
      request = se.incoming(transfer.signed.body.challenge);
      if (request === undefined) throw coreError('challengeUnknown', 'never issued');
      if (request.state === 'received' && bytesEqual(request.transferId, transfer.id)) {
        // The transfer id covers the body only: a twin with another signature (its high-S twin, or a
        // second signature by a compromised payer) is verified as new, and refused below if it passes.
        bundleDigest = se.platform.verifier.sha256(bundleBytes);
        if (bytesEqual(bundleDigest, request.bundleDigest)) {
          replayedReceipt = request.receipt;
          throw new ReplayFound();
        }
        receivedTwin = true;
        return { payeeId: context.identity.seId, amount: request.amount };
      }
      if (request.state !== 'outstanding')
        throw coreError('challengeUnknown', `challenge already ${request.state}`);
      return { payeeId: context.identity.seId, amount: request.amount };
    });
  } catch (error) {
    if (error instanceof ReplayFound && replayedReceipt !== undefined) return replayedReceipt;
    throw error;
  }
  if (receivedTwin) throw coreError('challengeUnknown', 'challenge already received, for other bytes');
  const conflict = heldHistoryConflict(se, validated.entries);
  if (conflict !== undefined) throw coreError('historyConflictsWithHeld', conflict);
  if (state.balance + validated.payment.value > context.limits.balanceMax) {
    throw coreError('balanceLimitExceeded', 'payee full');
  }
  return storeReceived(se, validated, request!, bundleDigest ?? se.platform.verifier.sha256(bundleBytes));
}

/** Thrown out of the expectation callback to stop validation early on an idempotent replay. */
class ReplayFound extends Error {}

function storeReceived(
  se: SecureElementView,
  validated: ValidatedBundle,
  request: IncomingRecord,
  bundleDigest: Bytes,
): Bytes {
  const context = se.personalised();
  const state = se.state();
  const receipt = signBody(
    context.signer,
    purposes.receipt,
    { transferId: validated.transferId, payeeId: context.identity.seId, payeeCounter: state.counter },
    receiptBodyToCbor,
  );
  const receiptBytes = encodeSigned(receipt);
  const changes = new Changes();
  for (const entry of validated.entries) {
    // Remembered decoded: the spent index and the next PAY read these entries without decoding them.
    if (se.entry(entry.id) === undefined)
      changes.record(recordKeys.entry(entry.id), heldEntry(entry), encodeEntry);
  }
  // Only the paying transfer was verified under lastHop: remember that ancestors were not.
  if (context.limits.verification === 'lastHop' && validated.entries.length > 1)
    changes.put(recordKeys.unverifiedHistory, Uint8Array.of(1));
  for (const certificate of validated.certificates) {
    const seId = certificate.body.subjectId;
    if (!bytesEqual(seId, context.identity.seId) && se.certificate(seId) === undefined) {
      changes.put(recordKeys.certificate(seId), encodeCbor(signedToCbor(certificate)));
    }
  }
  const payment = validated.payment;
  changes
    .record(
      recordKeys.token(payment.id),
      {
        id: payment.id,
        value: payment.value,
        generation: payment.generation,
        entryIds: validated.entries.map((entry) => entry.id),
        locked: false,
      },
      encodeToken,
    )
    .remove(recordKeys.incoming(request.challenge, 'outstanding'))
    .record(
      recordKeys.incoming(request.challenge, 'received'),
      {
        ...request,
        state: 'received',
        transferId: validated.transferId,
        receipt: receiptBytes,
        bundleDigest,
      },
      encodeIncoming,
    )
    .record(
      recordKeys.state,
      { ...state, counter: state.counter + 1, balance: state.balance + payment.value },
      encodeState,
    );
  se.commit(changes);
  return receiptBytes;
}

/** ACKNOWLEDGE receipt: marks the payment acknowledged once the payee's receipt verifies. Idempotent. */
export function acknowledge(se: SecureElementView, data: Bytes): Bytes {
  se.personalised();
  const receipt = decodeReceipt(data);
  const record = se.outgoing(receipt.body.transferId);
  if (record === undefined) throw coreError('transferUnknown');
  if (!bytesEqual(receipt.body.payeeId, principalIdOf(se.platform.verifier, record.payeePublicKey))) {
    throw coreError('wrongPayee', 'receipt from another secure element');
  }
  if (
    !se.platform.verifier.verify(
      record.payeePublicKey,
      purposes.receipt,
      receipt.bodyBytes,
      receipt.signature,
    )
  ) {
    throw coreError('signatureInvalid', 'receipt signature');
  }
  if (record.state === 'acknowledged') return new Uint8Array(0);
  se.commit(
    new Changes()
      .remove(recordKeys.outgoing(record.transferId, 'pending'))
      .record(
        recordKeys.outgoing(record.transferId, 'acknowledged'),
        { ...record, state: 'acknowledged', receipt: data },
        encodeOutgoing,
      ),
  );
  return new Uint8Array(0);
}
