// The channel's codecs: the enclave decodes every request field by field and names the field that
// failed; the API process decodes every answer; refusals cross as catalogue codes and come back as
// typed errors with the same code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCbdcError } from '../../src/core/errors.ts';
import { coreError } from '../../src/core/errors.ts';
import { mdsError } from '../../src/mds/api/errors.ts';
import { decodeAnswer, decodeCall, errorOfRefusal, refusalOf } from '../../src/mds/channel/codec.ts';
import { decodeAlertsPage, decodedOrUnavailable, decodeUploadStatus } from '../../src/mds/channel/answers.ts';
import { reportItemsMax } from '../../src/mds/channel/protocol.ts';

function refusal(action: () => unknown): { code: string; detail: string | undefined } {
  try {
    action();
  } catch (error) {
    if (isCbdcError(error)) return { code: error.code, detail: error.detail };
    throw error;
  }
  assert.fail('not refused');
}

const dcpId = 'ab'.repeat(16);
const digest = 'cd'.repeat(32);

test('requests decode strictly, naming the field', () => {
  assert.deepEqual(decodeCall({ method: 'uploadStatus', dcpId, digest }), {
    method: 'uploadStatus',
    dcpId,
    digest,
  });
  const cases: [unknown, string, string][] = [
    [null, 'fieldInvalid', 'call must be an object'],
    [{ method: 'dropTables' }, 'fieldInvalid', 'call.method is not a method of the enclave'],
    [
      { method: 'uploadStatus', dcpId: 'AB'.repeat(16), digest },
      'fieldInvalid',
      'uploadStatus.dcpId must be 32 lowercase hex digits',
    ],
    [
      { method: 'storeUpload', request: { dcpId, claim: 'x', sealed: new Uint8Array(1), receivedAtMs: 1 } },
      'fieldInvalid',
      'storeUpload.claim must be bytes',
    ],
    [
      {
        method: 'storeUpload',
        request: { dcpId, claim: new Uint8Array(1), sealed: new Uint8Array(1), receivedAtMs: -1 },
      },
      'fieldInvalid',
      `storeUpload.receivedAtMs must be an integer in [0, ${Number.MAX_SAFE_INTEGER}]`,
    ],
    [
      { method: 'alertsAfter', after: 0, limit: 0 },
      'fieldInvalid',
      'alertsAfter.limit must be an integer in [1, 256]',
    ],
    [
      {
        method: 'recordReports',
        request: {
          dcpId,
          issuances: [],
          retirements: [{ tokenId: digest, value: 0n, seId: dcpId, uploadDigest: digest, retiredAtMs: 1 }],
        },
      },
      'amountMustBePositive',
      'recordReports.retirements[0].value is 0',
    ],
    [
      {
        method: 'recordReports',
        request: {
          dcpId,
          issuances: Array.from({ length: reportItemsMax + 1 }, () => new Uint8Array(1)),
          retirements: [],
        },
      },
      'reportItemsLimitExceeded',
      `recordReports.issuances has ${reportItemsMax + 1} items > ${reportItemsMax}`,
    ],
  ];
  for (const [call, code, detail] of cases)
    assert.deepEqual(
      refusal(() => decodeCall(call)),
      { code, detail },
    );
});

test('refusals cross as their code and come back typed; other errors do not cross', () => {
  const crossed = refusalOf(mdsError('uploadConflict', 'posted by another DCP'));
  assert.deepEqual(crossed, { code: 'uploadConflict', message: 'posted by another DCP' });
  const rebuilt = errorOfRefusal(crossed);
  assert.ok(isCbdcError(rebuilt));
  assert.equal(rebuilt.code, 'uploadConflict');
  assert.equal(rebuilt.definition.number, 0x4003);
  assert.equal(errorOfRefusal({ code: 'signatureInvalid', message: 'x' }).message, 'signatureInvalid: x');
  assert.equal(refusalOf(new Error('a bug')), undefined);
  assert.deepEqual(refusalOf(coreError('historyIncomplete')), {
    code: 'historyIncomplete',
    message: coreError('historyIncomplete').definition.meaning,
  });
});

test('answers decode strictly: an envelope, and each method its value', () => {
  assert.deepEqual(
    decodeAnswer({ kind: 'answer', id: 3, ok: false, refusal: { code: 'alertUnknown', message: 'm' } }),
    {
      kind: 'answer',
      id: 3,
      ok: false,
      refusal: { code: 'alertUnknown', message: 'm' },
    },
  );
  assert.equal(
    refusal(() =>
      decodeAnswer({ kind: 'answer', id: 3, ok: false, refusal: { code: 'dropTables', message: '' } }),
    ).detail,
    'answer.refusal.code must be an MDS or core code',
  );
  assert.deepEqual(decodeUploadStatus({ digest, state: 'refused', refusal: 'uploadUnsealable' }), {
    digest,
    state: 'refused',
    refusal: 'uploadUnsealable',
  });
  const unavailable = refusal(() =>
    decodedOrUnavailable(() => decodeUploadStatus({ digest, state: 'lost', refusal: null })),
  );
  assert.deepEqual(unavailable, {
    code: 'mdsEnclaveUnavailable',
    detail: 'answer uploadStatus.state must be one of stored, ingested, refused',
  });
  const page = {
    alerts: [
      {
        id: digest,
        kind: 'doubleSpend',
        seId: dcpId,
        value: 5,
        raisedAtMs: 1,
        evidenceCount: 2,
        sequence: 1,
      },
    ],
    sequence: 1,
  };
  assert.equal(
    refusal(() => decodedOrUnavailable(() => decodeAlertsPage(page))).detail,
    'answer alertsPage.alerts[0].value must be a bigint ≥ 0',
  );
});
