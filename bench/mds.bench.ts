// MDS enclave ingest, one worker, on a SQLite file and on PostgreSQL: new transfers verified and
// merged per second (`mds.ingest.sqlite`, `mds.ingest.postgres`), with the single-core P-256 verify
// rate of the same run as `reference`; and raw HPKE opens per second of the same uploads
// (`mds.hpke.open`), the other fixed cost of an upload. The uploads come from honest phones paying
// shops (src/testing/mds-uploads.ts): each transfer's signature is verified once, when first merged.
// And the sync renewal check on SQLite (`mds.renewal-check.sqlite`): checks per second, each a fresh
// upload (stored, ingested, its claim's ancestry judged and the verdict signed), with the same
// reference; the DCPs' issuances reported first, as they are before a check.
import { purposes } from '../src/core/crypto.ts';
import { uploadInfo } from '../src/core/upload.ts';
import { hpkeOpen } from '../src/crypto/hpke.ts';
import { NodeSigner } from '../src/crypto/node-crypto.ts';
import { decodeClaim } from '../src/mds/enclave/open-upload.ts';
import { engines } from '../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type RelayedUpload } from '../src/testing/mds-uploads.ts';
import { toHex } from '../src/core/bytes.ts';
import { decodeCbor } from '../src/core/cbor.ts';
import { renewalVerdictFromCbor } from '../src/core/renewal-verdict.ts';
import { encodeSigned } from '../src/core/signed.ts';
import { decodeUpload } from '../src/core/upload.ts';
import { reportItemsMax } from '../src/mds/channel/protocol.ts';
import { opsPerSecond, report } from './report.ts';

const payersCount = 16;
const rounds = 12;

function verifyRate(): number {
  const signer = NodeSigner.generate();
  const message = new Uint8Array(200).fill(7);
  const signature = signer.sign(purposes.transfer, message);
  const uploads = new MdsUploads();
  return opsPerSecond(() => {
    uploads.pki.verifier.verify(signer.publicKey, purposes.transfer, message, signature);
  });
}

async function main(): Promise<void> {
  const uploads = new MdsUploads();
  const { uploads: relayed, transfers } = uploads.shops(payersCount, rounds);
  const reference = verifyRate();
  for (const engine of engines) {
    const enclave = await scratchEnclave(uploads, engine);
    try {
      for (const upload of relayed) await enclave.service.storeUpload(uploads.request(upload));
      const start = performance.now();
      await enclave.service.ingestAll(relayed.length);
      const seconds = (performance.now() - start) / 1000;
      report({
        name: `mds.ingest.${engine}`,
        value: transfers / seconds,
        unit: 'transfers/s',
        reference,
        referenceName: 'P-256 verifies/s, one core',
        uploads: relayed.length,
        transfers,
      });
    } finally {
      await enclave.close();
    }
  }
  await renewalChecks(reference);
  const keys = uploads.pki.mdsKeys;
  const sample = relayed[0]!;
  const seId = decodeClaim(sample.claim).body.seId;
  report({
    name: 'mds.hpke.open',
    value: opsPerSecond(() => {
      hpkeOpen(keys.privateKey, keys.publicKey, uploadInfo, seId, sample.sealed);
    }),
    unit: 'opens/s',
    bytes: sample.sealed.length,
  });
}

/** Every issuance in the uploads (opened here, as the DCPs' reports would carry them). */
function issuancesOf(uploads: MdsUploads, relayed: readonly RelayedUpload[]): Uint8Array[] {
  const found = new Map<string, Uint8Array>();
  for (const upload of relayed) {
    const claim = decodeClaim(upload.claim);
    const plaintext = uploads.crypto.open(claim.body.seId, upload.sealed);
    if (plaintext === undefined) throw new Error(`upload ${upload.label} does not open`);
    const opened = decodeUpload(plaintext);
    for (const entry of opened.entries)
      if (entry.kind === 'issuance') found.set(toHex(entry.signed.bodyBytes), encodeSigned(entry.signed));
  }
  return [...found.values()];
}

async function renewalChecks(reference: number): Promise<void> {
  const uploads = new MdsUploads();
  const { uploads: relayed, transfers } = uploads.shops(payersCount, rounds);
  const enclave = await scratchEnclave(uploads, 'sqlite');
  try {
    const issuances = issuancesOf(uploads, relayed);
    for (let start = 0; start < issuances.length; start += reportItemsMax)
      await enclave.service.recordReports({
        dcpId: uploads.dcpId,
        issuances: issuances.slice(start, start + reportItemsMax),
        retirements: [],
      });
    let backed = 0;
    const started = performance.now();
    for (const upload of relayed) {
      const answer = await enclave.service.checkRenewal(uploads.request(upload));
      if (renewalVerdictFromCbor(decodeCbor(answer.verdict)).body.backed) backed++;
    }
    const seconds = (performance.now() - started) / 1000;
    if (backed !== relayed.length) throw new Error(`${relayed.length - backed} honest checks said no`);
    report({
      name: 'mds.renewal-check.sqlite',
      value: relayed.length / seconds,
      unit: 'checks/s',
      reference,
      referenceName: 'P-256 verifies/s, one core',
      checks: relayed.length,
      transfers,
      sealedUploadBytes: Math.round(
        relayed.reduce((sum, upload) => sum + upload.sealed.length, 0) / relayed.length,
      ),
      prepared:
        'uploads sealed and issuances reported before timing; timed: checkRenewal (store, ingest, judge, sign)',
    });
  } finally {
    await enclave.close();
  }
}

await main();
