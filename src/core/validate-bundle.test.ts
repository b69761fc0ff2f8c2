// validateBundle and trust.ts on bundles built directly from core functions and NodeSigner keys: no
// secure element, so every rule can be broken on purpose, one at a time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesEqual, concatBytes, toHex, u32be } from './bytes.ts';
import { encodeCbor, type CborValue } from './cbor.ts';
import { certificateBodyToCbor, type Certificate, type CertificateRole } from './certificate.ts';
import { purposes } from './crypto.ts';
import { CbdcError, isCbdcError, type CoreErrorCode } from './errors.ts';
import { idKey, principalIdOf, tokenIdOf, type PrincipalId, type TokenId } from './ids.ts';
import { issuanceBodyToCbor, type Issuance, type Output } from './issuance.ts';
import { signBody, signedToCbor } from './signed.ts';
import { transferBodyToCbor, type Transfer, type TransferBody } from './transfer.ts';
import { encodeBundle, entryToCbor, type HistoryEntry } from './bundle.ts';
import {
  buildTrustAnchors,
  verifyRootCertificate,
  verifySecureElementCertificate,
  type TrustAnchors,
} from './trust.ts';
import {
  validateBundle,
  type BundleRules,
  type Expectation,
  type ValidatedBundle,
} from './validate-bundle.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import type { Signer } from './crypto.ts';

const verifier = new NodeVerifier();
const now = 1_767_225_600;
const year = 365 * 24 * 3600;

// --- a small world: root, DCP issuer, secure elements -----------------------------------------

interface Party {
  readonly signer: Signer;
  readonly id: PrincipalId;
  readonly certificate: Certificate;
}

/** A token some party holds, with its history (topological, ending with the entry that made it). */
interface Held {
  readonly id: TokenId;
  readonly value: bigint;
  readonly owner: PrincipalId;
  readonly generation: number;
  readonly history: readonly HistoryEntry[];
}

function certify(
  issuer: Signer,
  issuerId: PrincipalId,
  role: CertificateRole,
  publicKey: Uint8Array,
  validity: { validFrom?: number; validUntil?: number } = {},
): Certificate {
  const body = {
    role,
    subjectId: principalIdOf(verifier, publicKey),
    publicKey,
    issuerId,
    validFrom: validity.validFrom ?? now - 60,
    validUntil: validity.validUntil ?? now + year,
    profile: role === 'card' || role === 'phone' ? 'standard' : '',
  };
  return signBody(issuer, purposes.certificate, body, certificateBodyToCbor);
}

function entryIdOf(entry: HistoryEntry): Uint8Array {
  return verifier.sha256(entry.signed.bodyBytes);
}

class World {
  readonly root = NodeSigner.generate();
  readonly rootId = principalIdOf(verifier, this.root.publicKey);
  readonly dcpSigner = NodeSigner.generate();
  readonly dcp: Certificate = certify(this.root, this.rootId, 'dcpIssuer', this.dcpSigner.publicKey);
  readonly anchors: TrustAnchors = buildTrustAnchors(verifier, this.root.publicKey, [this.dcp], now);
  #references = 0;
  #counters = new Map<string, number>();
  #challenges = 0;

  party(role: 'card' | 'phone' = 'phone', validity: { validUntil?: number } = {}): Party {
    const signer = NodeSigner.generate();
    const certificate = certify(this.dcpSigner, this.dcp.body.subjectId, role, signer.publicKey, validity);
    return { signer, id: certificate.body.subjectId, certificate };
  }

  /** One issuance with these outputs, signed by `signer` (the DCP unless a test forges one). */
  issue(
    outputs: readonly Output[],
    signer: Signer = this.dcpSigner,
    dcpId = this.dcp.body.subjectId,
  ): Held[] {
    this.#references++;
    const signed: Issuance = signBody(
      signer,
      purposes.issuance,
      {
        dcpId,
        kind: 'load',
        requestReference: concatBytes(new Uint8Array(12), u32be(this.#references)),
        outputs,
        retiredTokenIds: [],
        time: now,
      },
      issuanceBodyToCbor,
    );
    const entry: HistoryEntry = { kind: 'issuance', signed };
    const id = entryIdOf(entry);
    return outputs.map((output, index) => ({
      id: tokenIdOf(verifier, id, index),
      value: output.value,
      owner: output.owner,
      generation: 0,
      history: [entry],
    }));
  }

  /** A fresh 16-byte challenge. */
  challenge(): Uint8Array {
    this.#challenges++;
    return concatBytes(new Uint8Array(12).fill(0xcc), u32be(this.#challenges));
  }

  /**
   * The transfer `payer` signs spending `inputs`: the payment to `payee`, and change back to the
   * payer when the inputs hold more. `edit` breaks the body on purpose.
   */
  transfer(
    payer: Party,
    payee: PrincipalId,
    amount: bigint,
    inputs: readonly Held[],
    edit: (body: TransferBody) => TransferBody = (body) => body,
    signer: Signer = payer.signer,
  ): {
    entry: HistoryEntry & { kind: 'transfer' };
    payment: Held;
    change: Held | undefined;
    history: HistoryEntry[];
  } {
    const total = inputs.reduce((sum, token) => sum + token.value, 0n);
    const outputs: Output[] = [{ value: amount, owner: payee }];
    if (total > amount) outputs.push({ value: total - amount, owner: payer.id });
    const counter = this.#counters.get(idKey(payer.id)) ?? 0;
    this.#counters.set(idKey(payer.id), counter + 1);
    const body = edit({
      payerId: payer.id,
      payerCounter: counter,
      inputs: inputs.map((token) => token.id),
      outputs,
      payeeId: payee,
      challenge: this.challenge(),
      time: now,
    });
    const signed: Transfer = signBody(signer, purposes.transfer, body, transferBodyToCbor);
    const entry = { kind: 'transfer' as const, signed };
    const history = [...mergeHistories(inputs), entry];
    const id = entryIdOf(entry);
    const generation = 1 + Math.max(...inputs.map((token) => token.generation));
    const produced = body.outputs.map((output, index): Held => ({
      id: tokenIdOf(verifier, id, index),
      value: output.value,
      owner: output.owner,
      generation,
      history,
    }));
    return { entry, payment: produced[0]!, change: produced[1], history };
  }
}

/** The union of the tokens' histories, each entry once, in first-seen order (topological). */
function mergeHistories(tokens: readonly Held[]): HistoryEntry[] {
  const seen = new Set<string>();
  const merged: HistoryEntry[] = [];
  for (const token of tokens) {
    for (const entry of token.history) {
      const key = idKey(entryIdOf(entry));
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(entry);
    }
  }
  return merged;
}

/** The certificates of every transfer signer in `entries`, each once. */
function signerCertificates(entries: readonly HistoryEntry[], parties: readonly Party[]): Certificate[] {
  const byId = new Map(parties.map((party) => [idKey(party.id), party.certificate]));
  const out = new Map<string, Certificate>();
  for (const entry of entries) {
    if (entry.kind !== 'transfer') continue;
    const key = idKey(entry.signed.body.payerId);
    const certificate = byId.get(key);
    if (certificate !== undefined) out.set(key, certificate);
  }
  return [...out.values()];
}

function bundleBytes(entries: readonly HistoryEntry[], certificates: readonly Certificate[]): Uint8Array {
  return encodeBundle({ certificates, entries });
}

function rules(world: World, overrides: Partial<BundleRules> = {}): BundleRules {
  return {
    verifier,
    anchors: world.anchors,
    isDenied: () => false,
    trustedTime: now,
    generationMax: 64,
    historyBytesMax: 1 << 20,
    inputsMax: 32,
    ...overrides,
  };
}

function expecting(payeeId: PrincipalId, amount: bigint): () => Expectation {
  return () => ({ payeeId, amount });
}

function refusal(run: () => unknown): CbdcError {
  try {
    run();
  } catch (error) {
    if (isCbdcError(error)) return error;
    assert.fail(`expected a CbdcError, got ${String(error)}`);
  }
  assert.fail('expected a CbdcError, but the bundle was accepted');
}

function assertRefused(run: () => unknown, code: CoreErrorCode, detail?: string): void {
  const error = refusal(run);
  assert.equal(error.code, code, error.message);
  if (detail !== undefined) assert.equal(error.detail, detail);
}

// --- the accepted case ------------------------------------------------------------------------

/** alice (loaded 1000) pays bob 300 (change 700); bob pays carol 250 (change 50). */
function twoHops(world: World) {
  const [alice, bob, carol] = [world.party('card'), world.party(), world.party()];
  const [loaded] = world.issue([{ value: 1_000n, owner: alice.id }]);
  const first = world.transfer(alice, bob.id, 300n, [loaded!]);
  const second = world.transfer(bob, carol.id, 250n, [first.payment]);
  const parties = [alice, bob, carol];
  const bytes = bundleBytes(second.history, signerCertificates(second.history, parties));
  return { alice, bob, carol, loaded: loaded!, first, second, bytes, parties };
}

void test('an accepted bundle: exact payment token, generation, transfer id and entries', () => {
  const world = new World();
  const { alice, bob, carol, loaded, first, second, bytes } = twoHops(world);
  let seen: Uint8Array | undefined;
  const validated = validateBundle(rules(world), bytes, (transfer) => {
    seen = transfer.id;
    assert.equal(transfer.kind, 'transfer');
    return { payeeId: carol.id, amount: 250n };
  });
  const transferId = entryIdOf(second.entry);
  assert.equal(toHex(seen!), toHex(transferId));
  assert.equal(toHex(validated.transferId), toHex(transferId));
  assert.equal(validated.payment.value, 250n);
  assert.equal(validated.payment.generation, 2);
  assert.equal(toHex(validated.payment.owner), toHex(carol.id));
  assert.equal(toHex(validated.payment.id), toHex(tokenIdOf(verifier, transferId, 0)));
  assert.equal(toHex(validated.payerCertificate.body.subjectId), toHex(bob.id));
  assert.deepEqual(
    validated.entries.map((entry) => [entry.kind, toHex(entry.id)]),
    [
      ['issuance', toHex(entryIdOf(loaded.history[0]!))],
      ['transfer', toHex(entryIdOf(first.entry))],
      ['transfer', toHex(transferId)],
    ],
  );
  assert.deepEqual(
    validated.entries.map((entry) => entry.outputIds.map(toHex)),
    [
      [toHex(loaded.id)],
      [toHex(first.payment.id), toHex(first.change!.id)],
      [toHex(second.payment.id), toHex(second.change!.id)],
    ],
  );
  assert.deepEqual(
    validated.certificates.map((c) => toHex(c.body.subjectId)).sort(),
    [toHex(alice.id), toHex(bob.id)].sort(),
  );
  assert.equal(validated.transfer.body.outputs[1]!.value, 50n);
  assert.equal(first.change!.value, 700n);
});

void test('a payment of exactly the input value has no change output', () => {
  const world = new World();
  const [alice, bob] = [world.party(), world.party()];
  const [loaded] = world.issue([{ value: 500n, owner: alice.id }]);
  const paid = world.transfer(alice, bob.id, 500n, [loaded!]);
  assert.equal(paid.entry.signed.body.outputs.length, 1);
  const validated = validateBundle(
    rules(world),
    bundleBytes(paid.history, [alice.certificate]),
    expecting(bob.id, 500n),
  );
  assert.equal(validated.payment.value, 500n);
  assert.equal(validated.payment.generation, 1);
});

// --- conservation over random chains ----------------------------------------------------------

interface Step {
  readonly payer: number;
  readonly payee: number;
  /** Fraction (per mille) of the payer's spendable value to pay, at least 1. */
  readonly share: number;
  /** Chooses how many of the payer's tokens to offer as inputs (largest first until covered). */
  readonly seed: number;
}

void test('random chains of payments with change: every token exact, generations exact, value conserved', () => {
  const stepArbitrary: fc.Arbitrary<Step> = fc.record({
    payer: fc.nat({ max: 3 }),
    payee: fc.nat({ max: 3 }),
    share: fc.integer({ min: 1, max: 1000 }),
    seed: fc.nat(),
  });
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 4 }),
      fc.array(stepArbitrary, { minLength: 1, maxLength: 10 }),
      (loads, steps) => {
        const world = new World();
        const parties = [world.party('card'), world.party(), world.party(), world.party('card')];
        const wallets = parties.map((): Held[] => []);
        loads.forEach((value, index) => {
          const owner = index % parties.length;
          wallets[owner]!.push(...world.issue([{ value, owner: parties[owner]!.id }]));
        });
        const total = loads.reduce((sum, value) => sum + value, 0n);
        for (const step of steps) {
          const payerIndex = step.payer;
          const payeeIndex = step.payee === step.payer ? (step.payee + 1) % parties.length : step.payee;
          const wallet = wallets[payerIndex]!;
          if (wallet.length === 0) continue;
          // Inputs: a random non-empty prefix of the wallet in a seeded order.
          const ordered = [...wallet].sort((a, b) => (idKey(a.id) < idKey(b.id) ? -1 : 1));
          const count = 1 + (step.seed % Math.min(ordered.length, 4));
          const inputs = ordered.slice(0, count);
          const available = inputs.reduce((sum, token) => sum + token.value, 0n);
          const amount = (available * BigInt(step.share)) / 1000n || 1n;
          const payer = parties[payerIndex]!;
          const payee = parties[payeeIndex]!;
          const paid = world.transfer(payer, payee.id, amount, inputs);
          const validated: ValidatedBundle = validateBundle(
            rules(world),
            bundleBytes(paid.history, signerCertificates(paid.history, parties)),
            expecting(payee.id, amount),
          );
          const generation = 1 + Math.max(...inputs.map((token) => token.generation));
          assert.equal(validated.payment.value, amount);
          assert.equal(validated.payment.generation, generation);
          assert.equal(toHex(validated.payment.id), toHex(paid.payment.id));
          assert.equal(toHex(validated.payment.owner), toHex(payee.id));
          // Conservation in the paying transfer: payment + change = inputs, each output positive.
          const outputs = validated.transfer.body.outputs;
          assert.equal(
            outputs.reduce((sum, output) => sum + output.value, 0n),
            available,
          );
          assert.equal(outputs.length, available > amount ? 2 : 1);
          if (paid.change !== undefined) {
            assert.equal(paid.change.value, available - amount);
            assert.equal(paid.change.generation, generation);
          }
          // Every entry the receiver would store is one of the history, in order, ending with the payment.
          assert.deepEqual(
            validated.entries.map((entry) => toHex(entry.id)),
            paid.history.map((e) => toHex(entryIdOf(e))),
          );
          const spent = new Set(inputs.map((token) => idKey(token.id)));
          wallets[payerIndex] = wallet.filter((token) => !spent.has(idKey(token.id)));
          if (paid.change !== undefined) wallets[payerIndex].push(paid.change);
          wallets[payeeIndex]!.push(paid.payment);
          const held = wallets.flat().reduce((sum, token) => sum + token.value, 0n);
          assert.equal(held, total, 'value is neither created nor destroyed');
        }
      },
    ),
    { numRuns: 30 },
  );
});

// --- any single-byte change of a valid bundle is refused --------------------------------------

// Every byte of a bundle is either under a signature (certificate, issuance and transfer bodies)
// or checked structurally: a signature itself (ECDSA verification; a one-byte change cannot yield
// another valid low-S signature), the bundle version (must be 1), the entry kind tags (0/1, and
// the arities of issuance and transfer differ), and CBOR heads (lengths and types, decoded
// strictly and canonically). No byte is free, so every mutation must be refused.
void test('every single-byte change of a valid bundle is refused with a CbdcError', () => {
  const world = new World();
  const { carol, bytes } = twoHops(world);
  const validate = (mutated: Uint8Array): ValidatedBundle =>
    validateBundle(rules(world), mutated, expecting(carol.id, 250n));
  validate(bytes); // the original is accepted
  for (let index = 0; index < bytes.length; index++) {
    for (const flip of [0x01, 0x80]) {
      const mutated = bytes.slice();
      mutated[index]! ^= flip;
      refusal(() => validate(mutated));
    }
  }
  fc.assert(
    fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
      const mutated = bytes.slice();
      mutated[index]! ^= xor;
      refusal(() => validate(mutated));
    }),
    { numRuns: 1000 },
  );
});

// --- each rule, broken once -------------------------------------------------------------------

void test('size, shape and order: exact codes', () => {
  const world = new World();
  const { carol, first, second, bytes, parties } = twoHops(world);
  const expect = expecting(carol.id, 250n);
  assertRefused(
    () => validateBundle(rules(world, { historyBytesMax: bytes.length - 1 }), bytes, expect),
    'historyBytesLimitExceeded',
    `${bytes.length} bytes > ${bytes.length - 1}`,
  );
  validateBundle(rules(world, { historyBytesMax: bytes.length }), bytes, expect);
  assertRefused(
    () => validateBundle(rules(world), bundleBytes([], []), expect),
    'historyIncomplete',
    'a bundle must end with the paying transfer',
  );
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(second.history.slice(0, 1), []), expect),
    'historyIncomplete',
    'a bundle must end with the paying transfer',
  );
  const certificates = signerCertificates(second.history, parties);
  // Missing the issuance: the first transfer spends a token nobody produced.
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(second.history.slice(1), certificates), expect),
    'historyIncomplete',
    'entry 0 spends a token no earlier entry produced',
  );
  // Out of order.
  const [issuance, hop1, hop2] = second.history as [HistoryEntry, HistoryEntry, HistoryEntry];
  assertRefused(
    () => validateBundle(rules(world), bundleBytes([hop1, issuance, hop2], certificates), expect),
    'historyIncomplete',
  );
  // Repeated entry and repeated certificate.
  assertRefused(
    () => validateBundle(rules(world), bundleBytes([issuance, issuance, hop1, hop2], certificates), expect),
    'historyNotOrdered',
    'entry repeated',
  );
  assertRefused(
    () =>
      validateBundle(rules(world), bundleBytes(second.history, [...certificates, certificates[0]!]), expect),
    'historyNotOrdered',
    'certificate repeated',
  );
  // An extra issuance that is no ancestor of the payment.
  const [stray] = world.issue([{ value: 5n, owner: carol.id }]);
  assertRefused(
    () =>
      validateBundle(
        rules(world),
        bundleBytes([stray!.history[0]!, ...second.history], certificates),
        expect,
      ),
    'historyNotOrdered',
    'entry 0 is not an ancestor of the payment',
  );
  assert.ok(first.change !== undefined);
});

void test('the expectation is consulted before any signature is verified', () => {
  const world = new World();
  const { bytes } = twoHops(world);
  const broken = bytes.slice();
  broken[broken.length - 1]! ^= 1; // the paying transfer's signature
  assertRefused(
    () =>
      validateBundle(rules(world), broken, () => {
        throw new CbdcError('challengeUnknown', {
          number: 0x0508,
          kind: 'securityNotSatisfied',
          meaning: '',
        });
      }),
    'challengeUnknown',
  );
  assertRefused(
    () => validateBundle(rules(world), broken, expecting(new Uint8Array(16), 1n)),
    'signatureInvalid',
  );
});

void test('certificates in a bundle: chain, role, subject; expiry only for the direct payer', () => {
  const world = new World();
  const { carol, second, parties, alice, bob } = twoHops(world);
  const expect = expecting(carol.id, 250n);
  const history = second.history;
  const other = new World(); // another root and DCP: not trusted here
  const foreign = certify(other.dcpSigner, other.dcp.body.subjectId, 'phone', bob.signer.publicKey);
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(history, [alice.certificate, foreign]), expect),
    'certificateChainInvalid',
    'issuer is not a trusted DCP issuer',
  );
  const wrongRole = certify(world.dcpSigner, world.dcp.body.subjectId, 'mds', bob.signer.publicKey);
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(history, [alice.certificate, wrongRole]), expect),
    'certificateWrongRole',
    'expected card or phone, got mds',
  );
  // Signed by the DCP's key but claiming to be issued by another: the signature check names it.
  const forged = signBody(
    world.dcpSigner,
    purposes.certificate,
    { ...bob.certificate.body, issuerId: other.dcp.body.subjectId },
    certificateBodyToCbor,
  );
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(history, [alice.certificate, forged]), expect),
    'certificateChainInvalid',
  );
  const mismatched = signBody(
    world.dcpSigner,
    purposes.certificate,
    { ...bob.certificate.body, subjectId: carol.id },
    certificateBodyToCbor,
  );
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(history, [alice.certificate, mismatched]), expect),
    'certificateIdMismatch',
  );
  assertRefused(
    () => validateBundle(rules(world), bundleBytes(history, [alice.certificate]), expect),
    'certificateChainInvalid',
    'no certificate for a payer in the history',
  );
  // An unused but valid certificate is refused (it would be stored for nothing), after its own checks.
  assertRefused(
    () =>
      validateBundle(
        rules(world),
        bundleBytes(history, [...signerCertificates(history, parties), carol.certificate]),
        expect,
      ),
    'bundleCertificateUnused',
  );

  // Expiry: an ancestor payer whose certificate expired still passed value on validly...
  const shortLived = world.party('card', { validUntil: now + 10 });
  const payee = world.party();
  const next = world.party();
  const [loaded] = world.issue([{ value: 100n, owner: shortLived.id }]);
  const hop1 = world.transfer(shortLived, payee.id, 100n, [loaded!]);
  const hop2 = world.transfer(payee, next.id, 60n, [hop1.payment]);
  const later = rules(world, { trustedTime: now + 11 });
  validateBundle(
    later,
    bundleBytes(hop2.history, [shortLived.certificate, payee.certificate]),
    expecting(next.id, 60n),
  );
  // ...but the direct payer's certificate must be valid at the receiver's trusted time.
  assertRefused(
    () =>
      validateBundle(later, bundleBytes(hop1.history, [shortLived.certificate]), expecting(payee.id, 100n)),
    'certificateExpired',
    `valid until ${now + 10}, now ${now + 11}`,
  );
  validateBundle(
    rules(world, { trustedTime: now + 10 }),
    bundleBytes(hop1.history, [shortLived.certificate]),
    expecting(payee.id, 100n),
  );
});

void test('issuances must come from a trusted DCP with a valid signature', () => {
  const world = new World();
  const [alice, bob] = [world.party(), world.party()];
  const rogue = NodeSigner.generate();
  const rogueId = principalIdOf(verifier, rogue.publicKey);
  const [fake] = world.issue([{ value: 100n, owner: alice.id }], rogue, rogueId);
  const paid = world.transfer(alice, bob.id, 100n, [fake!]);
  assertRefused(
    () =>
      validateBundle(rules(world), bundleBytes(paid.history, [alice.certificate]), expecting(bob.id, 100n)),
    'issuanceNotFromDcp',
    'issuer is not a trusted DCP',
  );
  const [forged] = world.issue([{ value: 100n, owner: alice.id }], rogue);
  const paidForged = world.transfer(alice, bob.id, 100n, [forged!]);
  assertRefused(
    () =>
      validateBundle(
        rules(world),
        bundleBytes(paidForged.history, [alice.certificate]),
        expecting(bob.id, 100n),
      ),
    'issuanceNotFromDcp',
    'issuance signature does not verify',
  );
});

void test('transfers in the history: signature, ownership, duplicates, double spends, conservation, limits', () => {
  const world = new World();
  const [alice, bob, carol, dave] = [world.party(), world.party(), world.party(), world.party()];
  const parties = [alice, bob, carol, dave];
  const [a1, a2] = world.issue([
    { value: 100n, owner: alice.id },
    { value: 50n, owner: alice.id },
  ]);
  const check = (paid: { history: HistoryEntry[] }, payee: PrincipalId, amount: bigint): ValidatedBundle =>
    validateBundle(
      rules(world),
      bundleBytes(paid.history, signerCertificates(paid.history, parties)),
      expecting(payee, amount),
    );

  // Signed by someone else's key.
  assertRefused(
    () => check(world.transfer(alice, bob.id, 10n, [a1!], undefined, bob.signer), bob.id, 10n),
    'signatureInvalid',
    'transfer signature',
  );
  // Signed under another purpose tag (domain separation): a receipt signature is no transfer signature.
  const retagged = world.transfer(alice, bob.id, 10n, [a1!]);
  const asReceipt: HistoryEntry = {
    kind: 'transfer',
    signed: {
      ...retagged.entry.signed,
      signature: alice.signer.sign(purposes.receipt, retagged.entry.signed.bodyBytes),
    },
  };
  assertRefused(() => check({ history: [...a1!.history, asReceipt] }, bob.id, 10n), 'signatureInvalid');
  // Spending someone else's token.
  assertRefused(
    () => check(world.transfer(bob, carol.id, 10n, [a1!]), carol.id, 10n),
    'tokenNotOwned',
    'input not owned by the payer',
  );
  // The same input twice.
  assertRefused(
    () =>
      check(
        world.transfer(alice, bob.id, 100n, [a1!], (body) => ({
          ...body,
          inputs: [a1!.id, a1!.id],
          outputs: [
            { value: 100n, owner: bob.id },
            { value: 100n, owner: alice.id },
          ],
        })),
        bob.id,
        100n,
      ),
    'duplicateInput',
  );
  // Creating value.
  assertRefused(
    () =>
      check(
        world.transfer(alice, bob.id, 10n, [a1!], (body) => ({
          ...body,
          outputs: [
            { value: 10n, owner: bob.id },
            { value: 91n, owner: alice.id },
          ],
        })),
        bob.id,
        10n,
      ),
    'transferNotConserving',
    'inputs 100, outputs 101',
  );
  // Destroying value.
  assertRefused(
    () =>
      check(
        world.transfer(alice, bob.id, 10n, [a1!], (body) => ({
          ...body,
          outputs: [{ value: 10n, owner: bob.id }],
        })),
        bob.id,
        10n,
      ),
    'transferNotConserving',
    'inputs 100, outputs 10',
  );
  // A double spend inside the history: alice spends a1 twice to bob, bob pays both on to carol.
  const spend1 = world.transfer(alice, bob.id, 100n, [a1!]);
  const spend2 = world.transfer(alice, bob.id, 100n, [a1!]);
  const onward = world.transfer(bob, carol.id, 200n, [spend1.payment, spend2.payment]);
  assertRefused(() => check(onward, carol.id, 200n), 'historyDoubleSpend');
  // Inputs limit.
  const two = world.transfer(alice, bob.id, 150n, [a1!, a2!]);
  assertRefused(
    () =>
      validateBundle(
        rules(world, { inputsMax: 1 }),
        bundleBytes(two.history, [alice.certificate]),
        expecting(bob.id, 150n),
      ),
    'inputsLimitExceeded',
    '2 inputs',
  );
  validateBundle(
    rules(world, { inputsMax: 2 }),
    bundleBytes(two.history, [alice.certificate]),
    expecting(bob.id, 150n),
  );
});

void test('generation limit: the hop that would exceed generationMax is refused', () => {
  const world = new World();
  const parties = [world.party(), world.party()];
  let [token] = world.issue([{ value: 1_000n, owner: parties[0]!.id }]);
  const generationMax = 3;
  for (let hop = 1; hop <= generationMax + 1; hop++) {
    const payer = parties[(hop + 1) % 2]!;
    const payee = parties[hop % 2]!;
    const paid = world.transfer(payer, payee.id, 1_000n, [token!]);
    const bytes = bundleBytes(paid.history, signerCertificates(paid.history, parties));
    const validate = (): ValidatedBundle =>
      validateBundle(rules(world, { generationMax }), bytes, expecting(payee.id, 1_000n));
    if (hop <= generationMax) assert.equal(validate().payment.generation, hop);
    else assertRefused(validate, 'generationLimitExceeded', `generation ${hop} > ${generationMax}`);
    token = paid.payment;
  }
});

void test('the paying transfer: deny list, pay to self, payee, amount, change owner', () => {
  const world = new World();
  const [alice, bob, carol] = [world.party(), world.party(), world.party()];
  const [loaded] = world.issue([{ value: 100n, owner: alice.id }]);
  const bundle = (paid: { history: HistoryEntry[] }): Uint8Array =>
    bundleBytes(paid.history, [alice.certificate]);
  const paid = world.transfer(alice, bob.id, 30n, [loaded!]);
  assertRefused(
    () =>
      validateBundle(
        rules(world, { isDenied: (id) => bytesEqual(id, alice.id) }),
        bundle(paid),
        expecting(bob.id, 30n),
      ),
    'deniedSecureElement',
    'payer is on the deny list',
  );
  assertRefused(() => validateBundle(rules(world), bundle(paid), expecting(carol.id, 30n)), 'wrongPayee');
  assertRefused(
    () => validateBundle(rules(world), bundle(paid), expecting(bob.id, 31n)),
    'wrongAmount',
    'paid 30, requested 31',
  );
  const toSelf = world.transfer(alice, alice.id, 30n, [loaded!]);
  assertRefused(() => validateBundle(rules(world), bundle(toSelf), expecting(alice.id, 30n)), 'payToSelf');
  const misdirected = world.transfer(alice, bob.id, 30n, [loaded!], (body) => ({
    ...body,
    outputs: [{ value: 30n, owner: carol.id }, body.outputs[1]!],
  }));
  assertRefused(
    () => validateBundle(rules(world), bundle(misdirected), expecting(bob.id, 30n)),
    'wrongPayee',
    'output 0 must pay the payee',
  );
  const strayChange = world.transfer(alice, bob.id, 30n, [loaded!], (body) => ({
    ...body,
    outputs: [body.outputs[0]!, { value: 70n, owner: carol.id }],
  }));
  assertRefused(
    () => validateBundle(rules(world), bundle(strayChange), expecting(bob.id, 30n)),
    'tokenNotOwned',
    'output 1 must be change to the payer',
  );
  // A denied ancestor does not taint value it passed on before it was denied.
  const onward = world.transfer(bob, carol.id, 30n, [paid.payment]);
  validateBundle(
    rules(world, { isDenied: (id) => bytesEqual(id, alice.id) }),
    bundleBytes(onward.history, [alice.certificate, bob.certificate]),
    expecting(carol.id, 30n),
  );
});

void test('decoding faults surface with their own codes', () => {
  const world = new World();
  const { carol, bytes } = twoHops(world);
  const expect = expecting(carol.id, 250n);
  assertRefused(
    () => validateBundle(rules(world), bytes.subarray(0, bytes.length - 1), expect),
    'cborMalformed',
  );
  assertRefused(() => validateBundle(rules(world), Uint8Array.of(...bytes, 0), expect), 'cborTrailingBytes');
  assertRefused(
    () => validateBundle(rules(world), encodeCbor([1, [], []] as CborValue), expect),
    'historyIncomplete',
  );
  assertRefused(() => validateBundle(rules(world), encodeCbor([1, [], [[0, 0]]]), expect), 'fieldInvalid');
  // Kind tag 1 on an issuance envelope: read as a transfer, refused on its arity.
  const [loaded] = world.issue([{ value: 1n, owner: carol.id }]);
  const retagged = encodeCbor([1, [], [[1, signedToCbor(loaded!.history[0]!.signed)]]]);
  assertRefused(
    () => validateBundle(rules(world), retagged, expect),
    'fieldInvalid',
    'transfer must have 8 fields, has 7',
  );
  assert.ok(entryToCbor(loaded!.history[0]!));
});

// --- trust.ts ---------------------------------------------------------------------------------

void test('verifyRootCertificate: role, issuer, signature, subject, validity', () => {
  const world = new World();
  const { root, rootId } = world;
  const key = NodeSigner.generate().publicKey;
  const good = certify(root, rootId, 'directory', key);
  assert.equal(verifyRootCertificate(verifier, root.publicKey, good, 'directory', now), good);
  assertRefused(
    () => verifyRootCertificate(verifier, root.publicKey, good, 'mds', now),
    'certificateWrongRole',
    'expected mds, got directory',
  );
  const other = NodeSigner.generate();
  assertRefused(
    () =>
      verifyRootCertificate(
        verifier,
        root.publicKey,
        certify(other, principalIdOf(verifier, other.publicKey), 'directory', key),
        'directory',
        now,
      ),
    'certificateChainInvalid',
    'directory certificate not issued by the root',
  );
  assertRefused(
    () =>
      verifyRootCertificate(
        verifier,
        root.publicKey,
        certify(other, rootId, 'directory', key),
        'directory',
        now,
      ),
    'certificateChainInvalid',
    'directory certificate signature',
  );
  const wrongSubject = signBody(
    root,
    purposes.certificate,
    { ...good.body, subjectId: new Uint8Array(16) },
    certificateBodyToCbor,
  );
  assertRefused(
    () => verifyRootCertificate(verifier, root.publicKey, wrongSubject, 'directory', now),
    'certificateIdMismatch',
  );
  const empty = certify(root, rootId, 'directory', key, { validFrom: now, validUntil: now - 1 });
  assertRefused(
    () => verifyRootCertificate(verifier, root.publicKey, empty, 'directory', now - 10),
    'certificateExpired',
    'validity period is empty',
  );
  const expiring = certify(root, rootId, 'directory', key, { validUntil: now });
  verifyRootCertificate(verifier, root.publicKey, expiring, 'directory', now);
  assertRefused(
    () => verifyRootCertificate(verifier, root.publicKey, expiring, 'directory', now + 1),
    'certificateExpired',
    `valid until ${now}, now ${now + 1}`,
  );
  // Not yet valid is not judged: a card's clock is only the newest signed time it has seen.
  const future = certify(root, rootId, 'directory', key, { validFrom: now + 1000, validUntil: now + 2000 });
  verifyRootCertificate(verifier, root.publicKey, future, 'directory', now);
});

void test('buildTrustAnchors keeps verified DCP issuers by subject id and refuses anything else', () => {
  const world = new World();
  const anchors = buildTrustAnchors(verifier, world.root.publicKey, [world.dcp], now);
  assert.equal(toHex(anchors.rootId), toHex(world.rootId));
  assert.deepEqual([...anchors.dcpIssuers.keys()], [idKey(world.dcp.body.subjectId)]);
  const directory = certify(world.root, world.rootId, 'directory', NodeSigner.generate().publicKey);
  assertRefused(
    () => buildTrustAnchors(verifier, world.root.publicKey, [world.dcp, directory], now),
    'certificateWrongRole',
  );
  assertRefused(
    () => buildTrustAnchors(verifier, world.root.publicKey, [world.dcp], world.dcp.body.validUntil + 1),
    'certificateExpired',
  );
  assert.equal(buildTrustAnchors(verifier, world.root.publicKey, [], now).dcpIssuers.size, 0);
});

void test('verifySecureElementCertificate: card or phone, from a trusted DCP, expiry only when a time is given', () => {
  const world = new World();
  const card = world.party('card', { validUntil: now + 5 });
  verifySecureElementCertificate(verifier, world.anchors, card.certificate, now + 5);
  verifySecureElementCertificate(verifier, world.anchors, card.certificate, undefined);
  assertRefused(() => {
    verifySecureElementCertificate(verifier, world.anchors, card.certificate, now + 6);
  }, 'certificateExpired');
  assertRefused(
    () => {
      verifySecureElementCertificate(verifier, world.anchors, world.dcp, now);
    },
    'certificateWrongRole',
    'expected card or phone, got dcpIssuer',
  );
  const stranger = new World().party();
  assertRefused(
    () => {
      verifySecureElementCertificate(verifier, world.anchors, stranger.certificate, now);
    },
    'certificateChainInvalid',
    'issuer is not a trusted DCP issuer',
  );
  const tampered = {
    ...card.certificate,
    signature: card.certificate.signature.map((byte, i) => (i === 5 ? byte ^ 1 : byte)),
  };
  assertRefused(
    () => {
      verifySecureElementCertificate(verifier, world.anchors, tampered, now);
    },
    'certificateChainInvalid',
    'secure element certificate signature',
  );
});
