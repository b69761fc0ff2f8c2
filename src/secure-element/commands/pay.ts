// PAYMENT REQUEST (step 1, payee SE) and PAY (step 2, payer SE) of the offline payment (DESIGN §5).
import { checkAmount } from '../../core/amount.ts';
import { assert } from '../../core/assert.ts';
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import { decodeCbor, encodeCbor, encodedCborLength, FieldReader } from '../../core/cbor.ts';
import { purposes, signatureBytes } from '../../core/crypto.ts';
import { coreError } from '../../core/errors.ts';
import { challengeBytes, idKey } from '../../core/ids.ts';
import { decodePaymentRequest, encodePaymentRequest, type PaymentRequest } from '../../core/payment.ts';
import { encodeBundle, encodeEntry, entryToCbor } from '../../core/bundle.ts';
import { signBody } from '../../core/signed.ts';
import { transferBodyToCbor, type TransferBody } from '../../core/transfer.ts';
import { identifyEntry, type IdentifiedEntry } from '../../core/validate-bundle.ts';
import type { Output } from '../../core/issuance.ts';
import {
  encodeIncoming,
  encodeOutgoing,
  encodeState,
  encodeToken,
  recordKeys,
  recordPrefixes,
  type TokenRecord,
} from '../records.ts';
import { Changes, type Personalised, type SecureElementView } from '../view.ts';
import { logicalCommandBytesMax } from '../apdu/apdu.ts';
import { planPayment, type PaymentBounds, type PaymentPlan } from './selection.ts';
import { heldEntry } from './history.ts';

/** Unacknowledged payments a payer keeps (each with its bundle) before it must sync. */
export const pendingPaymentsMax = 16;

/** PAYMENT REQUEST [amount] → the payment request: payee certificate, fresh challenge, amount. */
export function paymentRequest(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const amount = checkAmount(
    new FieldReader(decodeCbor(data), 'paymentRequestCommand', 1).biguint(0, 'amount'),
    'amount',
  );
  const state = se.state();
  const outstanding = se.outstandingIncoming();
  if (outstanding.length >= context.limits.challengesMax) {
    throw coreError('challengesLimitExceeded', `${outstanding.length} outstanding`);
  }
  let promised = state.balance + amount;
  for (const record of outstanding) promised += record.amount;
  if (promised > context.limits.balanceMax) throw coreError('balanceLimitExceeded', 'payee full');
  const challenge = se.platform.randomBytes(challengeBytes);
  const empty = new Uint8Array(0);
  se.commit(
    new Changes().record(
      recordKeys.incoming(challenge, 'outstanding'),
      { challenge, amount, state: 'outstanding', transferId: empty, receipt: empty, bundleDigest: empty },
      encodeIncoming,
    ),
  );
  return encodePaymentRequest({
    payeeCertificate: context.config.certificate,
    challenge,
    amount,
    bundleBytesMax: acceptedBundleBytes(se, context),
  });
}

/**
 * What RECEIVE stores besides the bundle's own bytes, at most: the token record without its entry
 * ids, the closed request with its receipt, and the state record growing by a few bytes.
 */
const receiveRecordsBytes = 512;
/**
 * The shortest history entry: an issuance with one output, 130 bytes encoded. Each entry and
 * certificate RECEIVE stores costs its own length, a 66-byte key and (an entry) its 33-byte id in
 * the token's record: at most twice its length, in one block.
 */
const historyEntryBytesMin = 128;

/**
 * The longest bundle this payee can take now: its limits' historyBytesMax, what one RECEIVE command
 * carries, and what its store has room for (each bundle byte costing at most two store bytes, each
 * entry at least historyEntryBytesMin bytes in one block). Judged when the request is made: another
 * payment received before this one uses the same room, as a LOAD uses the balance a request promised.
 */
function acceptedBundleBytes(se: SecureElementView, context: Personalised): number {
  const store = se.store;
  const bytesRoom = Math.floor((store.limits.bytesMax - store.bytesUsed - receiveRecordsBytes) / 2);
  // Two blocks besides the bundle's: the token, and the request record this command is about to add.
  const blocksRoom = (store.limits.blocksMax - store.blocksUsed - 2) * historyEntryBytesMin;
  return Math.max(0, Math.min(context.limits.historyBytesMax, logicalCommandBytesMax, bytesRoom, blocksRoom));
}

/**
 * PAY [payment request, advisory time] → bundle. Checks the payee and the limits, selects inputs,
 * signs the transfer and, in one atomic commit, spends the inputs, stores the change and logs the
 * payment as pending. The same request again returns the same bundle: no second debit.
 */
export function pay(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const command = new FieldReader(decodeCbor(data), 'payCommand', 2);
  const request = decodePaymentRequest(command.bytes(0, 'request'));
  const advisoryTime = command.uint(1, 'advisoryTime');
  const payee = request.payeeCertificate.body;
  const replay = replayedBundle(se, payee.subjectId, request.challenge, request.amount);
  if (replay !== undefined) return replay;

  const state = se.state();
  const verifier = se.platform.verifier;
  se.verifiedCertificates.verify(verifier, context.anchors, request.payeeCertificate, state.trustedTime);
  if (context.denied.has(idKey(payee.subjectId)))
    throw coreError('deniedSecureElement', 'payee is on the deny list');
  if (bytesEqual(payee.subjectId, context.identity.seId)) throw coreError('payToSelf');
  checkPayerLimits(se, context, request.amount);

  const bounds: PaymentBounds = {
    historyBytesMax: context.limits.historyBytesMax,
    generationMax: context.limits.generationMax,
    inputsMax: context.limits.inputsMax,
    // RECEIVE carries the bundle as one chained command: no payee can take more than that.
    payeeBundleBytesMax: Math.min(request.bundleBytesMax, logicalCommandBytesMax),
  };
  const bodyFor = (inputs: readonly TokenRecord[]): TransferBody =>
    transferBody(context, state.counter, request, inputs, advisoryTime);
  const plan = planPayment(se, context.config.certificate, se.tokens(), request.amount, bounds, (inputs) =>
    unsignedEntryLength(bodyFor(inputs)),
  );
  const transfer = identifyEntry(verifier, {
    kind: 'transfer',
    signed: signBody(context.signer, purposes.transfer, bodyFor(plan.inputs), transferBodyToCbor),
  });
  const bundle = encodeBundle({ certificates: plan.certificates, entries: [...plan.entries, transfer] });
  assert(bundle.length === plan.bundleBytes, 'the planned bundle length is the encoded one');
  commitPayment(se, request, plan, transfer, bundle);
  return bundle;
}

/**
 * Spends the inputs, stores the change and logs the payment as pending, in one commit.
 * The history entries of the spent inputs stay until COMPLETE SYNC: the upload reports them, and the
 * sync erases every entry no held token still needs (a scan of all tokens per payment would not pay).
 */
function commitPayment(
  se: SecureElementView,
  request: PaymentRequest,
  plan: PaymentPlan,
  transfer: IdentifiedEntry,
  bundle: Bytes,
): void {
  const state = se.state();
  const payee = request.payeeCertificate.body;
  const outputs = transfer.signed.body.outputs;
  const changes = new Changes();
  if (outputs.length === 2) {
    const change: TokenRecord = {
      id: transfer.outputIds[1]!,
      value: outputs[1]!.value,
      generation: plan.generation,
      entryIds: [...plan.historyIds, transfer.id],
      locked: false,
    };
    changes
      .record(recordKeys.token(change.id), change, encodeToken)
      .record(recordKeys.entry(transfer.id), heldEntry(transfer), encodeEntry);
  }
  for (const token of plan.inputs) changes.remove(recordKeys.token(token.id));
  changes
    .record(
      recordKeys.outgoing(transfer.id, 'pending'),
      {
        transferId: transfer.id,
        state: 'pending',
        payeePublicKey: payee.publicKey,
        amount: request.amount,
        bundle,
        receipt: new Uint8Array(0),
      },
      encodeOutgoing,
    )
    .put(recordKeys.payIndex(payee.subjectId, request.challenge), transfer.id)
    .record(
      recordKeys.state,
      {
        ...state,
        counter: state.counter + 1,
        balance: state.balance - request.amount,
        paymentsSinceSync: state.paymentsSinceSync + 1,
      },
      encodeState,
    );
  se.commit(changes);
}

/** The encoded length of a transfer entry for `body`, before signing: a signature's length is fixed. */
function unsignedEntryLength(body: TransferBody): number {
  const signed = { body, bodyBytes: encodeCbor(transferBodyToCbor(body)), signature: unsigned };
  return encodedCborLength(entryToCbor({ kind: 'transfer', signed }));
}

/** A placeholder of a signature's length: the bundle's length is known before signing. */
const unsigned = new Uint8Array(signatureBytes);

/** The transfer paying `request` from `inputs`: output 0 to the payee, output 1 the change, if any. */
function transferBody(
  context: Personalised,
  counter: number,
  request: PaymentRequest,
  inputs: readonly TokenRecord[],
  advisoryTime: number,
): TransferBody {
  const payeeId = request.payeeCertificate.body.subjectId;
  const total = inputs.reduce((sum, token) => sum + token.value, 0n);
  const outputs: Output[] = [{ value: request.amount, owner: payeeId }];
  if (total > request.amount) outputs.push({ value: total - request.amount, owner: context.identity.seId });
  return {
    payerId: context.identity.seId,
    payerCounter: counter,
    inputs: inputs.map((token) => token.id),
    outputs,
    payeeId,
    challenge: request.challenge,
    time: advisoryTime,
  };
}

/** PAY's idempotency: the bundle already made for this payee and challenge, if any. */
function replayedBundle(
  se: SecureElementView,
  payeeId: Bytes,
  challenge: Bytes,
  amount: bigint,
): Bytes | undefined {
  const transferId = se.store.get(recordKeys.payIndex(payeeId, challenge));
  if (transferId === undefined) return undefined;
  const record = se.outgoing(transferId);
  if (record === undefined)
    throw coreError('challengeUnknown', 'this request was paid and settled by a sync');
  if (record.amount !== amount)
    throw coreError('wrongAmount', 'the same request was paid with another amount');
  return record.bundle;
}

function checkPayerLimits(se: SecureElementView, context: Personalised, amount: bigint): void {
  const limits = context.limits;
  const state = se.state();
  if (amount > limits.paymentMax) throw coreError('paymentLimitExceeded', `${amount} > ${limits.paymentMax}`);
  if (state.paymentsSinceSync >= limits.offlinePaymentsMax) {
    throw coreError('offlinePaymentsLimitExceeded', `${state.paymentsSinceSync} payments since sync`);
  }
  const pending = se.store.keys(recordPrefixes.pendingOutgoing).length;
  if (pending >= pendingPaymentsMax) throw coreError('pendingLogFull', `${pending} unacknowledged payments`);
}
