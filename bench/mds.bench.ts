// MDS enclave ingest, one worker, on a SQLite file and on PostgreSQL: new transfers verified and
// merged per second (`mds.ingest.sqlite`, `mds.ingest.postgres`), with the single-core P-256 verify
// rate of the same run as `reference`; and raw HPKE opens per second of the same uploads
// (`mds.hpke.open`), the other fixed cost of an upload. The uploads come from honest phones paying
// shops (src/testing/mds-uploads.ts): each transfer's signature is verified once, when first merged.
import { purposes } from '../src/core/crypto.ts';
import { uploadInfo } from '../src/core/upload.ts';
import { hpkeOpen } from '../src/crypto/hpke.ts';
import { NodeSigner } from '../src/crypto/node-crypto.ts';
import { decodeClaim } from '../src/mds/enclave/open-upload.ts';
import { engines } from '../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave } from '../src/testing/mds-uploads.ts';
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

await main();
