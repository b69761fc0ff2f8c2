// Queued credits in the DCPs' reports (src/mds/enclave/queued-credits.ts, docs/mds.md "Supply and
// settlement"), on both engines, through the enclave service: a credit a DCP reported queued counts
// as issued by it until the issuance that minted it is reported with its mint, and then only the
// issuance counts. Every order of the three reports (the credit, the issuance with its mint, the
// credit again) ends in the same figures; a report that contradicts what is recorded is refused and
// changes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import type { RecordReportsRequest, ReportedCredit } from '../../src/mds/channel/protocol.ts';
import { engines } from '../../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type ScratchEnclave } from '../../src/testing/mds-uploads.ts';

const seId = '0a'.repeat(16);
const otherSeId = '0b'.repeat(16);

/** Bank A's credit of 700 to the SE, and the credit issuance that mints it with a refund of 300. */
function reports(uploads: MdsUploads) {
  const dcp = uploads.pki.dcps[0]!;
  const owner = Uint8Array.from(Buffer.from(seId, 'hex'));
  const minted = dcp.issue('credit', [{ value: 700n, owner }]);
  const issuanceId = toHex(uploads.pki.verifier.sha256(minted.bodyBytes));
  const credit: ReportedCredit = { creditId: 'xfer:op1', seId, kind: 'credit', value: 700n, queuedAtMs: 5 };
  const queued: RecordReportsRequest = {
    dcpId: uploads.dcpId,
    issuances: [],
    retirements: [],
    credits: [credit],
  };
  const mint: RecordReportsRequest = {
    dcpId: uploads.dcpId,
    issuances: [encodeSigned(minted)],
    retirements: [],
    mints: [{ creditId: 'xfer:op1', issuanceId }],
  };
  const load = dcp.issue('load', [{ value: 50n, owner }]);
  return {
    credit,
    queued,
    mint,
    load: { envelope: encodeSigned(load), id: toHex(uploads.pki.verifier.sha256(load.bodyBytes)) },
    minted: encodeSigned(minted),
    issuanceId,
  };
}

async function figures(enclave: ScratchEnclave) {
  return (await enclave.service.supply()).dcps.map((dcp) => [dcp.issued, dcp.queued]);
}

/** Every order of the items. */
function orders<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    orders([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

for (const engine of engines) {
  void describe(`queued credits in the supply (${engine})`, () => {
    test('a queued credit is issued until its issuance is reported, then the issuance alone', async () => {
      const uploads = new MdsUploads();
      const { queued, mint } = reports(uploads);
      const enclave = await scratchEnclave(uploads, engine);
      try {
        await enclave.service.recordReports(queued);
        assert.deepEqual(await figures(enclave), [[700n, 700n]]);
        await enclave.service.recordReports(queued);
        assert.deepEqual(await figures(enclave), [[700n, 700n]], 'the same credit twice counts once');
        await enclave.service.recordReports(mint);
        assert.deepEqual(await figures(enclave), [[700n, 0n]], 'the issuance counts, never both');
        await enclave.service.recordReports(mint);
        await enclave.service.recordReports(queued);
        assert.deepEqual(await figures(enclave), [[700n, 0n]]);
      } finally {
        await enclave.close();
      }
    });

    test('every order of the credit, its issuance and a duplicate ends in the same figures', async () => {
      const uploads = new MdsUploads();
      const { queued, mint } = reports(uploads);
      const runs = orders([queued, mint, queued]);
      assert.equal(runs.length, 6);
      for (const run of runs) {
        const enclave = await scratchEnclave(uploads, engine);
        try {
          for (const report of run) await enclave.service.recordReports(report);
          assert.deepEqual(await figures(enclave), [[700n, 0n]]);
        } finally {
          await enclave.close();
        }
      }
    });

    test('a mint outside its report, of a load, or contradicting its credit is refused and changes nothing', async () => {
      const uploads = new MdsUploads();
      const { credit, queued, mint, load, minted } = reports(uploads);
      const enclave = await scratchEnclave(uploads, engine);
      const refusedWith = async (request: RecordReportsRequest, code: string) =>
        assert.rejects(enclave.service.recordReports(request), (error: unknown) => {
          assert.equal((error as { code?: string }).code, code);
          return true;
        });
      try {
        await enclave.service.recordReports(queued);
        const base = { dcpId: uploads.dcpId, retirements: [] };
        // The link travels with its issuance: alone, or naming a load, it is no mint.
        await refusedWith({ ...base, issuances: [], mints: mint.mints ?? [] }, 'reportMintInvalid');
        await refusedWith(
          { ...base, issuances: [load.envelope], mints: [{ creditId: 'xfer:op1', issuanceId: load.id }] },
          'reportMintInvalid',
        );
        await refusedWith(
          { ...base, issuances: [], credits: [{ ...credit, value: 701n }] },
          'reportConflict',
        );
        assert.deepEqual(await figures(enclave), [[700n, 700n]], 'nothing recorded by a refusal');
        // The credit is for one SE: an issuance of the same id paying another SE is not its mint.
        const stranger = uploads.pki.dcps[0]!.issue('credit', [
          { value: 700n, owner: Uint8Array.from(Buffer.from(otherSeId, 'hex')) },
        ]);
        await refusedWith(
          {
            ...base,
            issuances: [encodeSigned(stranger)],
            mints: [
              { creditId: 'xfer:op1', issuanceId: toHex(uploads.pki.verifier.sha256(stranger.bodyBytes)) },
            ],
          },
          'reportMintInvalid',
        );
        assert.deepEqual(await figures(enclave), [[700n, 700n]]);
        await enclave.service.recordReports({ ...base, issuances: [minted], mints: mint.mints ?? [] });
        assert.deepEqual(await figures(enclave), [[700n, 0n]]);
      } finally {
        await enclave.close();
      }
    });
  });
}
