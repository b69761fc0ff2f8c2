// Every refusal of the enclave, with its exact code, and proof that nothing of a refused upload was
// merged: the graph's rows and the alerts are the same before and after, and the next good upload is
// still ingested. Uploads a compromised SE's holder could seal (forge.ts keys, test-pki DCPs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { encodeCbor } from '../../src/core/cbor.ts';
import { purposes } from '../../src/core/crypto.ts';
import { isCbdcError } from '../../src/core/errors.ts';
import { issuanceBodyToCbor } from '../../src/core/issuance.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import { encodeUpload, uploadInfo } from '../../src/core/upload.ts';
import { hpkeGenerateKeyPair, hpkeSeal } from '../../src/crypto/hpke.ts';
import { claimBytesMax, reportItemsMax, sealedUploadBytesMax } from '../../src/mds/channel/protocol.ts';
import { withSignature } from '../../src/testing/forge.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  MdsUploads,
  scratchEnclave,
  type RelayedUpload,
  type ScratchEnclave,
} from '../../src/testing/mds-uploads.ts';

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isCbdcError(error)) return error.code;
    throw error;
  }
  assert.fail('not refused');
}

for (const engine of engines) {
  void describe(`enclave refusals (${engine})`, () => {
    let uploads: MdsUploads;
    let enclave: ScratchEnclave;
    before(async () => {
      uploads = new MdsUploads();
      enclave = await scratchEnclave(uploads, engine);
      // Some graph first, so that "nothing merged" compares non-empty tables.
      for (const upload of uploads.honest().uploads)
        await enclave.service.storeUpload(uploads.request(upload));
      await enclave.service.ingestAll(10);
    });
    after(async () => {
      await enclave.close();
    });

    /** Stores `upload`, ingests it, and checks it is refused with `code` and nothing merged. */
    async function assertRefused(upload: RelayedUpload, code: string): Promise<void> {
      const graph = await enclave.graphCounts();
      const alerts = await enclave.service.alertsAfter(0, 256);
      const stored = await enclave.service.storeUpload(uploads.request(upload));
      assert.equal(stored.state, 'stored');
      assert.equal(await enclave.service.ingestAll(10), 1);
      assert.deepEqual(await enclave.service.uploadStatus(uploads.dcpId, stored.digest), {
        digest: stored.digest,
        state: 'refused',
        refusal: code,
      });
      assert.deepEqual(await enclave.graphCounts(), graph, 'nothing merged');
      assert.deepEqual(await enclave.service.alertsAfter(0, 256), alerts, 'no alert');
    }

    /** A thief holding one genuine token of 300 and its honest-looking own upload. */
    function thiefUpload() {
      return uploads.thiefUpload(300n);
    }

    void test('a well-formed upload of its own is ingested (the baseline of the cases below)', async () => {
      const { thief, upload } = thiefUpload();
      const relayed = uploads.sealUpload(thief, upload, 'baseline');
      await enclave.service.storeUpload(uploads.request(relayed));
      assert.equal(await enclave.service.ingestAll(10), 1);
      assert.equal((await enclave.service.status()).uploads.ingested, 4);
    });

    void test('sealed to another key, with another info or another aad: uploadUnsealable', async () => {
      const other = hpkeGenerateKeyPair();
      const { thief, upload } = thiefUpload();
      const mds = uploads.pki.mdsKeys.publicKey;
      await assertRefused(
        uploads.sealUpload(thief, upload, 'key', {
          seal: (plain) => hpkeSeal(other.publicKey, uploadInfo, thief.id, plain),
        }),
        'uploadUnsealable',
      );
      await assertRefused(
        uploads.sealUpload(thief, upload, 'info', {
          seal: (plain) => hpkeSeal(mds, utf8('cbdc/upload/v2'), thief.id, plain),
        }),
        'uploadUnsealable',
      );
      await assertRefused(
        uploads.sealUpload(thief, upload, 'aad', {
          seal: (plain) => hpkeSeal(mds, uploadInfo, new Uint8Array(16), plain),
        }),
        'uploadUnsealable',
      );
    });

    void test('a plaintext that does not decode: its core code', async () => {
      const { thief, upload } = thiefUpload();
      await assertRefused(
        uploads.sealUpload(thief, upload, 'fields', { plaintext: encodeCbor([1, 2]) }),
        'fieldInvalid',
      );
      const truncated = encodeUpload(upload).subarray(0, 40);
      await assertRefused(
        uploads.sealUpload(thief, upload, 'truncated', { plaintext: truncated }),
        'cborMalformed',
      );
    });

    void test('an upload that disagrees with its claim, or whose SE is not certified: uploadMismatch', async () => {
      const { thief, upload } = thiefUpload();
      await assertRefused(
        uploads.sealUpload(thief, upload, 'counter', { claimCounter: 9 }),
        'uploadMismatch',
      );
      const fake = uploads.forge.compromisedSecureElement('phone', { issuer: uploads.forge.fakeDcp() });
      const [token] = uploads.forge.issue(fake.id, [50n]);
      await assertRefused(uploads.forgedUpload(fake, [token!], token!.history), 'uploadMismatch');
    });

    void test('the same plaintext sealed again under another digest: uploadReplayed', async () => {
      const { thief, upload } = thiefUpload();
      const first = uploads.sealUpload(thief, upload, 'first');
      await enclave.service.storeUpload(uploads.request(first));
      assert.equal(await enclave.service.ingestAll(10), 1);
      await assertRefused(uploads.sealUpload(thief, upload, 'again'), 'uploadReplayed');
    });

    void test('histories an honest SE never uploads: their core codes', async () => {
      const { thief, token } = uploads.fundedThief(300n);
      const receiver = uploads.forge.compromisedSecureElement('phone');
      const [paid] = uploads.forge.transfer(thief, [token], [{ value: 300n, owner: receiver.id }]);
      const transfer = paid!.history.at(-1)!;
      assert.ok(transfer.kind === 'transfer');
      await assertRefused(
        uploads.forgedUpload(receiver, [paid!], [transfer], [thief.certificate]),
        'historyIncomplete',
      );
      const badSignature = {
        ...transfer,
        signed: withSignature(transfer.signed, thief.signer.sign(purposes.transfer, utf8('x'))),
      };
      await assertRefused(
        uploads.forgedUpload(receiver, [], [...token.history, badSignature], [thief.certificate]),
        'signatureInvalid',
      );
      const [less] = uploads.forge.transfer(thief, [token], [{ value: 200n, owner: receiver.id }]);
      await assertRefused(
        uploads.forgedUpload(receiver, [less!], less!.history, [thief.certificate]),
        'transferNotConserving',
      );
      const [stolen] = uploads.forge.transfer(receiver, [token], [{ value: 300n, owner: receiver.id }]);
      await assertRefused(uploads.forgedUpload(receiver, [stolen!], stolen!.history), 'tokenNotOwned');
    });

    void test('storeUpload: bounds, a claim that binds another upload, and conflicts', async () => {
      const [good, other] = uploads.honest().uploads;
      const request = uploads.request(good!);
      const tooLong = new Uint8Array(sealedUploadBytesMax + 1);
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...request, sealed: tooLong })),
        'uploadBytesLimitExceeded',
      );
      const longClaim = new Uint8Array(claimBytesMax + 1);
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...request, claim: longClaim })),
        'uploadBytesLimitExceeded',
      );
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...request, claim: utf8('no cbor') })),
        'uploadClaimInvalid',
      );
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...request, sealed: other!.sealed })),
        'uploadClaimInvalid',
      );
      assert.equal((await enclave.service.storeUpload(request)).state, 'stored');
      const anotherDcp = toHex(uploads.pki.dcps[1]!.id);
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...request, dcpId: anotherDcp })),
        'uploadConflict',
      );
      assert.equal(
        await enclave.service.uploadStatus(anotherDcp, toHex(uploads.pki.verifier.sha256(good!.sealed))),
        undefined,
      );
      const { thief, upload } = thiefUpload();
      const sealed = uploads.sealUpload(thief, upload, 'reclaimed');
      const reclaimed = uploads.claimOver(thief, upload, sealed.sealed, {
        dcpNonce: new Uint8Array(16).fill(9),
      });
      await enclave.service.storeUpload(uploads.request(sealed));
      assert.equal(
        await refusalCode(enclave.service.storeUpload({ ...uploads.request(sealed), claim: reclaimed })),
        'uploadConflict',
      );
      await enclave.service.ingestAll(10);
    });

    void test('reports: counted once, issuanceNotOwn, reportConflict, reportItemsLimitExceeded, nothing written on refusal', async () => {
      const dcp = uploads.pki.dcp;
      const own = encodeSigned(dcp.issue('load', [{ value: 10n, owner: new Uint8Array(16) }]));
      const retirement = {
        tokenId: '22'.repeat(32),
        value: 10n,
        seId: '33'.repeat(16),
        uploadDigest: '44'.repeat(32),
        retiredAtMs: 5,
      };
      const report = { dcpId: uploads.dcpId, issuances: [own], retirements: [retirement] };
      assert.deepEqual(await enclave.service.recordReports(report), { issuances: 1, retirements: 1 });
      assert.deepEqual(await enclave.service.recordReports(report), { issuances: 0, retirements: 0 });
      const foreign = encodeSigned(
        uploads.pki.dcps[1]!.issue('load', [{ value: 10n, owner: new Uint8Array(16) }]),
      );
      const fresh = { ...retirement, tokenId: '55'.repeat(32) };
      assert.equal(
        await refusalCode(
          enclave.service.recordReports({ ...report, issuances: [foreign], retirements: [fresh] }),
        ),
        'issuanceNotOwn',
      );
      const forged = signBody(
        uploads.forge.fakeDcp(dcp.id).signer,
        purposes.issuance,
        dcp.issue('load', [{ value: 1n, owner: new Uint8Array(16) }]).body,
        issuanceBodyToCbor,
      );
      assert.equal(
        await refusalCode(enclave.service.recordReports({ ...report, issuances: [encodeSigned(forged)] })),
        'issuanceNotOwn',
      );
      assert.equal(
        await refusalCode(
          enclave.service.recordReports({
            ...report,
            issuances: [],
            retirements: [fresh, { ...retirement, value: 11n }],
          }),
        ),
        'reportConflict',
      );
      const many = Array.from({ length: reportItemsMax + 1 }, () => fresh);
      assert.equal(
        await refusalCode(enclave.service.recordReports({ ...report, retirements: many })),
        'reportItemsLimitExceeded',
      );
      // The refused reports wrote nothing: `fresh` is still new.
      assert.deepEqual(
        await enclave.service.recordReports({ ...report, issuances: [], retirements: [fresh] }),
        {
          issuances: 0,
          retirements: 1,
        },
      );
    });
  });
}
