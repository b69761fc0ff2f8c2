// The directory's pure rules: transitions, registration of a known SE, hex and URL decoding, deny
// list signing and deltas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHex } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { purposes } from '../../core/crypto.ts';
import { signedDenyListFromCbor } from '../../core/deny-list.ts';
import { NodeSigner, NodeVerifier } from '../../crypto/node-crypto.ts';
import { denyListDelta, signDenyList } from './deny-list.ts';
import { statusChangesMax } from './limits.ts';
import {
  checkBaseUrl,
  checkTransition,
  decodeHexField,
  isDenied,
  mayReadWallet,
  registrationOfKnown,
} from './rules.ts';
import type { Participant, SecureElementRecord, Status } from './types.ts';

const record = (status: Status, changes = 1): SecureElementRecord => ({
  seId: 'aa'.repeat(16),
  dcpId: 'bb'.repeat(16),
  kind: 'card',
  walletId: 'wallet',
  status,
  certificate: Uint8Array.of(1, 2, 3),
  validUntil: 1000,
  registeredAtMs: 0,
  history: Array.from({ length: changes }, () => ({ status, reason: 'r', changedBy: 'p', changedAtMs: 0 })),
});

/** The registration of the DCP and wallet the record above belongs to. */
const mine = { dcpId: 'bb'.repeat(16), walletId: 'wallet' };

const refusal = (code: string) => (error: unknown) => (error as { code?: string }).code === code;

test('transitions: active ⇄ suspended, either → revoked; revoked is final; no change to the same status', () => {
  const legal: [Status, Status][] = [
    ['active', 'suspended'],
    ['suspended', 'active'],
    ['active', 'revoked'],
    ['suspended', 'revoked'],
  ];
  for (const [from, to] of legal) checkTransition(record(from), to);
  for (const to of ['active', 'suspended', 'revoked'] as const)
    assert.throws(() => {
      checkTransition(record('revoked'), to);
    }, refusal('secureElementRevoked'));
  assert.throws(() => {
    checkTransition(record('active'), 'active');
  }, refusal('statusTransitionInvalid'));
  assert.throws(() => {
    checkTransition(record('suspended'), 'suspended');
  }, refusal('statusTransitionInvalid'));
  assert.throws(() => {
    checkTransition(record('active', statusChangesMax), 'suspended');
  }, refusal('statusHistoryFull'));
  assert.deepEqual((['active', 'suspended', 'revoked'] as const).map(isDenied), [false, true, true]);
});

test('a known SE: same certificate unchanged, longer one a renewal while active, other wallet or DCP a conflict', () => {
  const known = record('active');
  assert.throws(
    () => registrationOfKnown(known, { ...mine, dcpId: 'cc'.repeat(16) }, Uint8Array.of(9), 2000),
    refusal('secureElementOwnedByAnotherDcp'),
  );
  assert.equal(registrationOfKnown(known, mine, known.certificate, 1000), 'unchanged');
  assert.equal(registrationOfKnown(known, mine, Uint8Array.of(9), 2000), 'renewal');
  assert.throws(
    () => registrationOfKnown(known, { ...mine, walletId: 'other' }, known.certificate, 1000),
    refusal('secureElementWalletConflict'),
  );
  assert.throws(
    () => registrationOfKnown(known, mine, Uint8Array.of(9), 1000),
    refusal('secureElementCertificateConflict'),
  );
  assert.throws(
    () => registrationOfKnown(record('suspended'), mine, Uint8Array.of(9), 2000),
    refusal('secureElementNotActive'),
  );
  assert.throws(
    () => registrationOfKnown(record('revoked'), mine, Uint8Array.of(9), 2000),
    refusal('secureElementRevoked'),
  );
  assert.equal(registrationOfKnown(record('revoked'), mine, Uint8Array.of(1, 2, 3), 1000), 'unchanged');
});

test('the wallet is visible to the owning DCP and operators only', () => {
  const who = (role: Participant['role'], dcpId: string | null): Participant => ({
    id: 'p',
    name: 'n',
    role,
    dcpId,
    createdAtMs: 0,
  });
  assert.equal(mayReadWallet(who('dcp', 'bb'.repeat(16)), record('active')), true);
  assert.equal(mayReadWallet(who('operator', null), record('active')), true);
  assert.equal(mayReadWallet(who('dcp', 'cc'.repeat(16)), record('active')), false);
  assert.equal(mayReadWallet(who('mds', null), record('active')), false);
});

test('hex fields: lowercase, even, of the expected size; URLs: absolute http(s) without credentials', () => {
  assert.equal(toHex(decodeHexField('00ff', 'f', { bytesMax: 2 })), '00ff');
  for (const bad of ['', '0', '0g', '00FF', '000000'])
    assert.throws(() => decodeHexField(bad, 'f', { bytesMax: 2 }), refusal('directoryHexMalformed'));
  assert.throws(() => decodeHexField('00', 'f', { bytes: 16 }), /f must be 32 digits/);
  assert.equal(checkBaseUrl('https://dcp.example:8443/api'), 'https://dcp.example:8443/api');
  for (const bad of ['dcp.example', 'ftp://x', 'https://u@x', 'https://x/?a=1', 'https://x/#f'])
    assert.throws(() => checkBaseUrl(bad), refusal('dcpBaseUrlInvalid'));
});

test('a signed deny list is sorted, verifies with the directory key, and deltas are set differences', () => {
  const signer = NodeSigner.generate();
  const directoryId = new Uint8Array(16).fill(7);
  const ids = ['cc', 'aa', 'bb'].map((byte) => byte.repeat(16));
  const list = signDenyList(signer, directoryId, 3, 1234, ids);
  assert.deepEqual(list.entries, [...ids].sort());
  const signed = signedDenyListFromCbor(decodeCbor(list.signed));
  assert.ok(
    new NodeVerifier().verify(signer.publicKey, purposes.denyList, signed.bodyBytes, signed.signature),
  );
  assert.deepEqual(signed.body.entries.map(toHex), list.entries);
  assert.equal(signed.body.version, 3);
  const next = signDenyList(signer, directoryId, 4, 1300, ['aa'.repeat(16), 'dd'.repeat(16)]);
  assert.deepEqual(denyListDelta(list, next), {
    fromVersion: 3,
    toVersion: 4,
    added: ['dd'.repeat(16)],
    removed: ['bb'.repeat(16), 'cc'.repeat(16)],
  });
});
