import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { amountMax } from './amount.ts';
import { bytesEqual, concatBytes, toHex, utf8 } from './bytes.ts';
import { decodeCbor, encodeCbor, FieldReader, readBytesItem, type CborValue } from './cbor.ts';
import {
  certificateBodyToCbor,
  certificateFromCbor,
  certificateRoles,
  profileLengthMax,
  type CertificateBody,
  type CertificateRole,
} from './certificate.ts';
import { claimBodyToCbor, claimFromCbor, claimTokensMax, type ClaimBody } from './claim.ts';
import { purposes, type Purpose } from './crypto.ts';
import { denyListEntriesMax, denyListToCbor, signedDenyListFromCbor, type DenyList } from './deny-list.ts';
import { CbdcError, isCbdcError, type CoreErrorCode } from './errors.ts';
import {
  issuanceBodyToCbor,
  issuanceFromCbor,
  issuanceKinds,
  issuanceOutputsMax,
  retiredTokensMax,
  type IssuanceBody,
  type IssuanceKind,
  type Output,
} from './issuance.ts';
import {
  challengesCeiling,
  defaultLimits,
  generationCeiling,
  historyBytesCeiling,
  limitsToCbor,
  offlinePaymentsCeiling,
  signedLimitsFromCbor,
  type Limits,
} from './limits.ts';
import { decodePaymentRequest, decodeReceipt, encodePaymentRequest, receiptBodyToCbor } from './payment.ts';
import { decodeSigned, encodeSigned, signBody, signedToCbor, type Signed } from './signed.ts';
import { transferBodyToCbor, transferFromCbor, transferInputsMax, type TransferBody } from './transfer.ts';
import {
  bundleCertificatesMax,
  bundleEntriesMax,
  decodeBundle,
  decodeEntry,
  encodeBundle,
  encodeEntry,
  type Bundle,
  type HistoryEntry,
} from './bundle.ts';
import { NodeSigner, NodeVerifier, verifyRawP256 } from '../crypto/node-crypto.ts';

const verifier = new NodeVerifier();
const signer = NodeSigner.generate();

// --- helpers ----------------------------------------------------------------------------------

/** Deep plain form for comparisons: bytes (Buffer or Uint8Array alike) as hex, integers as bigint. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'number' || typeof value === 'bigint') return BigInt(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  return value;
}

function thrown(run: () => unknown): CbdcError {
  try {
    run();
  } catch (error) {
    if (isCbdcError(error)) return error;
    assert.fail(`expected a CbdcError, got ${String(error)}`);
  }
  assert.fail('expected a CbdcError, but the call succeeded');
}

function assertRefused(run: () => unknown, code: CoreErrorCode, detail?: string): void {
  const error = thrown(run);
  assert.equal(error.code, code, error.message);
  if (detail !== undefined) {
    assert.equal(error.detail, detail);
    assert.equal(error.message, `${code}: ${detail}`);
  }
}

const bytesOf = (length: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: length, maxLength: length });
const principalId = bytesOf(16);
const entryId = bytesOf(32);
const uint = fc.oneof(fc.nat(), fc.maxSafeNat());
const amount = fc.oneof(fc.bigInt({ min: 1n, max: amountMax }), fc.constantFrom(1n, amountMax));
const output: fc.Arbitrary<Output> = fc.record({ value: amount, owner: principalId });

/** Signs `body`, encodes the envelope, decodes it back: the body, its bytes and the signature survive. */
function assertSignedRoundTrip<T>(
  purpose: Purpose,
  structure: string,
  body: T,
  toCbor: (body: T) => CborValue,
  fromCbor: (value: CborValue) => Signed<T>,
): void {
  const signed = signBody(signer, purpose, body, toCbor);
  const bytes = encodeSigned(signed);
  const decoded = fromCbor(decodeCbor(bytes));
  assert.deepEqual(plain(decoded.body), plain(body));
  assert.ok(bytesEqual(decoded.bodyBytes, signed.bodyBytes));
  assert.ok(bytesEqual(decoded.signature, signed.signature));
  assert.ok(bytesEqual(encodeSigned(decoded), bytes), `${structure} re-encodes to other bytes`);
  // The signing input is purpose ‖ 0x00 ‖ body bytes (DESIGN §3).
  const input = concatBytes(utf8(purpose), Uint8Array.of(0), decoded.bodyBytes);
  assert.ok(verifyRawP256(signer.publicKey, input, decoded.signature));
  assert.ok(verifier.verify(signer.publicKey, purpose, decoded.bodyBytes, decoded.signature));
}

const runs = { numRuns: 60 };

// --- round trips ------------------------------------------------------------------------------

const certificateBody: fc.Arbitrary<CertificateBody> = fc.record({
  role: fc.constantFrom(...(Object.keys(certificateRoles) as CertificateRole[])),
  subjectId: principalId,
  publicKey: bytesOf(65),
  issuerId: principalId,
  validFrom: uint,
  validUntil: uint,
  profile: fc.string({ maxLength: profileLengthMax }),
});

void test('certificate round-trips through [body, signature]', () => {
  fc.assert(
    fc.property(certificateBody, (body) => {
      assertSignedRoundTrip(
        purposes.certificate,
        'certificate',
        body,
        certificateBodyToCbor,
        certificateFromCbor,
      );
    }),
    runs,
  );
});

const issuanceBody: fc.Arbitrary<IssuanceBody> = fc.record({
  dcpId: principalId,
  kind: fc.constantFrom(...(Object.keys(issuanceKinds) as IssuanceKind[])),
  requestReference: bytesOf(16),
  outputs: fc.array(output, { maxLength: issuanceOutputsMax }),
  retiredTokenIds: fc.array(entryId, { maxLength: 20 }),
  time: uint,
});

void test('issuance round-trips', () => {
  fc.assert(
    fc.property(issuanceBody, (body) => {
      assertSignedRoundTrip(purposes.issuance, 'issuance', body, issuanceBodyToCbor, issuanceFromCbor);
    }),
    runs,
  );
});

const transferBody: fc.Arbitrary<TransferBody> = fc.record({
  payerId: principalId,
  payerCounter: uint,
  inputs: fc.array(entryId, { minLength: 1, maxLength: transferInputsMax }),
  outputs: fc.array(output, { minLength: 1, maxLength: 2 }),
  payeeId: principalId,
  challenge: bytesOf(16),
  time: uint,
});

void test('transfer round-trips', () => {
  fc.assert(
    fc.property(transferBody, (body) => {
      assertSignedRoundTrip(purposes.transfer, 'transfer', body, transferBodyToCbor, transferFromCbor);
    }),
    runs,
  );
});

void test('receipt round-trips', () => {
  fc.assert(
    fc.property(fc.record({ transferId: entryId, payeeId: principalId, payeeCounter: uint }), (body) => {
      const signed = signBody(signer, purposes.receipt, body, receiptBodyToCbor);
      const bytes = encodeSigned(signed);
      const decoded = decodeReceipt(bytes);
      assert.deepEqual(plain(decoded.body), plain(body));
      assert.ok(bytesEqual(encodeSigned(decoded), bytes));
      assert.ok(verifier.verify(signer.publicKey, purposes.receipt, decoded.bodyBytes, decoded.signature));
    }),
    runs,
  );
});

const claimBody: fc.Arbitrary<ClaimBody> = fc.record({
  seId: principalId,
  counter: uint,
  tokens: fc.array(fc.record({ tokenId: entryId, value: amount }), { maxLength: 20 }),
  dcpNonce: bytesOf(16),
  uploadDigest: bytesOf(32),
  lastSyncTime: uint,
});

void test('claim round-trips', () => {
  fc.assert(
    fc.property(claimBody, (body) => {
      assertSignedRoundTrip(purposes.claim, 'claim', body, claimBodyToCbor, claimFromCbor);
    }),
    runs,
  );
});

const limitsBody: fc.Arbitrary<Limits> = fc.record({
  dcpId: principalId,
  version: uint,
  kind: fc.constantFrom('card' as const, 'phone' as const),
  balanceMax: amount,
  paymentMax: amount,
  offlinePaymentsMax: fc.nat({ max: offlinePaymentsCeiling }),
  generationMax: fc.nat({ max: generationCeiling }),
  historyBytesMax: fc.nat({ max: historyBytesCeiling }),
  inputsMax: fc.nat({ max: transferInputsMax }),
  challengesMax: fc.nat({ max: challengesCeiling }),
  time: uint,
});

void test('limits round-trip', () => {
  fc.assert(
    fc.property(limitsBody, (body) => {
      assertSignedRoundTrip(purposes.limits, 'limits', body, limitsToCbor, signedLimitsFromCbor);
    }),
    runs,
  );
});

const denyListBody: fc.Arbitrary<DenyList> = fc.record({
  directoryId: principalId,
  version: uint,
  time: uint,
  entries: fc.array(principalId, { maxLength: 30 }),
});

void test('deny list round-trips', () => {
  fc.assert(
    fc.property(denyListBody, (body) => {
      assertSignedRoundTrip(purposes.denyList, 'denyList', body, denyListToCbor, signedDenyListFromCbor);
    }),
    runs,
  );
});

void test('payment request round-trips', () => {
  fc.assert(
    fc.property(
      certificateBody,
      bytesOf(16),
      amount,
      fc.integer({ min: 0, max: historyBytesCeiling }),
      (body, challenge, requested, bundleBytesMax) => {
        const payeeCertificate = signBody(signer, purposes.certificate, body, certificateBodyToCbor);
        const bytes = encodePaymentRequest({
          payeeCertificate,
          challenge,
          amount: requested,
          bundleBytesMax,
        });
        const decoded = decodePaymentRequest(bytes);
        assert.deepEqual(plain(decoded.payeeCertificate), plain(payeeCertificate));
        assert.equal(toHex(decoded.challenge), toHex(challenge));
        assert.equal(decoded.amount, requested);
        assert.equal(decoded.bundleBytesMax, bundleBytesMax);
        assert.ok(bytesEqual(encodePaymentRequest(decoded), bytes));
      },
    ),
    runs,
  );
});

const historyEntry: fc.Arbitrary<HistoryEntry> = fc.oneof(
  issuanceBody.map((body): HistoryEntry => ({
    kind: 'issuance',
    signed: signBody(signer, purposes.issuance, body, issuanceBodyToCbor),
  })),
  transferBody.map((body): HistoryEntry => ({
    kind: 'transfer',
    signed: signBody(signer, purposes.transfer, body, transferBodyToCbor),
  })),
);

void test('history entry and bundle round-trip', () => {
  const bundle: fc.Arbitrary<Bundle> = fc.record({
    certificates: fc.array(
      certificateBody.map((body) => signBody(signer, purposes.certificate, body, certificateBodyToCbor)),
      { maxLength: 3 },
    ),
    entries: fc.array(historyEntry, { maxLength: 4 }),
  });
  fc.assert(
    fc.property(bundle, (value) => {
      for (const entry of value.entries) {
        const bytes = encodeEntry(entry);
        assert.deepEqual(plain(decodeEntry(bytes)), plain(entry));
        assert.ok(bytesEqual(encodeEntry(decodeEntry(bytes)), bytes));
      }
      const bytes = encodeBundle(value);
      const decoded = decodeBundle(bytes);
      assert.deepEqual(plain(decoded), plain(value));
      assert.ok(bytesEqual(encodeBundle(decoded), bytes));
    }),
    { numRuns: 30 },
  );
});

// --- exact layouts ----------------------------------------------------------------------------

const transferId = new Uint8Array(32).fill(0xaa);
const payeeId = new Uint8Array(16).fill(0xbb);

void test('a receipt body is [1, transfer id, payee id, payee counter] and travels as [body, signature]', () => {
  const signed = signBody(
    signer,
    purposes.receipt,
    { transferId, payeeId, payeeCounter: 7 },
    receiptBodyToCbor,
  );
  const body = '84' + '01' + '5820' + 'aa'.repeat(32) + '50' + 'bb'.repeat(16) + '07';
  assert.equal(toHex(signed.bodyBytes), body);
  assert.equal(toHex(encodeSigned(signed)), '82' + '5836' + body + '5840' + toHex(signed.signature));
  assert.equal(toHex(encodeCbor(signedToCbor(signed))), toHex(encodeSigned(signed)));
});

void test('an output is [value, owner], a history entry [kind tag, envelope], a bundle [1, certificates, entries]', () => {
  assert.equal(toHex(encodeCbor([1_000n, payeeId])), '821903e8' + '50' + 'bb'.repeat(16));
  const issuance = signBody(
    signer,
    purposes.issuance,
    {
      dcpId: payeeId,
      kind: 'load',
      requestReference: new Uint8Array(16),
      outputs: [{ value: 1_000n, owner: payeeId }],
      retiredTokenIds: [],
      time: 1,
    },
    issuanceBodyToCbor,
  );
  assert.equal(
    toHex(issuance.bodyBytes),
    '87' +
      '01' +
      '50' +
      'bb'.repeat(16) +
      '00' +
      '50' +
      '00'.repeat(16) +
      '81821903e850' +
      'bb'.repeat(16) +
      '80' +
      '01',
  );
  const entry = encodeEntry({ kind: 'issuance', signed: issuance });
  assert.equal(toHex(entry), '82' + '00' + toHex(encodeSigned(issuance)));
  assert.equal(
    toHex(encodeBundle({ certificates: [], entries: [{ kind: 'issuance', signed: issuance }] })),
    '83' + '01' + '80' + '81' + toHex(entry),
  );
});

// --- FieldReader: errors name the structure and the field -------------------------------------

/** A valid transfer body as a CBOR array, to break one field at a time. */
function transferArray(): CborValue[] {
  return transferBodyToCbor({
    payerId: new Uint8Array(16).fill(1),
    payerCounter: 3,
    inputs: [new Uint8Array(32).fill(2)],
    outputs: [
      { value: 600n, owner: payeeId },
      { value: 400n, owner: new Uint8Array(16).fill(1) },
    ],
    payeeId,
    challenge: new Uint8Array(16).fill(3),
    time: 9,
  }) as CborValue[];
}

/** Envelope with the body array encoded as it is, signed so the shape is the only fault. */
function envelope(body: CborValue): CborValue {
  const bodyBytes = encodeCbor(body);
  return [bodyBytes, signer.sign(purposes.transfer, bodyBytes)];
}

function withField(array: readonly CborValue[], index: number, value: CborValue): CborValue[] {
  const copy = [...array];
  copy[index] = value;
  return copy;
}

const fieldErrors: readonly { name: string; body: () => CborValue; detail: string }[] = [
  { name: 'not an array', body: () => 5, detail: 'transfer must be an array' },
  {
    name: 'one field short',
    body: () => transferArray().slice(0, 7),
    detail: 'transfer must have 8 fields, has 7',
  },
  {
    name: 'one field too many',
    body: () => [...transferArray(), 0],
    detail: 'transfer must have 8 fields, has 9',
  },
  { name: 'version 2', body: () => withField(transferArray(), 0, 2), detail: 'transfer.version must be 1' },
  { name: 'version 0', body: () => withField(transferArray(), 0, 0), detail: 'transfer.version must be 1' },
  {
    name: 'version as bytes',
    body: () => withField(transferArray(), 0, Uint8Array.of(1)),
    detail: 'transfer.version must be 1',
  },
  {
    name: 'counter as bytes',
    body: () => withField(transferArray(), 2, new Uint8Array(1)),
    detail: `transfer.payerCounter must be an unsigned integer ≤ ${Number.MAX_SAFE_INTEGER}`,
  },
  {
    name: 'counter above 2^53 - 1',
    body: () => withField(transferArray(), 2, 2n ** 53n),
    detail: `transfer.payerCounter must be an unsigned integer ≤ ${Number.MAX_SAFE_INTEGER}`,
  },
  {
    name: 'payer id of 15 bytes',
    body: () => withField(transferArray(), 1, new Uint8Array(15)),
    detail: 'transfer.payerId must be 16 bytes',
  },
  {
    name: 'payer id as text',
    body: () => withField(transferArray(), 1, 'payer'),
    detail: 'transfer.payerId must be a byte string',
  },
  {
    name: 'inputs not an array',
    body: () => withField(transferArray(), 3, new Uint8Array(32)),
    detail: 'transfer.inputs must be an array',
  },
  {
    name: 'an input of 31 bytes',
    body: () => withField(transferArray(), 3, [new Uint8Array(32), new Uint8Array(31)]),
    detail: 'transfer.inputs[1] must be 32 bytes',
  },
  {
    name: 'no inputs',
    body: () => withField(transferArray(), 3, []),
    detail: 'transfer.inputs must not be empty',
  },
  {
    name: 'no outputs',
    body: () => withField(transferArray(), 4, []),
    detail: 'transfer.outputs must not be empty',
  },
  {
    name: 'an output value as text',
    body: () => withField(transferArray(), 4, [['600', payeeId]]),
    detail: 'transfer.outputs[0].value must be an unsigned integer',
  },
  {
    name: 'an output with three fields',
    body: () => withField(transferArray(), 4, [[600, payeeId, 0]]),
    detail: 'transfer.outputs[0] must have 2 fields, has 3',
  },
  {
    name: 'an output owner of 32 bytes',
    body: () =>
      withField(transferArray(), 4, [
        [600, payeeId],
        [400, new Uint8Array(32)],
      ]),
    detail: 'transfer.outputs[1].owner must be 16 bytes',
  },
  {
    name: 'a challenge of 8 bytes',
    body: () => withField(transferArray(), 6, new Uint8Array(8)),
    detail: 'transfer.challenge must be 16 bytes',
  },
];

for (const { name, body, detail } of fieldErrors) {
  void test(`transfer with ${name}: fieldInvalid "${detail}"`, () => {
    assertRefused(() => transferFromCbor(envelope(body())), 'fieldInvalid', detail);
  });
}

void test('the signed envelope itself is read strictly', () => {
  const good = envelope(transferArray()) as CborValue[];
  assertRefused(() => transferFromCbor([good[0]!]), 'fieldInvalid', 'transfer must have 2 fields, has 1');
  assertRefused(() => transferFromCbor([...good, 0]), 'fieldInvalid', 'transfer must have 2 fields, has 3');
  assertRefused(
    () => transferFromCbor([transferArray(), good[1]!]),
    'fieldInvalid',
    'transfer.body must be a byte string',
  );
  assertRefused(
    () => transferFromCbor([good[0]!, new Uint8Array(63)]),
    'fieldInvalid',
    'transfer.signature must be 64 bytes',
  );
  assertRefused(() => transferFromCbor([good[0]!, new Uint8Array(65)]), 'fieldInvalid');
  // The body bytes are themselves strict CBOR: a non-shortest integer or trailing byte is refused.
  const body = good[0] as Uint8Array;
  assertRefused(() => transferFromCbor([concatBytes(body, Uint8Array.of(0)), good[1]!]), 'cborTrailingBytes');
  const stretched = concatBytes(body.subarray(0, 2), Uint8Array.of(0x58, 16), body.subarray(3));
  assertRefused(() => transferFromCbor([stretched, good[1]!]), 'cborNotCanonical');
  assertRefused(
    () => decodeSigned(encodeCbor(5), 'receipt', () => 0),
    'fieldInvalid',
    'receipt must be an array',
  );
});

void test('every structure names itself and its field', () => {
  const certificate = certificateBodyToCbor({
    role: 'phone',
    subjectId: payeeId,
    publicKey: new Uint8Array(65),
    issuerId: payeeId,
    validFrom: 0,
    validUntil: 1,
    profile: 'standard',
  }) as CborValue[];
  const asCertificate = (body: CborValue): unknown => certificateFromCbor(envelope(body));
  assertRefused(
    () => asCertificate(withField(certificate, 1, 9)),
    'fieldInvalid',
    'certificate.role is not a known role',
  );
  assertRefused(
    () => asCertificate(withField(certificate, 3, new Uint8Array(33))),
    'fieldInvalid',
    'certificate.publicKey must be 65 bytes',
  );
  assertRefused(
    () => asCertificate(withField(certificate, 7, 'x'.repeat(profileLengthMax + 1))),
    'fieldInvalid',
    `certificate.profile must be text ≤ ${profileLengthMax}`,
  );
  assertRefused(
    () => asCertificate(withField(certificate, 7, new Uint8Array(0))),
    'fieldInvalid',
    `certificate.profile must be text ≤ ${profileLengthMax}`,
  );
  assert.equal(
    certificateFromCbor(envelope(withField(certificate, 7, 'x'.repeat(32)))).body.profile.length,
    32,
  );

  const issuance = issuanceBodyToCbor({
    dcpId: payeeId,
    kind: 'load',
    requestReference: new Uint8Array(16),
    outputs: [{ value: 5n, owner: payeeId }],
    retiredTokenIds: [],
    time: 0,
  }) as CborValue[];
  const asIssuance = (body: CborValue): unknown => issuanceFromCbor(envelope(body));
  assertRefused(
    () => asIssuance(withField(issuance, 2, 4)),
    'fieldInvalid',
    'issuance.kind is not a known kind',
  );
  assertRefused(
    () => asIssuance(withField(issuance, 3, new Uint8Array(32))),
    'fieldInvalid',
    'issuance.requestReference must be 16 bytes',
  );
  assertRefused(
    () => asIssuance(withField(issuance, 5, [new Uint8Array(16)])),
    'fieldInvalid',
    'issuance.retiredTokenIds[0] must be 32 bytes',
  );

  const limits = limitsToCbor(defaultLimits(payeeId, 'card', 1, 0)) as CborValue[];
  const asLimits = (body: CborValue): unknown => signedLimitsFromCbor(envelope(body));
  assertRefused(() => asLimits(withField(limits, 3, 1)), 'fieldInvalid', 'limits.kind must be card or phone');
  assertRefused(
    () => asLimits(withField(limits, 7, generationCeiling + 1)),
    'fieldInvalid',
    `limits.generationMax must be an unsigned integer ≤ ${generationCeiling}`,
  );
  assertRefused(
    () => asLimits(withField(limits, 9, transferInputsMax + 1)),
    'fieldInvalid',
    `limits.inputsMax must be an unsigned integer ≤ ${transferInputsMax}`,
  );
  assertRefused(
    () => asLimits(withField(limits, 8, historyBytesCeiling + 1)),
    'fieldInvalid',
    `limits.historyBytesMax must be an unsigned integer ≤ ${historyBytesCeiling}`,
  );

  const claim = claimBodyToCbor({
    seId: payeeId,
    counter: 0,
    tokens: [{ tokenId: transferId, value: 1n }],
    dcpNonce: new Uint8Array(16),
    uploadDigest: new Uint8Array(32),
    lastSyncTime: 0,
  }) as CborValue[];
  assertRefused(
    () => claimFromCbor(envelope(withField(claim, 3, [[transferId]]))),
    'fieldInvalid',
    'claim.tokens[0] must have 2 fields, has 1',
  );
  assertRefused(
    () => claimFromCbor(envelope(withField(claim, 5, new Uint8Array(31)))),
    'fieldInvalid',
    'claim.uploadDigest must be 32 bytes',
  );
  assertRefused(
    () => claimFromCbor(envelope(withField(claim, 6, 'yesterday'))),
    'fieldInvalid',
    `claim.lastSyncTime must be an unsigned integer ≤ ${Number.MAX_SAFE_INTEGER}`,
  );

  const list = denyListToCbor({ directoryId: payeeId, version: 1, time: 0, entries: [] }) as CborValue[];
  assertRefused(
    () => signedDenyListFromCbor(envelope(withField(list, 4, [new Uint8Array(17)]))),
    'fieldInvalid',
    'denyList.entries[0] must be 16 bytes',
  );

  assertRefused(
    () => decodeReceipt(encodeCbor(envelope([1, transferId, payeeId]))),
    'fieldInvalid',
    'receipt must have 4 fields, has 3',
  );
  assertRefused(
    () => decodePaymentRequest(encodeCbor([1, 2, 3])),
    'fieldInvalid',
    'paymentRequest must have 5 fields, has 3',
  );
  assertRefused(
    () => decodeBundle(encodeCbor([1, [], [[2, 0]]])),
    'fieldInvalid',
    'bundle.entries[0].kind must be 0 (issuance) or 1 (transfer)',
  );
  // A version is exactly 1: 0 is not an older 1 (an unsigned container like the bundle has no
  // signature over its version, so a lax check would let its bytes vary).
  for (const version of [0, 2]) {
    assertRefused(
      () => decodeBundle(encodeCbor([version, [], []])),
      'fieldInvalid',
      'bundle.version must be 1',
    );
    assertRefused(
      () => decodePaymentRequest(encodeCbor([version, 0, new Uint8Array(16), 1, 0])),
      'fieldInvalid',
      'paymentRequest.version must be 1',
    );
  }
  assertRefused(() => decodeEntry(encodeCbor([1])), 'fieldInvalid', 'entry must have 2 fields, has 1');
  // An entry tagged transfer that carries an issuance is read as a transfer and fails on its arity.
  const issuanceEnvelope = envelope(issuance);
  assertRefused(
    () => decodeEntry(encodeCbor([1, issuanceEnvelope])),
    'fieldInvalid',
    'transfer must have 8 fields, has 7',
  );
});

void test('readBytesItem and FieldReader.invalid name the place', () => {
  assertRefused(() => readBytesItem(5, 'x.ids[3]', 32), 'fieldInvalid', 'x.ids[3] must be 32 bytes');
  assert.equal(FieldReader.invalid('a.b', 'is odd').detail, 'a.b is odd');
});

// --- amounts ----------------------------------------------------------------------------------

void test('amounts: zero is amountMustBePositive, above amountMax is amountOutOfRange, both naming the field', () => {
  const withValue = (value: bigint | number): CborValue =>
    envelope(withField(transferArray(), 4, [[value, payeeId]]));
  assertRefused(
    () => transferFromCbor(withValue(0)),
    'amountMustBePositive',
    'transfer.outputs[0].value is 0',
  );
  assertRefused(
    () => transferFromCbor(withValue(amountMax + 1n)),
    'amountOutOfRange',
    `transfer.outputs[0].value is ${amountMax + 1n}`,
  );
  assertRefused(() => transferFromCbor(withValue(2n ** 64n - 1n)), 'amountOutOfRange');
  assert.equal(transferFromCbor(withValue(amountMax)).body.outputs[0]!.value, amountMax);
  assert.equal(transferFromCbor(withValue(1)).body.outputs[0]!.value, 1n);

  const request = (value: bigint, bundleBytesMax = 16_384): Uint8Array =>
    encodeCbor([
      1,
      envelope(
        certificateBodyToCbor({
          role: 'phone',
          subjectId: payeeId,
          publicKey: new Uint8Array(65),
          issuerId: payeeId,
          validFrom: 0,
          validUntil: 1,
          profile: '',
        }),
      ),
      new Uint8Array(16),
      value,
      bundleBytesMax,
    ]);
  assertRefused(
    () => decodePaymentRequest(request(0n)),
    'amountMustBePositive',
    'paymentRequest.amount is 0',
  );
  assertRefused(
    () => decodePaymentRequest(request(amountMax + 1n)),
    'amountOutOfRange',
    `paymentRequest.amount is ${amountMax + 1n}`,
  );
  assertRefused(
    () => decodePaymentRequest(request(1n, historyBytesCeiling + 1)),
    'fieldInvalid',
    `paymentRequest.bundleBytesMax must be an unsigned integer ≤ ${historyBytesCeiling}`,
  );

  const claim = claimBodyToCbor({
    seId: payeeId,
    counter: 0,
    tokens: [],
    dcpNonce: new Uint8Array(16),
    uploadDigest: new Uint8Array(32),
    lastSyncTime: 0,
  }) as CborValue[];
  assertRefused(
    () => claimFromCbor(envelope(withField(claim, 3, [[transferId, 0]]))),
    'amountMustBePositive',
    'claim.tokens[0].value is 0',
  );
  const limits = limitsToCbor(defaultLimits(payeeId, 'phone', 1, 0)) as CborValue[];
  assertRefused(
    () => signedLimitsFromCbor(envelope(withField(limits, 4, 0))),
    'amountMustBePositive',
    'limits.balanceMax is 0',
  );
  assertRefused(
    () => signedLimitsFromCbor(envelope(withField(limits, 5, amountMax + 1n))),
    'amountOutOfRange',
    `limits.paymentMax is ${amountMax + 1n}`,
  );
  // A negative amount cannot even be written: CBOR negative integers are refused by the decoder.
  assertRefused(() => decodeCbor(Uint8Array.of(0x82, 0x20, 0x40)), 'cborUnsupported');
});

// --- list bounds ------------------------------------------------------------------------------

void test('oversized lists are sizeLimitExceeded, one over each bound, naming the list', () => {
  const one = [1n, payeeId];
  const issuance = issuanceBodyToCbor({
    dcpId: payeeId,
    kind: 'renewal',
    requestReference: new Uint8Array(16),
    outputs: [],
    retiredTokenIds: [],
    time: 0,
  }) as CborValue[];
  const list = <T extends CborValue>(count: number, item: T): T[] =>
    Array.from({ length: count }, () => item);
  const cases: readonly { run: () => unknown; detail: string; atLimit: () => unknown }[] = [
    {
      run: () => issuanceFromCbor(envelope(withField(issuance, 4, list(issuanceOutputsMax + 1, one)))),
      atLimit: () => issuanceFromCbor(envelope(withField(issuance, 4, list(issuanceOutputsMax, one)))),
      detail: `issuance.outputs has more than ${issuanceOutputsMax} items`,
    },
    {
      run: () => issuanceFromCbor(envelope(withField(issuance, 5, list(retiredTokensMax + 1, transferId)))),
      atLimit: () => issuanceFromCbor(envelope(withField(issuance, 5, list(retiredTokensMax, transferId)))),
      detail: `issuance.retiredTokenIds has more than ${retiredTokensMax} items`,
    },
    {
      run: () =>
        transferFromCbor(envelope(withField(transferArray(), 3, list(transferInputsMax + 1, transferId)))),
      atLimit: () =>
        transferFromCbor(envelope(withField(transferArray(), 3, list(transferInputsMax, transferId)))),
      detail: `transfer.inputs has more than ${transferInputsMax} items`,
    },
    {
      run: () => transferFromCbor(envelope(withField(transferArray(), 4, list(3, one)))),
      atLimit: () => transferFromCbor(envelope(withField(transferArray(), 4, list(2, one)))),
      detail: 'transfer.outputs has more than 2 items',
    },
    {
      run: () =>
        claimFromCbor(
          envelope([
            1,
            payeeId,
            0,
            list(claimTokensMax + 1, [transferId, 1]),
            new Uint8Array(16),
            new Uint8Array(32),
            0,
          ]),
        ),
      atLimit: () =>
        claimFromCbor(
          envelope([
            1,
            payeeId,
            0,
            list(claimTokensMax, [transferId, 1]),
            new Uint8Array(16),
            new Uint8Array(32),
            0,
          ]),
        ),
      detail: `claim.tokens has more than ${claimTokensMax} items`,
    },
    {
      run: () => signedDenyListFromCbor(envelope([1, payeeId, 1, 0, list(denyListEntriesMax + 1, payeeId)])),
      atLimit: () => signedDenyListFromCbor(envelope([1, payeeId, 1, 0, list(denyListEntriesMax, payeeId)])),
      detail: `denyList.entries has more than ${denyListEntriesMax} items`,
    },
    {
      run: () => decodeBundle(encodeCbor([1, [], list(bundleEntriesMax + 1, [0, 0])])),
      atLimit: () => thrown(() => decodeBundle(encodeCbor([1, [], list(bundleEntriesMax, [0, 0])]))),
      detail: `bundle.entries has more than ${bundleEntriesMax} items`,
    },
    {
      run: () => decodeBundle(encodeCbor([1, list(bundleCertificatesMax + 1, 0), []])),
      atLimit: () => thrown(() => decodeBundle(encodeCbor([1, list(bundleCertificatesMax, 0), []]))),
      detail: `bundle.certificates has more than ${bundleCertificatesMax} items`,
    },
  ];
  for (const { run, atLimit, detail } of cases) {
    assertRefused(run, 'sizeLimitExceeded', detail);
    // At the bound the list itself is accepted (a bundle then fails on its dummy items, not on size).
    const result = atLimit();
    if (result instanceof CbdcError) assert.notEqual(result.code, 'sizeLimitExceeded');
  }
});

void test('docs/protocol.md lists every signing purpose tag, and nothing else', () => {
  const text = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const documented = [...text.matchAll(/^\| [a-z ]+\| `(cbdc\/[a-z-]+\/v\d+)` +\|/gm)].map(([, tag]) => tag!);
  assert.deepEqual(documented.sort(), Object.values(purposes).sort());
});
