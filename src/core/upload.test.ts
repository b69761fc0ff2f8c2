// The sealed upload's codec: what BEGIN SYNC seals decodes to exactly what the SE holds and encodes
// back to the same bytes; the decoder refuses every malformed field, naming it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesEqual } from './bytes.ts';
import { decodeCbor, encodeCbor, type CborValue } from './cbor.ts';
import { isCbdcError } from './errors.ts';
import {
  decodeUpload,
  encodeUpload,
  uploadBytesMax,
  uploadInfo,
  uploadReceiptBytesMax,
  uploadRecordsMax,
} from './upload.ts';
import { claimTokensMax } from './claim.ts';
import { hpkeOpen } from '../crypto/hpke.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { publicData } from '../testing/devices.ts';
import { TestPki } from '../testing/test-pki.ts';

/** A phone that loaded, paid (acknowledged and pending), received and left a request to expire. */
function sealedUpload(): { pki: TestPki; seId: Uint8Array; plaintext: Uint8Array } {
  const pki = new TestPki();
  const phone = pki.newDevice('phone', 'phone');
  const shop = pki.newDevice('phone', 'shop');
  pki.load(phone, 10_000n);
  pki.load(shop, 1_000n);
  assert.deepEqual(new OfflinePayment(phone, shop, 2_500n).tap(), { outcome: 'completed' });
  assert.deepEqual(new OfflinePayment(shop, phone, 300n).tap(), { outcome: 'completed' });
  phone.client().pay(shop.client().paymentRequest(100n), 0); // pending: never received
  phone.client().paymentRequest(50n); // outstanding: BEGIN SYNC expires it
  const seId = publicData(phone).seId;
  const { sealedUpload } = phone.client().beginSync(new Uint8Array(16).fill(1));
  const plaintext = hpkeOpen(pki.mdsKeys.privateKey, pki.mdsKeys.publicKey, uploadInfo, seId, sealedUpload);
  assert.ok(plaintext !== undefined);
  return { pki, seId, plaintext };
}

function fieldsOf(plaintext: Uint8Array): CborValue[] {
  return [...(decodeCbor(plaintext) as readonly CborValue[])];
}

/** The refusal of `decodeUpload` on `bytes`: its code and detail. */
function refusal(bytes: Uint8Array): { code: string; detail: string | undefined } {
  try {
    decodeUpload(bytes);
  } catch (error) {
    if (isCbdcError(error)) return { code: error.code, detail: error.detail };
    throw error;
  }
  assert.fail('the upload decoded');
}

void describe('the upload BEGIN SYNC seals', () => {
  void test('decodes to what the SE did and re-encodes to the same bytes', () => {
    const { seId, plaintext } = sealedUpload();
    const upload = decodeUpload(plaintext);
    assert.ok(bytesEqual(upload.seId, seId));
    assert.ok(bytesEqual(upload.certificate.body.subjectId, seId));
    assert.equal(upload.counter, 3);
    assert.deepEqual(
      upload.tokens.map((token) => token.value).sort((a, b) => Number(a - b)),
      [200n, 7_500n],
    );
    assert.deepEqual(
      upload.outgoing.map((record) => [record.state, record.amount, record.receipt.length > 0]),
      [
        ['pending', 100n, false],
        ['acknowledged', 2_500n, true],
      ],
    );
    assert.deepEqual(
      upload.incoming.map((record) => [record.state, record.amount]),
      [
        ['expired', 50n],
        ['received', 300n],
      ],
    );
    assert.equal(upload.installed.length, 1, 'the one LOAD');
    assert.ok(upload.entries.length >= 3);
    assert.equal(upload.certificates.length, 1, "the shop's, which signed the 300");
    assert.deepEqual(encodeUpload(upload), plaintext);
  });
});

void describe('decodeUpload refuses, naming the field', () => {
  const { plaintext } = sealedUpload();
  const fields = fieldsOf(plaintext);
  const withField = (index: number, value: CborValue) =>
    encodeCbor(fields.map((field, position) => (position === index ? value : field)));
  const outgoing = fields[7] as readonly (readonly CborValue[])[];
  const incoming = fields[8] as readonly (readonly CborValue[])[];
  const withOutgoing = (field: number, value: CborValue) =>
    withField(7, [
      outgoing[0]!.map((item, position) => (position === field ? value : item)),
      ...outgoing.slice(1),
    ]);
  const withIncoming = (record: number, field: number, value: CborValue) =>
    withField(
      8,
      incoming.map((each, position) =>
        position === record ? each.map((item, index) => (index === field ? value : item)) : each,
      ),
    );
  const expiredIndex = 0;
  const receivedIndex = 1;

  const cases: [string, Uint8Array, string, string][] = [
    ['version 2', withField(0, 2), 'fieldInvalid', 'upload.version must be 1'],
    [
      'an 11-field array',
      encodeCbor(fields.slice(0, 11)),
      'fieldInvalid',
      'upload must have 12 fields, has 11',
    ],
    ['a short seId', withField(1, new Uint8Array(15)), 'fieldInvalid', 'upload.seId must be 16 bytes'],
    [
      'a text counter',
      withField(2, 'x'),
      'fieldInvalid',
      'upload.counter must be an unsigned integer ≤ 9007199254740991',
    ],
    [
      'a token of value 0',
      withField(4, [[new Uint8Array(32), 0, 0]]),
      'amountMustBePositive',
      'upload.tokens[0].value is 0',
    ],
    [
      'a token of generation 65',
      withField(4, [[new Uint8Array(32), 1, 65]]),
      'fieldInvalid',
      'upload.tokens[0].generation must be an unsigned integer ≤ 64',
    ],
    [
      'an entry of kind 2',
      withField(5, [[2, []]]),
      'fieldInvalid',
      'upload.entries[0].kind must be 0 (issuance) or 1 (transfer)',
    ],
    [
      'outgoing state 2',
      withOutgoing(1, 2),
      'fieldInvalid',
      'upload.outgoing[0].state must be an unsigned integer ≤ 1',
    ],
    [
      'a pending payment with a receipt',
      withOutgoing(4, new Uint8Array(10)),
      'fieldInvalid',
      'upload.outgoing[0].receipt must be empty exactly while pending',
    ],
    [
      'a bundle over the history ceiling',
      withOutgoing(3, new Uint8Array(256 * 1024 + 1)),
      'sizeLimitExceeded',
      'upload.outgoing[0].bundle of 262145 bytes > 262144',
    ],
    [
      'incoming state 0 (outstanding)',
      withIncoming(expiredIndex, 2, 0),
      'fieldInvalid',
      'upload.incoming[0].state must be 1 (received) or 2 (expired)',
    ],
    [
      'an expired request with a transfer id',
      withIncoming(expiredIndex, 3, new Uint8Array(32)),
      'fieldInvalid',
      'upload.incoming[0].transferId must be 0 bytes',
    ],
    [
      'a received request without transfer id',
      withIncoming(receivedIndex, 3, new Uint8Array(0)),
      'fieldInvalid',
      'upload.incoming[1].transferId must be 32 bytes',
    ],
    [
      'a received request without receipt',
      withIncoming(receivedIndex, 4, new Uint8Array(0)),
      'fieldInvalid',
      'upload.incoming[1].receipt must not be empty when received',
    ],
    [
      'a receipt over its bound',
      withIncoming(receivedIndex, 4, new Uint8Array(uploadReceiptBytesMax + 1)),
      'sizeLimitExceeded',
      `upload.incoming[1].receipt of ${uploadReceiptBytesMax + 1} bytes > ${uploadReceiptBytesMax}`,
    ],
    [
      'an installed id of 31 bytes',
      withField(9, [new Uint8Array(31)]),
      'fieldInvalid',
      'upload.installed[0] must be 32 bytes',
    ],
    [
      'one token more than a claim covers',
      withField(
        4,
        Array.from({ length: claimTokensMax + 1 }, () => [new Uint8Array(32), 1, 0]),
      ),
      'sizeLimitExceeded',
      `upload.tokens has more than ${claimTokensMax} items`,
    ],
    [
      'one installed id more than the bound',
      withField(
        9,
        Array.from({ length: uploadRecordsMax + 1 }, () => new Uint8Array(32)),
      ),
      'sizeLimitExceeded',
      `upload.installed has more than ${uploadRecordsMax} items`,
    ],
    ['a byte after the item', Uint8Array.from([...plaintext, 0]), 'cborTrailingBytes', ''],
  ];
  for (const [what, bytes, code, detail] of cases) {
    void test(`${what}: ${code}`, () => {
      const answer = refusal(bytes);
      assert.equal(answer.code, code);
      if (detail !== '') assert.equal(answer.detail, detail);
    });
  }

  void test(`more than ${uploadBytesMax} bytes: sizeLimitExceeded before decoding`, () => {
    assert.deepEqual(refusal(new Uint8Array(uploadBytesMax + 1)), {
      code: 'sizeLimitExceeded',
      detail: `upload of ${uploadBytesMax + 1} bytes > ${uploadBytesMax}`,
    });
  });
});
