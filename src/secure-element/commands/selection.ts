// Choosing a payment's inputs (DESIGN §5 step 2). PAY must never debit for a bundle nobody can take
// (DESIGN §10 invariant 8): before it signs, it knows the exact length of the bundle each choice of
// inputs would make, whether their merged histories conflict, and the generation of the outputs, so
// it picks a choice that the payee, the link and its own limits all accept, or refuses having written
// nothing.
//
// Order of preference: the usual choice (the smallest single token that covers the amount, else the
// largest tokens first: least change, fewest inputs); then, only if that one's histories conflict or
// its bundle is too long, choices that keep the bundle small: each covering token by the size of its
// history, then the tokens with the smallest histories first. If none is accepted, the usual
// choice's refusal is the answer.
import { assert } from '../../core/assert.ts';
import { compareBytes } from '../../core/bytes.ts';
import { encodedCborLength } from '../../core/cbor.ts';
import { coreError, type CbdcError } from '../../core/errors.ts';
import { signedToCbor } from '../../core/signed.ts';
import { idKey, type EntryId } from '../../core/ids.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { HistoryEntry } from '../../core/bundle.ts';
import { recordKeys, type TokenRecord } from '../records.ts';
import type { SecureElementView } from '../view.ts';
import { loadEntries, mergeHistories, signerCertificates } from './history.ts';

export interface PaymentBounds {
  /** The payer's own limits: the bundle it may send, the generation and inputs it may sign. */
  readonly historyBytesMax: number;
  readonly generationMax: number;
  readonly inputsMax: number;
  /** What the payee stated it accepts, capped by what one RECEIVE command carries. */
  readonly payeeBundleBytesMax: number;
}

/** Everything PAY needs to sign and send, for one accepted choice of inputs. */
export interface PaymentPlan {
  readonly inputs: readonly TokenRecord[];
  readonly historyIds: readonly EntryId[];
  readonly entries: readonly HistoryEntry[];
  readonly certificates: readonly Certificate[];
  readonly generation: number;
  /** The exact length of the bundle: the merged history, the certificates and the new transfer. */
  readonly bundleBytes: number;
}

/**
 * The first acceptable choice of inputs for `amount`, or the refusal of the usual choice.
 * `transferEntryBytes` is the encoded length of the transfer entry those inputs would make (its
 * signature has a fixed length, so it is known before signing).
 */
export function planPayment(
  se: SecureElementView,
  own: Certificate,
  tokens: readonly TokenRecord[],
  amount: bigint,
  bounds: PaymentBounds,
  transferEntryBytes: (inputs: readonly TokenRecord[]) => number,
): PaymentPlan {
  const spendable = tokens.filter((token) => !token.locked);
  const usual = evaluate(
    se,
    own,
    selectInputs(spendable, amount, bounds.inputsMax),
    bounds,
    transferEntryBytes,
  );
  if (!(usual instanceof Error)) return usual;
  if (!refusalsOtherInputsMayAvoid.has(usual.code)) throw usual;
  for (const inputs of smallHistoryChoices(se, spendable, amount, bounds.inputsMax)) {
    const plan = evaluate(se, own, inputs, bounds, transferEntryBytes);
    if (!(plan instanceof Error)) return plan;
  }
  throw usual;
}

/**
 * The refusals for which other inputs are tried: a history conflict and a bundle too long. A
 * generation past the limit is answered as before, "renewal required", rather than spending other
 * tokens than the usual choice.
 */
const refusalsOtherInputsMayAvoid: ReadonlySet<string> = new Set([
  'historyConflictsWithHeld',
  'historyBytesLimitExceeded',
  'payeeBundleLimitExceeded',
]);

function evaluate(
  se: SecureElementView,
  own: Certificate,
  inputs: readonly TokenRecord[],
  bounds: PaymentBounds,
  transferEntryBytes: (inputs: readonly TokenRecord[]) => number,
): PaymentPlan | CbdcError {
  const historyIds = mergeHistories(inputs);
  const entries = loadEntries(se, historyIds);
  const conflict = mergeConflict(inputs, entries);
  if (conflict !== undefined) return coreError('historyConflictsWithHeld', conflict);
  const generation = 1 + Math.max(...inputs.map((token) => token.generation));
  if (generation > bounds.generationMax)
    return coreError(
      'generationLimitExceeded',
      `payment would be generation ${generation}: renewal required`,
    );
  const certificates = signerCertificates(se, own, entries);
  if (!certificates.some((certificate) => certificate === own)) certificates.push(own);
  const bundleBytes = bundleLength(se, own, certificates, historyIds, transferEntryBytes(inputs));
  if (bundleBytes > bounds.historyBytesMax)
    return coreError('historyBytesLimitExceeded', `bundle of ${bundleBytes} bytes: renewal required`);
  if (bundleBytes > bounds.payeeBundleBytesMax) {
    return coreError(
      'payeeBundleLimitExceeded',
      `bundle of ${bundleBytes} bytes, the payee accepts ${bounds.payeeBundleBytesMax}`,
    );
  }
  return { inputs, historyIds, entries, certificates, generation, bundleBytes };
}

/**
 * Why the merged history of `inputs` could not be paid: two transfers in it spending one token, or
 * one of the inputs already spent in it. Either is a double spend upstream (a clone, a compromised
 * SE) that every payee would refuse as `historyDoubleSpend`; paying the histories apart still works.
 */
function mergeConflict(inputs: readonly TokenRecord[], entries: readonly HistoryEntry[]): string | undefined {
  const spent = new Set<string>();
  for (const entry of entries) {
    if (entry.kind !== 'transfer') continue;
    for (const input of entry.signed.body.inputs) {
      const key = idKey(input);
      if (spent.has(key)) return 'the inputs histories spend one token in two transfers';
      spent.add(key);
    }
  }
  for (const token of inputs) {
    if (spent.has(idKey(token.id))) return 'an input is spent in the history of another input';
  }
  return undefined;
}

/** The encoded length of `[1, certificates, entries]`, from the stored records' lengths. */
function bundleLength(
  se: SecureElementView,
  own: Certificate,
  certificates: readonly Certificate[],
  historyIds: readonly EntryId[],
  transferEntryBytes: number,
): number {
  let bytes = 2 + cborHeadBytes(certificates.length) + cborHeadBytes(historyIds.length + 1);
  for (const certificate of certificates) {
    bytes +=
      certificate === own
        ? encodedCborLength(signedToCbor(own))
        : storedLength(se, recordKeys.certificate(certificate.body.subjectId));
  }
  for (const id of historyIds) bytes += storedLength(se, recordKeys.entry(id));
  return bytes + transferEntryBytes;
}

function storedLength(se: SecureElementView, key: string): number {
  const bytes = se.store.get(key);
  assert(bytes !== undefined, 'a held history names a record that is not stored');
  return bytes.length;
}

/** Length of a CBOR head for a count `n` (RFC 8949 §3): the argument in 0, 1, 2 or 4 extra bytes. */
function cborHeadBytes(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/**
 * The usual choice: the smallest single token that covers the amount (least change, one input),
 * else the largest tokens first until covered (fewest inputs, so a refusal for too many inputs holds
 * for every choice). Ties break by token id so that selection is deterministic.
 */
export function selectInputs(
  spendable: readonly TokenRecord[],
  amount: bigint,
  inputsMax: number,
): TokenRecord[] {
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

/** Choices that keep the bundle small: each covering token, then the smallest histories first. */
function* smallHistoryChoices(
  se: SecureElementView,
  spendable: readonly TokenRecord[],
  amount: bigint,
  inputsMax: number,
): Generator<TokenRecord[]> {
  const sized = spendable
    .map((token) => ({ token, bytes: historyLength(se, token) }))
    .sort((a, b) => a.bytes - b.bytes || compareTokens(a.token, b.token));
  for (const { token } of sized) if (token.value >= amount) yield [token];
  const chosen: TokenRecord[] = [];
  let covered = 0n;
  for (const { token } of sized) {
    if (covered >= amount || chosen.length === inputsMax) break;
    chosen.push(token);
    covered += token.value;
  }
  if (covered >= amount) yield chosen;
}

/** The stored length of a token's history (shared entries counted again: an ordering, not a size). */
function historyLength(se: SecureElementView, token: TokenRecord): number {
  let bytes = 0;
  for (const id of token.entryIds) bytes += storedLength(se, recordKeys.entry(id));
  return bytes;
}

/** Smaller value first; equal values by token id (store keys sort like ids). */
function compareTokens(a: TokenRecord, b: TokenRecord): number {
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return compareBytes(a.id, b.id);
}
