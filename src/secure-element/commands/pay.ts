// PAYMENT REQUEST (step 1, payee SE) and PAY (step 2, payer SE) of the offline payment (DESIGN §5).
import { checkAmount } from '../../core/amount.ts';
import { bytesEqual, compareBytes, type Bytes } from '../../core/bytes.ts';
import { decodeCbor, FieldReader } from '../../core/cbor.ts';
import { purposes } from '../../core/crypto.ts';
import { coreError } from '../../core/errors.ts';
import { challengeBytes, idKey } from '../../core/ids.ts';
import { decodePaymentRequest, encodePaymentRequest } from '../../core/payment.ts';
import { encodeBundle, encodeEntry } from '../../core/bundle.ts';
import { signBody } from '../../core/signed.ts';
import { transferBodyToCbor, type TransferBody } from '../../core/transfer.ts';
import { identifyEntry } from '../../core/validate-bundle.ts';
import { verifySecureElementCertificate } from '../../core/trust.ts';
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
import { loadEntries, mergeHistories, signerCertificates } from './history.ts';

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
  se.store.commit(
    new Changes().put(
      recordKeys.incoming(challenge, 'outstanding'),
      encodeIncoming({
        challenge,
        amount,
        state: 'outstanding',
        transferId: empty,
        receipt: empty,
        bundleDigest: empty,
      }),
    ).map,
  );
  return encodePaymentRequest({ payeeCertificate: context.config.certificate, challenge, amount });
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
  verifySecureElementCertificate(verifier, context.anchors, request.payeeCertificate, state.trustedTime);
  if (context.denied.has(idKey(payee.subjectId)))
    throw coreError('deniedSecureElement', 'payee is on the deny list');
  if (bytesEqual(payee.subjectId, context.identity.seId)) throw coreError('payToSelf');
  checkPayerLimits(se, context, request.amount);

  const tokens = se.tokens();
  const inputs = selectInputs(tokens, request.amount, context.limits.inputsMax);
  const generation = 1 + Math.max(...inputs.map((token) => token.generation));
  if (generation > context.limits.generationMax) {
    throw coreError('generationLimitExceeded', `payment would be generation ${generation}: renewal required`);
  }
  const total = inputs.reduce((sum, token) => sum + token.value, 0n);
  const outputs: Output[] = [{ value: request.amount, owner: payee.subjectId }];
  if (total > request.amount) outputs.push({ value: total - request.amount, owner: context.identity.seId });
  const body: TransferBody = {
    payerId: context.identity.seId,
    payerCounter: state.counter,
    inputs: inputs.map((token) => token.id),
    outputs,
    payeeId: payee.subjectId,
    challenge: request.challenge,
    time: advisoryTime,
  };
  const transfer = identifyEntry(verifier, {
    kind: 'transfer',
    signed: signBody(context.signer, purposes.transfer, body, transferBodyToCbor),
  });
  const historyIds = mergeHistories(inputs);
  const entries = [...loadEntries(se, historyIds), transfer];
  const bundle = encodeBundle({
    certificates: signerCertificates(se, context.config.certificate, entries),
    entries,
  });
  if (bundle.length > context.limits.historyBytesMax) {
    throw coreError('historyBytesLimitExceeded', `bundle of ${bundle.length} bytes: renewal required`);
  }

  // The history entries of the spent inputs stay until COMPLETE SYNC: the upload reports them, and the
  // sync erases every entry no held token still needs (a scan of all tokens per payment would not pay).
  const changes = new Changes();
  if (outputs.length === 2) {
    const change: TokenRecord = {
      id: transfer.outputIds[1]!,
      value: outputs[1]!.value,
      generation,
      entryIds: [...historyIds, transfer.id],
      locked: false,
    };
    changes
      .put(recordKeys.token(change.id), encodeToken(change))
      .put(recordKeys.entry(transfer.id), encodeEntry(transfer));
  }
  for (const token of inputs) changes.remove(recordKeys.token(token.id));
  changes
    .put(
      recordKeys.outgoing(transfer.id, 'pending'),
      encodeOutgoing({
        transferId: transfer.id,
        state: 'pending',
        payeePublicKey: payee.publicKey,
        amount: request.amount,
        bundle,
        receipt: new Uint8Array(0),
      }),
    )
    .put(recordKeys.payIndex(payee.subjectId, request.challenge), transfer.id)
    .put(
      recordKeys.state,
      encodeState({
        ...state,
        counter: state.counter + 1,
        balance: state.balance - request.amount,
        paymentsSinceSync: state.paymentsSinceSync + 1,
      }),
    );
  se.store.commit(changes.map);
  return bundle;
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

/**
 * Chooses inputs: the smallest single token that covers the amount (least change, one input), else
 * the largest tokens first until covered. Locked tokens (claimed by an open sync) are not spendable.
 * Ties break by token id so that selection is deterministic.
 */
export function selectInputs(
  tokens: readonly TokenRecord[],
  amount: bigint,
  inputsMax: number,
): TokenRecord[] {
  const spendable = tokens.filter((token) => !token.locked);
  let available = 0n;
  let single: TokenRecord | undefined;
  for (const token of spendable) {
    available += token.value;
    if (token.value >= amount && (single === undefined || compareTokens(token, single) < 0)) single = token;
  }
  if (available < amount) throw coreError('insufficientFunds', `holds ${available}, needs ${amount}`);
  if (single !== undefined) return [single];
  const largestFirst = [...spendable].sort((a, b) => compareTokens(b, a));
  const chosen: TokenRecord[] = [];
  let covered = 0n;
  for (const token of largestFirst) {
    if (covered >= amount) break;
    chosen.push(token);
    covered += token.value;
  }
  if (chosen.length > inputsMax)
    throw coreError('inputsLimitExceeded', `needs ${chosen.length} inputs: renewal required`);
  return chosen;
}

/** Smaller value first; equal values by token id (store keys sort like ids). */
function compareTokens(a: TokenRecord, b: TokenRecord): number {
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return compareBytes(a.id, b.id);
}
