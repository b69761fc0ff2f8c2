// Attacker tooling for tests. DESIGN §3: whoever extracts a secure element's key "can sign anything
// with that key"; whoever holds no key can still replay, cut, re-encode and re-sign bytes with keys
// of its own. This module builds such inputs with the very core functions an honest SE uses, and
// checks what an honest SE must do with them: refuse with an exact status word and code, and change
// nothing — neither what GET DATA reports nor a single byte of its memory.
// Test support only: no product module imports src/testing/ (import-rules.test.ts).
import assert from 'node:assert/strict';
import { concatBytes, u32be, type Bytes } from '../core/bytes.ts';
import { encodeCbor } from '../core/cbor.ts';
import { purposes, signatureBytes, type Signer } from '../core/crypto.ts';
import { challengeBytes, idKey, principalIdOf, type PrincipalId, type TokenId } from '../core/ids.ts';
import { decodeBundle, encodeBundle, type Bundle, type HistoryEntry } from '../core/bundle.ts';
import type { Certificate, SecureElementKind } from '../core/certificate.ts';
import { issuanceBodyToCbor, type Issuance, type IssuanceKind, type Output } from '../core/issuance.ts';
import { decodePaymentRequest, receiptBodyToCbor, type ReceiptBody } from '../core/payment.ts';
import { encodeSigned, signBody, type Signed } from '../core/signed.ts';
import { transferBodyToCbor, type Transfer, type TransferBody } from '../core/transfer.ts';
import { identifyEntry, type IdentifiedEntry } from '../core/validate-bundle.ts';
import { NodeSigner, secureRandomBytes } from '../crypto/node-crypto.ts';
import { SecureElementRefused, type PublicData } from '../device/se-client.ts';
import type { Device } from '../device/device.ts';
import { readChip } from '../sim/chip-memory.ts';
import { mediumSnapshot, publicData } from './devices.ts';
import type { TestPki } from './test-pki.ts';

// --- keys the attacker holds ------------------------------------------------------------------

/** A secure element key in the attacker's hands, with the certificate that names it. */
export interface SecureElementKey {
  readonly signer: Signer;
  readonly id: PrincipalId;
  readonly certificate: Certificate;
}

/** Whatever signs issuances: the test DCP, or a fake one. */
export interface Issuer {
  issue(kind: IssuanceKind, outputs: readonly Output[]): Issuance;
}

/**
 * A "DCP" the root never certified. It signs issuances and SE certificates that look right in every
 * field; `claimedId` lets it pose as a real DCP, whose key it still does not have.
 */
export class FakeDcp implements Issuer {
  readonly signer = NodeSigner.generate();
  readonly id: PrincipalId;
  readonly #pki: TestPki;
  #references = 0;

  constructor(pki: TestPki, claimedId?: PrincipalId) {
    this.#pki = pki;
    this.id = claimedId ?? principalIdOf(pki.verifier, this.signer.publicKey);
  }

  issue(kind: IssuanceKind, outputs: readonly Output[]): Issuance {
    this.#references++;
    const requestReference = concatBytes(this.id.subarray(0, 12), u32be(this.#references));
    const body = {
      dcpId: this.id,
      kind,
      requestReference,
      outputs,
      retiredTokenIds: [],
      time: this.#pki.time,
    };
    return signBody(this.signer, purposes.issuance, body, issuanceBodyToCbor);
  }

  certifySecureElement(publicKey: Bytes, kind: SecureElementKind): Certificate {
    return this.#pki.certify(this.signer, this.id, kind, publicKey);
  }
}

// --- histories built by hand ------------------------------------------------------------------

/** A token as the attacker tracks it: value, owner and whole history, ending with its producer. */
export interface ForgedToken {
  readonly id: TokenId;
  readonly value: bigint;
  readonly owner: PrincipalId;
  readonly history: readonly IdentifiedEntry[];
}

/** What an attacker who opened a chip holds: its key, and the tokens the chip holds. */
export interface ExtractedSecureElement {
  readonly key: SecureElementKey;
  readonly tokens: readonly ForgedToken[];
}

export interface TransferOptions {
  /** Default: the owner of output 0. */
  readonly payeeId?: PrincipalId;
  /** Default: a fresh random challenge (nobody issued it). */
  readonly challenge?: Bytes;
  /** Default: the signer's next counter in this forge. */
  readonly counter?: number;
  readonly time?: number;
  /** Rewrites the canonical body bytes before they are signed (non-canonical encodings). */
  readonly rewriteBody?: (canonical: Bytes) => Bytes;
}

/**
 * Builds issuances, transfers and bundles by hand. Nothing here checks a rule: that is the point.
 * The forge remembers the certificate of every key it compromised, so bundles carry them.
 */
export class Forge {
  readonly pki: TestPki;
  readonly #certificates = new Map<string, Certificate>();
  readonly #counters = new Map<string, number>();

  constructor(pki: TestPki) {
    this.pki = pki;
  }

  /**
   * A compromised SE: a key the attacker holds, certified as `kind` by the test DCP (a genuine
   * certificate, as if the key had been extracted from a real chip) or by `issuer` (a fake DCP).
   */
  compromisedSecureElement(
    kind: SecureElementKind = 'phone',
    options: { readonly issuer?: FakeDcp; readonly validUntil?: number } = {},
  ): SecureElementKey {
    const signer = NodeSigner.generate();
    const certificate =
      options.issuer === undefined
        ? this.pki.dcp.certifySecureElement(signer.publicKey, kind, options.validUntil)
        : options.issuer.certifySecureElement(signer.publicKey, kind);
    this.#learnCertificate(certificate);
    return { signer, id: certificate.body.subjectId, certificate };
  }

  /**
   * A real chip opened (sim/chip-memory.ts reads a copy of its memory; the chip goes on as it was):
   * its key with its genuine certificate, and the tokens it holds with their histories. The forge
   * learns the certificates the chip keeps, so bundles it builds on these tokens carry them. It
   * does not take over the chip's counter: say which counter each transfer signs.
   */
  extract(device: Device): ExtractedSecureElement {
    return readChip(device, (view) => {
      const { identity, signer, config } = view.personalised();
      const key = { signer, id: identity.seId, certificate: config.certificate };
      this.#certificates.set(idKey(key.id), key.certificate);
      const tokens = view.tokens().map((token) => {
        const history = token.entryIds.map((id) => {
          const entry = view.entry(id);
          assert.ok(entry !== undefined, 'a held token names a stored history entry');
          if (entry.kind === 'transfer') this.#learnCertificate(view.certificate(entry.signed.body.payerId));
          return identifyEntry(this.pki.verifier, entry);
        });
        return { id: token.id, value: token.value, owner: key.id, history };
      });
      return { key, tokens };
    });
  }

  #learnCertificate(certificate: Certificate | undefined): void {
    if (certificate !== undefined) this.#certificates.set(idKey(certificate.body.subjectId), certificate);
  }

  fakeDcp(claimedId?: PrincipalId): FakeDcp {
    return new FakeDcp(this.pki, claimedId);
  }

  /** One issuance by `issuer` (the test DCP by default) paying `values` to `owner`, as tokens. */
  issue(owner: PrincipalId, values: readonly bigint[], issuer: Issuer = this.pki.dcp): ForgedToken[] {
    const issuance = issuer.issue(
      'load',
      values.map((value) => ({ value, owner })),
    );
    return this.#tokensOf(identifyEntry(this.pki.verifier, { kind: 'issuance', signed: issuance }), []);
  }

  /** A transfer signed by `payer` spending `inputs` into `outputs`; returns the output tokens. */
  transfer(
    payer: SecureElementKey,
    inputs: readonly ForgedToken[],
    outputs: readonly Output[],
    options: TransferOptions = {},
  ): ForgedToken[] {
    const body: TransferBody = {
      payerId: payer.id,
      payerCounter: options.counter ?? this.#nextCounter(payer.id),
      inputs: inputs.map((token) => token.id),
      outputs,
      payeeId: options.payeeId ?? outputs[0]!.owner,
      challenge: options.challenge ?? secureRandomBytes(challengeBytes),
      time: options.time ?? this.pki.time,
    };
    const canonical = encodeCbor(transferBodyToCbor(body));
    const bodyBytes = options.rewriteBody === undefined ? canonical : options.rewriteBody(canonical);
    const signed: Transfer = { body, bodyBytes, signature: payer.signer.sign(purposes.transfer, bodyBytes) };
    const entry = identifyEntry(this.pki.verifier, { kind: 'transfer', signed });
    return this.#tokensOf(entry, mergeHistories(inputs));
  }

  /**
   * Answers an encoded payment request from `inputs`: output 0 pays the requested payee `amount`
   * (the requested amount by default), output 1 returns `change` (inputs − amount by default, none
   * when zero). Returns the bundle.
   */
  pay(
    payer: SecureElementKey,
    inputs: readonly ForgedToken[],
    request: Bytes,
    options: { readonly amount?: bigint; readonly change?: bigint } & TransferOptions = {},
  ): Bytes {
    const decoded = decodePaymentRequest(request);
    const amount = options.amount ?? decoded.amount;
    const held = inputs.reduce((sum, token) => sum + token.value, 0n);
    const change = options.change ?? held - amount;
    const outputs: Output[] = [{ value: amount, owner: decoded.payeeCertificate.body.subjectId }];
    if (change !== 0n) outputs.push({ value: change, owner: payer.id });
    const [payment] = this.transfer(payer, inputs, outputs, { challenge: decoded.challenge, ...options });
    return this.bundle(payment!);
  }

  /**
   * The outputs of an intercepted bundle's paying transfer, with its history; the forge learns the
   * bundle's certificates, so that bundles built on these tokens carry them.
   */
  intercept(bundleBytes: Bytes): ForgedToken[] {
    const bundle = decodeBundle(bundleBytes);
    for (const certificate of bundle.certificates) this.#learnCertificate(certificate);
    const entries = bundle.entries.map((entry) => identifyEntry(this.pki.verifier, entry));
    return this.#tokensOf(entries.at(-1)!, entries.slice(0, -1));
  }

  /** The bundle that pays `token`: its history and the certificate of every transfer signer known. */
  bundle(token: ForgedToken, extraCertificates: readonly Certificate[] = []): Bytes {
    const certificates = new Map<string, Certificate>();
    for (const entry of token.history) {
      if (entry.kind !== 'transfer') continue;
      const key = idKey(entry.signed.body.payerId);
      const certificate = this.#certificates.get(key);
      if (certificate !== undefined) certificates.set(key, certificate);
    }
    for (const certificate of extraCertificates)
      certificates.set(idKey(certificate.body.subjectId), certificate);
    return encodeBundle({ certificates: [...certificates.values()], entries: token.history });
  }

  #nextCounter(seId: PrincipalId): number {
    const counter = this.#counters.get(idKey(seId)) ?? 0;
    this.#counters.set(idKey(seId), counter + 1);
    return counter;
  }

  #tokensOf(entry: IdentifiedEntry, ancestors: readonly IdentifiedEntry[]): ForgedToken[] {
    const history = [...ancestors, entry];
    return entry.signed.body.outputs.map((output, index) => ({
      id: entry.outputIds[index]!,
      value: output.value,
      owner: output.owner,
      history,
    }));
  }
}

/** The union of the tokens' histories, each entry once, in first-seen (so topological) order. */
function mergeHistories(tokens: readonly ForgedToken[]): IdentifiedEntry[] {
  const seen = new Set<string>();
  const merged: IdentifiedEntry[] = [];
  for (const token of tokens) {
    for (const entry of token.history) {
      if (seen.has(idKey(entry.id))) continue;
      seen.add(idKey(entry.id));
      merged.push(entry);
    }
  }
  return merged;
}

// --- mutations of valid messages --------------------------------------------------------------

/** Decodes a bundle, lets `change` rewrite it, and encodes it again (canonically). */
export function mutateBundle(bytes: Bytes, change: (bundle: Bundle) => Bundle): Bytes {
  return encodeBundle(change(decodeBundle(bytes)));
}

/** The paying transfer: the last entry of a bundle. */
export function finalTransfer(bytes: Bytes): Transfer {
  const last = decodeBundle(bytes).entries.at(-1);
  assert.ok(last?.kind === 'transfer', 'a bundle ends with its paying transfer');
  return last.signed;
}

/** The bundle with its paying transfer replaced. */
export function replaceFinalTransfer(bytes: Bytes, transfer: Transfer): Bytes {
  return mutateBundle(bytes, (bundle) => ({
    certificates: bundle.certificates,
    entries: [...bundle.entries.slice(0, -1), { kind: 'transfer', signed: transfer } satisfies HistoryEntry],
  }));
}

/**
 * The transfer with a changed body, re-encoded canonically: signed again by `resignWith`, or still
 * carrying the old signature (which then covers other bytes).
 */
export function withTransferBody(transfer: Transfer, body: TransferBody, resignWith?: Signer): Transfer {
  const bodyBytes = encodeCbor(transferBodyToCbor(body));
  const signature =
    resignWith === undefined ? transfer.signature : resignWith.sign(purposes.transfer, bodyBytes);
  return { body, bodyBytes, signature };
}

export function withSignature<T>(signed: Signed<T>, signature: Bytes): Signed<T> {
  return { body: signed.body, bodyBytes: signed.bodyBytes, signature };
}

/** The P-256 group order n (SEC 2 §2.4.2). */
export const p256Order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * The other signature of the same message under the same key: (r, n − s). ECDSA accepts both; the
 * protocol accepts only the low one (DESIGN §3), so this turns every honest signature into a high-S
 * one that must be refused.
 */
export function highS(signature: Bytes): Bytes {
  assert.equal(signature.length, signatureBytes);
  const s = BigInt('0x' + Buffer.from(signature.subarray(32)).toString('hex'));
  assert.ok(s > 0n && s <= p256Order >> 1n, 'an honest signature has a low S');
  const flipped = Buffer.from((p256Order - s).toString(16).padStart(64, '0'), 'hex');
  return concatBytes(signature.subarray(0, 32), flipped);
}

/** A copy of `bytes` with one bit flipped. */
export function flipBit(bytes: Bytes, bitIndex: number): Bytes {
  const out = Uint8Array.from(bytes);
  out[bitIndex >> 3]! ^= 1 << (bitIndex & 7);
  return out;
}

/** An encoded receipt over `body`, signed by any key. */
export function forgeReceipt(signer: Signer, body: ReceiptBody): Bytes {
  return encodeSigned(signBody(signer, purposes.receipt, body, receiptBodyToCbor));
}

// --- what the honest secure elements must do --------------------------------------------------

export interface Refusal {
  /** The ISO 7816-4 status word, e.g. 0x6982. */
  readonly sw: number;
  /** The catalogue code carried in the answer. */
  readonly code: string;
}

/** How a secure element answered `action`: its refusal, or 'accepted'. Other errors propagate. */
export function refusalOf(action: () => unknown): Refusal | 'accepted' {
  try {
    action();
  } catch (error) {
    if (error instanceof SecureElementRefused) return { sw: error.sw, code: error.code ?? '(no code)' };
    throw error;
  }
  return 'accepted';
}

/** Runs `action`, which must be refused by a secure element with exactly `expected`. */
export function assertRefused(action: () => unknown, expected: Refusal): void {
  const answer = refusalOf(action);
  const shown = (refusal: Refusal | 'accepted') =>
    refusal === 'accepted' ? refusal : `${refusal.sw.toString(16).toUpperCase()} ${refusal.code}`;
  assert.equal(shown(answer), shown(expected));
}

/** What a device shows (GET DATA) and holds (every block of its memory, byte for byte). */
export interface DeviceSnapshot {
  readonly data: PublicData;
  readonly blocks: ReadonlyMap<string, string>;
}

export function snapshotDevice(device: Device): DeviceSnapshot {
  return { data: publicData(device), blocks: mediumSnapshot(device.medium) };
}

/** Runs `action` and checks that it changed nothing on any of `devices`. */
export function assertUnchanged(devices: readonly Device[], action: () => void): void {
  const before = devices.map(snapshotDevice);
  action();
  const after = devices.map(snapshotDevice);
  devices.forEach((device, index) => {
    assert.deepEqual(after[index], before[index], `${device.name} changed`);
  });
}

/** The refusal, and the proof that it changed nothing on any of `devices`. */
export function assertRefusedWithoutChange(
  devices: readonly Device[],
  action: () => unknown,
  expected: Refusal,
): void {
  assertUnchanged(devices, () => {
    assertRefused(action, expected);
  });
}
