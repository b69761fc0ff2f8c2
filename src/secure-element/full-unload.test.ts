// A full unload: the DCP's renewal pays nothing back (an issuance without outputs). COMPLETE SYNC
// installs it and keeps no history entry for it, so the next upload carries only what later
// payments brought: the MDS refuses an entry without outputs (historyIncomplete), and a stored one
// used to make every later upload of the SE unreadable to it (found by `cbdc simulate`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hpkeOpen } from '../crypto/hpke.ts';
import { decodeUpload, uploadInfo } from '../core/upload.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { publicData } from '../testing/devices.ts';
import { TestPki } from '../testing/test-pki.ts';

const nonce = new Uint8Array(16).fill(7);

test('after a full unload the SE keeps no entry of the empty renewal: its next upload holds only the new payment', () => {
  const pki = new TestPki();
  const shop = pki.newDevice('phone', 'shop');
  const customer = pki.newDevice('phone', 'customer');
  pki.load(shop, 1_000n);
  pki.load(customer, 5_000n);
  const { claim } = shop.client().beginSync(nonce);
  const retired = claim.body.tokens.map((token) => token.tokenId);
  const emptyRenewal = pki.dcp.issue('renewal', [], retired);
  assert.equal(shop.client().completeSync(emptyRenewal, []), 0n);
  assert.equal(publicData(shop).tokenCount, 0);

  assert.deepEqual(new OfflinePayment(customer, shop, 700n).tap(), { outcome: 'completed' });
  const { sealedUpload } = shop.client().beginSync(new Uint8Array(16).fill(8));
  const seId = publicData(shop).seId;
  const opened = hpkeOpen(pki.mdsKeys.privateKey, pki.mdsKeys.publicKey, uploadInfo, seId, sealedUpload);
  assert.ok(opened !== undefined);
  const upload = decodeUpload(opened);
  assert.deepEqual(
    upload.entries.map((entry) => [entry.kind, entry.signed.body.outputs.length]),
    [
      ['issuance', 1],
      ['transfer', 2],
    ],
    "the customer's load and payment, and no empty renewal",
  );
});
