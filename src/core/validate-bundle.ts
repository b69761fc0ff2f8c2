// RECEIVE's rules (DESIGN §5 step 3), as one pure function: a bundle is accepted only if every
// signature back to DCP issuances verifies, every transfer conserves value, nothing is spent twice,
// generation and size are within limits, and the last transfer pays this payee the requested amount.
// Under the `lastHop` verification policy (limits.ts) the signatures of the ancestors — their
// transfers, their payers' certificates and the issuances — are the one thing not checked: every
// structural rule and bound still is, and the paying transfer is verified in full.
import { bytesEqual, type Bytes } from './bytes.ts';
import { purposes, type Verifier } from './crypto.ts';
import { coreError } from './errors.ts';
import { idKey, tokenIdOf, type EntryId, type PrincipalId, type TokenId } from './ids.ts';
import { decodeBundle, type HistoryEntry } from './bundle.ts';
import { checkNotExpired, verifySecureElementCertificate, type TrustAnchors } from './trust.ts';
import type { VerifiedCertificates } from './verified-certificates.ts';
import type { Certificate } from './certificate.ts';
import type { Issuance } from './issuance.ts';
import type { Transfer } from './transfer.ts';
import type { VerificationPolicy } from './limits.ts';

export interface BundleRules {
  readonly verifier: Verifier;
  readonly anchors: TrustAnchors;
  /** True when the secure element is on the deny list. */
  readonly isDenied: (seId: PrincipalId) => boolean;
  /** The newest DCP-signed time the receiver has seen (certificate expiry). */
  readonly trustedTime: number;
  readonly generationMax: number;
  readonly historyBytesMax: number;
  readonly inputsMax: number;
  /** Certificates the receiver verified before: each is verified again only when not among them. */
  readonly certificates?: VerifiedCertificates;
  /**
   * True when the receiver already holds this very entry — same kind, body bytes and signature —
   * and verified it when it stored it: its signature is not verified again. Every other rule
   * (trusted issuer, certified payer, conservation, spending, limits) is still checked.
   */
  readonly isHeld?: (entry: IdentifiedEntry) => boolean;
  /** `full` when absent: every signature back to DCP issuances (DESIGN §5 step 3). */
  readonly verification?: VerificationPolicy;
}

export interface Expectation {
  readonly payeeId: PrincipalId;
  readonly amount: bigint;
}

/** A history entry with its id (digest of its body bytes) and the ids of the tokens it produced. */
export type IdentifiedEntry = HistoryEntry & { readonly id: EntryId; readonly outputIds: readonly TokenId[] };

/** A token produced by a history entry, as the receiver will store it. */
export interface ProducedToken {
  readonly id: TokenId;
  readonly value: bigint;
  readonly owner: PrincipalId;
  readonly generation: number;
}

export interface ValidatedBundle {
  readonly transfer: Transfer;
  readonly transferId: EntryId;
  readonly payerCertificate: Certificate;
  readonly entries: readonly IdentifiedEntry[];
  readonly certificates: readonly Certificate[];
  readonly payment: ProducedToken;
}

export function identifyEntry(verifier: Verifier, entry: HistoryEntry): IdentifiedEntry {
  const id = verifier.sha256(entry.signed.bodyBytes);
  const outputIds = entry.signed.body.outputs.map((_, index) => tokenIdOf(verifier, id, index));
  return { ...entry, id, outputIds };
}

/**
 * Validates a bundle's bytes; throws a typed `CbdcError` naming the first rule broken, in the order
 * of docs/protocol.md §4: 1 size and decoding, 2 the last entry is a transfer, 3 what the receiver
 * expects of it (its challenge), 4 the certificates, 5 ancestry, 6 each entry in order, 7 the paying
 * transfer. The verification policy decides which signatures rules 4 and 6 verify: all (`full`), or
 * (`lastHop`) the paying transfer's and its payer's certificate alone. `expect` says,
 * from the paying transfer, what the receiver expects (its payment request's payee and amount); it
 * may itself throw (an unknown challenge) before any signature is verified.
 */
export function validateBundle(
  rules: BundleRules,
  bytes: Bytes,
  expect: (transfer: IdentifiedEntry & { kind: 'transfer' }) => Expectation,
): ValidatedBundle {
  if (bytes.length > rules.historyBytesMax) {
    throw coreError('historyBytesLimitExceeded', `${bytes.length} bytes > ${rules.historyBytesMax}`);
  }
  const bundle = decodeBundle(bytes);
  // Hashing every entry is cheap next to one signature: ids first, so that `expect` can refuse an
  // unknown challenge or answer a replay before any signature is verified.
  const entries = bundle.entries.map((entry) => identifyEntry(rules.verifier, entry));
  const last = entries[entries.length - 1];
  if (last?.kind !== 'transfer')
    throw coreError('historyIncomplete', 'a bundle must end with the paying transfer');
  const expected = expect(last);
  const directPayer = idKey(last.signed.body.payerId);
  const verifiesAncestors = (rules.verification ?? 'full') === 'full';
  const signers = verifyCertificates(rules, bundle.certificates, entries, (subject) =>
    verifiesAncestors ? true : subject === directPayer,
  );
  checkAncestry(entries);
  const produced = replayHistory(rules, entries, signers, (entry) =>
    verifiesAncestors ? !(rules.isHeld?.(entry) ?? false) : entry === last,
  );
  const payerCertificate = checkFinalTransfer(rules, last.signed, signers, expected);
  const payment = produced.get(idKey(last.outputIds[0]!))!;
  return {
    transfer: last.signed,
    transferId: last.id,
    payerCertificate,
    entries,
    certificates: bundle.certificates,
    payment,
  };
}

/**
 * Verifies each secure element certificate once; returns them by subject id. The certificate list is
 * not signed, so it carries only what the entries need: a relay appending genuine certificates of
 * unrelated SEs would otherwise fill the receiver's store with them.
 */
function verifyCertificates(
  rules: BundleRules,
  certificates: readonly Certificate[],
  entries: readonly IdentifiedEntry[],
  mustVerify: (subjectKey: string) => boolean,
): Map<string, Certificate> {
  const payers = new Set<string>();
  for (const entry of entries) if (entry.kind === 'transfer') payers.add(idKey(entry.signed.body.payerId));
  const signers = new Map<string, Certificate>();
  for (const certificate of certificates) {
    const key = idKey(certificate.body.subjectId);
    if (signers.has(key)) throw coreError('historyNotOrdered', 'certificate repeated');

    // Expiry is judged only for the direct payer (checkFinalTransfer): an ancestor's certificate may
    // have expired since it paid, which does not make the value it passed on invalid.
    // A remembered certificate comes back byte-identical: its key is then the same object each time.
    let verified = certificate;
    // Under lastHop an ancestor's certificate is carried unverified: nothing but its key is used,
    // and only for signatures that policy does not verify.
    if (mustVerify(key)) verified = verifiedCertificate(rules, certificate);
    // After its own checks, so that a forged certificate is named as forged rather than as unused.
    if (!payers.has(key))
      throw coreError('bundleCertificateUnused', 'a certificate of an SE that signed no transfer here');
    signers.set(key, verified);
  }
  return signers;
}

/** The chain check, through the receiver's memory of verified certificates when it has one. */
function verifiedCertificate(rules: BundleRules, certificate: Certificate): Certificate {
  if (rules.certificates !== undefined)
    return rules.certificates.verify(rules.verifier, rules.anchors, certificate, undefined);
  verifySecureElementCertificate(rules.verifier, rules.anchors, certificate, undefined);
  return certificate;
}

/**
 * Topological order and no extras: every input is produced by an earlier entry, no entry repeats,
 * and every entry but the last is an ancestor of the last.
 */
function checkAncestry(entries: readonly IdentifiedEntry[]): void {
  const seen = new Set<string>();
  const producer = new Map<string, number>();
  entries.forEach((entry, index) => {
    const key = idKey(entry.id);
    if (seen.has(key)) throw coreError('historyNotOrdered', 'entry repeated');
    seen.add(key);
    if (entry.kind === 'transfer') {
      for (const input of entry.signed.body.inputs) {
        if (!producer.has(idKey(input)))
          throw coreError('historyIncomplete', `entry ${index} spends a token no earlier entry produced`);
      }
    }
    for (const id of entry.outputIds) producer.set(idKey(id), index);
  });
  const needed = new Set<number>([entries.length - 1]);
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index]!;
    if (!needed.has(index))
      throw coreError('historyNotOrdered', `entry ${index} is not an ancestor of the payment`);
    if (entry.kind === 'transfer')
      for (const input of entry.signed.body.inputs) needed.add(producer.get(idKey(input))!);
  }
}

/**
 * Walks the entries in order, verifying each signature and rule and tracking unspent outputs:
 * issuances must be signed by a trusted DCP issuer; transfers by the certified owner of every input,
 * conserving value, within the inputs and generation limits, spending each token once.
 */
function replayHistory(
  rules: BundleRules,
  entries: readonly IdentifiedEntry[],
  signers: ReadonlyMap<string, Certificate>,
  verifiesSignature: (entry: IdentifiedEntry) => boolean,
): Map<string, ProducedToken> {
  const unspent = new Map<string, ProducedToken>();
  const spent = new Set<string>();
  for (const entry of entries) {
    const held = !verifiesSignature(entry);
    const generation =
      entry.kind === 'issuance'
        ? verifyIssuance(rules, entry.signed, held)
        : verifyTransfer(rules, entry.signed, held, signers, unspent, spent);
    entry.outputIds.forEach((id, index) => {
      const output = entry.signed.body.outputs[index]!;
      unspent.set(idKey(id), { id, value: output.value, owner: output.owner, generation });
    });
  }
  return unspent;
}

/**
 * Returns the generation of the issuance's outputs: 0. A `held` issuance's signature was verified
 * when stored, or is not verified by the lastHop policy; its DCP must still be trusted.
 */
function verifyIssuance(rules: BundleRules, issuance: Issuance, held: boolean): number {
  const issuer = rules.anchors.dcpIssuers.get(idKey(issuance.body.dcpId));
  if (issuer === undefined) throw coreError('issuanceNotFromDcp', 'issuer is not a trusted DCP');
  if (
    !held &&
    !rules.verifier.verify(issuer.body.publicKey, purposes.issuance, issuance.bodyBytes, issuance.signature)
  ) {
    throw coreError('issuanceNotFromDcp', 'issuance signature does not verify');
  }
  return 0;
}

/**
 * Checks one transfer against the unspent outputs, spends its inputs and returns its outputs'
 * generation. A `held` transfer's signature was verified when stored (or, under lastHop, is not
 * verified); its payer must still have a certificate in the bundle.
 */
function verifyTransfer(
  rules: BundleRules,
  transfer: Transfer,
  held: boolean,
  signers: ReadonlyMap<string, Certificate>,
  unspent: Map<string, ProducedToken>,
  spent: Set<string>,
): number {
  const body = transfer.body;
  if (body.inputs.length > rules.inputsMax)
    throw coreError('inputsLimitExceeded', `${body.inputs.length} inputs`);
  const certificate = signers.get(idKey(body.payerId));
  if (certificate === undefined)
    throw coreError('certificateChainInvalid', 'no certificate for a payer in the history');
  if (
    !held &&
    !rules.verifier.verify(
      certificate.body.publicKey,
      purposes.transfer,
      transfer.bodyBytes,
      transfer.signature,
    )
  ) {
    throw coreError('signatureInvalid', 'transfer signature');
  }
  let inputTotal = 0n;
  let highest = 0;
  const inputs = new Set<string>();
  for (const input of body.inputs) {
    const key = idKey(input);
    if (inputs.has(key)) throw coreError('duplicateInput');
    inputs.add(key);
    if (spent.has(key)) throw coreError('historyDoubleSpend');
    const token = unspent.get(key)!;
    if (!bytesEqual(token.owner, body.payerId))
      throw coreError('tokenNotOwned', 'input not owned by the payer');
    inputTotal += token.value;
    highest = Math.max(highest, token.generation);
  }
  let outputTotal = 0n;
  for (const output of body.outputs) outputTotal += output.value;
  if (outputTotal !== inputTotal)
    throw coreError('transferNotConserving', `inputs ${inputTotal}, outputs ${outputTotal}`);
  const generation = highest + 1;
  if (generation > rules.generationMax)
    throw coreError('generationLimitExceeded', `generation ${generation} > ${rules.generationMax}`);
  for (const key of inputs) {
    spent.add(key);
    unspent.delete(key);
  }
  return generation;
}

/** The paying transfer: a valid, unexpired, not denied payer; pays the expected payee the expected amount. */
function checkFinalTransfer(
  rules: BundleRules,
  transfer: Transfer,
  signers: ReadonlyMap<string, Certificate>,
  expected: Expectation,
): Certificate {
  const body = transfer.body;
  const payerCertificate = signers.get(idKey(body.payerId))!;
  // Its chain was verified with the other certificates; the direct payer's must also be unexpired.
  checkNotExpired(payerCertificate, rules.trustedTime);
  if (rules.isDenied(body.payerId)) throw coreError('deniedSecureElement', 'payer is on the deny list');
  if (bytesEqual(body.payerId, body.payeeId)) throw coreError('payToSelf');
  if (!bytesEqual(body.payeeId, expected.payeeId)) throw coreError('wrongPayee');
  const [payment, change] = body.outputs;
  if (payment === undefined || !bytesEqual(payment.owner, expected.payeeId)) {
    throw coreError('wrongPayee', 'output 0 must pay the payee');
  }
  if (payment.value !== expected.amount)
    throw coreError('wrongAmount', `paid ${payment.value}, requested ${expected.amount}`);
  if (change !== undefined && !bytesEqual(change.owner, body.payerId)) {
    throw coreError('tokenNotOwned', 'output 1 must be change to the payer');
  }
  return payerCertificate;
}
