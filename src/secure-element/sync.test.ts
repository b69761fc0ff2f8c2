import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesEqual } from '../core/bytes.ts';
import { decodeCbor, FieldReader } from '../core/cbor.ts';
import { purposes } from '../core/crypto.ts';
import { hpkeOpen } from '../crypto/hpke.ts';
import { TestPki } from '../testing/test-pki.ts';
import { mediumSnapshot, publicData } from '../testing/devices.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { SecureElementRefused } from '../device/se-client.ts';
import { uploadInfo } from '../core/upload.ts';
import type { Device } from '../device/device.ts';

const nonce = new Uint8Array(16).fill(7);

function refusedWith(code: string): (error: unknown) => boolean {
  return (error) => error instanceof SecureElementRefused && error.code === code;
}

function setup(): { pki: TestPki; phone: Device; shop: Device } {
  const pki = new TestPki();
  const phone = pki.newDevice('phone', 'phone');
  const shop = pki.newDevice('phone', 'shop');
  pki.load(phone, 10_000n);
  pki.load(shop, 1_000n);
  assert.deepEqual(new OfflinePayment(phone, shop, 2_500n).tap(), { outcome: 'completed' });
  assert.deepEqual(new OfflinePayment(shop, phone, 300n).tap(), { outcome: 'completed' });
  return { pki, phone, shop };
}

test('BEGIN SYNC signs a claim over every held token, bound to an upload only the MDS can open', () => {
  const { pki, phone } = setup();
  const data = publicData(phone);
  const { claim, sealedUpload } = phone.client().beginSync(nonce);
  assert.ok(pki.verifier.verify(data.publicKey, purposes.claim, claim.bodyBytes, claim.signature));
  assert.ok(bytesEqual(claim.body.seId, data.seId));
  assert.ok(bytesEqual(claim.body.dcpNonce, nonce));
  assert.equal(claim.body.counter, 2);
  assert.deepEqual(
    claim.body.tokens.map((token) => token.value).sort((a, b) => Number(a - b)),
    [300n, 7_500n],
  );
  assert.ok(bytesEqual(claim.body.uploadDigest, pki.verifier.sha256(sealedUpload)));
  const upload = hpkeOpen(pki.mdsKeys.privateKey, pki.mdsKeys.publicKey, uploadInfo, data.seId, sealedUpload);
  assert.ok(upload !== undefined, 'the MDS opens the upload');
  const fields = new FieldReader(decodeCbor(upload), 'upload', 12);
  assert.ok(bytesEqual(fields.bytes(1, 'seId'), data.seId));
  assert.equal(fields.uint(2, 'counter'), 2);
  assert.equal(fields.array(7, 'outgoing', 16, (item) => item).length, 1, 'one payment made');
  assert.equal(fields.array(8, 'incoming', 16, (item) => item).length, 1, 'one payment received');
  // Anyone but the MDS: a wrong key or another SE's binding opens nothing.
  assert.equal(
    hpkeOpen(pki.mdsKeys.privateKey, pki.mdsKeys.publicKey, uploadInfo, new Uint8Array(16), sealedUpload),
    undefined,
  );
});

test('claimed tokens are locked until COMPLETE SYNC, which installs the renewal and erases the covered history', () => {
  const { pki, phone, shop } = setup();
  const blocksBefore = phone.medium.list().length;
  const { claim } = phone.client().beginSync(nonce);
  assert.throws(() => new OfflinePayment(phone, shop, 100n).tap(), refusedWith('insufficientFunds'));
  // A payment received after BEGIN SYNC is not covered by the claim and survives the sync.
  assert.deepEqual(new OfflinePayment(shop, phone, 200n).tap(), { outcome: 'completed' });
  const claimed = claim.body.tokens.map((token) => token.tokenId);
  const renewal = pki.dcp.issue('renewal', [{ value: 7_800n, owner: claim.body.seId }], claimed);
  assert.equal(phone.client().completeSync(renewal, []), 8_000n);
  assert.deepEqual(
    (({ balance, paymentsSinceSync, tokenCount, pendingCount }) => ({
      balance,
      paymentsSinceSync,
      tokenCount,
      pendingCount,
    }))(publicData(phone)),
    { balance: 8_000n, paymentsSinceSync: 0, tokenCount: 2, pendingCount: 0 },
  );
  assert.ok(phone.medium.list().length < blocksBefore + 4, 'the covered history was erased');
  assert.deepEqual(new OfflinePayment(phone, shop, 7_900n).tap(), { outcome: 'completed' });
  assert.equal(publicData(phone).balance, 100n);
});

test('an unload: a renewal paying back less than claimed; credits arrive with the sync', () => {
  const { pki, phone } = setup();
  const { claim } = phone.client().beginSync(nonce);
  const renewal = pki.dcp.issue(
    'renewal',
    [{ value: 1_000n, owner: claim.body.seId }],
    claim.body.tokens.map((t) => t.tokenId),
  );
  const credit = pki.dcp.issue('credit', [{ value: 450n, owner: claim.body.seId }]);
  assert.equal(phone.client().completeSync(renewal, [credit]), 1_450n);
  assert.equal(publicData(phone).tokenCount, 2);
});

test('COMPLETE SYNC refuses what does not match the claim, changing nothing', () => {
  const { pki, phone } = setup();
  const seId = publicData(phone).seId;
  const early = pki.dcp.issue('renewal', [{ value: 1n, owner: seId }], []);
  assert.throws(() => phone.client().completeSync(early, []), refusedWith('syncNotStarted'));
  const { claim } = phone.client().beginSync(nonce);
  const claimed = claim.body.tokens.map((token) => token.tokenId);
  const before = mediumSnapshot(phone.medium);
  const cases = [
    ['renewalMismatch', pki.dcp.issue('renewal', [{ value: 7_800n, owner: seId }], claimed.slice(1))],
    ['renewalMismatch', pki.dcp.issue('renewal', [{ value: 7_801n, owner: seId }], claimed)],
    ['issuanceKindInvalid', pki.dcp.issue('load', [{ value: 7_800n, owner: seId }], claimed)],
    [
      'issuanceNotForThisSecureElement',
      pki.dcp.issue('renewal', [{ value: 7_800n, owner: new Uint8Array(16) }], claimed),
    ],
  ] as const;
  for (const [code, renewal] of cases) {
    assert.throws(() => phone.client().completeSync(renewal, []), refusedWith(code), code);
    assert.deepEqual(mediumSnapshot(phone.medium), before, `${code} changed nothing`);
  }
});

test('BEGIN SYNC expires outstanding payment requests: a late bundle for one is refused', () => {
  const { phone, shop } = setup();
  const request = shop.client().paymentRequest(100n);
  const bundle = phone.client().pay(request, 0);
  shop.client().beginSync(nonce);
  assert.throws(() => shop.client().receive(bundle), refusedWith('challengeUnknown'));
  assert.equal(publicData(phone).pendingCount, 1, 'the payer keeps it pending: refundable by the MDS');
});

test('AUTHENTICATE signs the DCP nonce and the request digest, changing nothing', () => {
  const { pki, phone } = setup();
  const data = publicData(phone);
  const before = mediumSnapshot(phone.medium);
  const digest = pki.verifier.sha256(new Uint8Array([1, 2, 3]));
  const request = phone.client().authenticate(nonce, digest);
  assert.ok(
    pki.verifier.verify(data.publicKey, purposes.deviceRequest, request.bodyBytes, request.signature),
  );
  assert.ok(bytesEqual(request.body.seId, data.seId));
  assert.ok(bytesEqual(request.body.requestDigest, digest));
  assert.deepEqual(mediumSnapshot(phone.medium), before);
  assert.throws(() => phone.client().authenticate(new Uint8Array(15), digest), refusedWith('fieldInvalid'));
});
