// MDS enclave ingest: new transfers verified and merged per second, with the single-core P-256 verify
// rate of the same run as `reference` (docs/mds.md, "Enclave"):
//   - `mds.ingest.sqlite`, `mds.ingest.postgres`: one worker, in this process;
//   - `mds.ingest.postgres.1worker.process`, `mds.ingest.postgres.2workers`: enclave processes
//     (src/mds/enclave/main.ts, as `cbdc serve mds` starts them) on one PostgreSQL database, one
//     process or two, each with one worker taking batches of uploads with `FOR UPDATE SKIP LOCKED`,
//     timed from the uploads' commit to the last ingested (the bench polls every 5 ms); the second
//     line's `ratio1` is its rate over the first's (target ≥ 1.6);
//   - `mds.renewal-check.sqlite`: sync renewal checks per second, each a fresh upload (stored,
//     ingested, its claim's ancestry judged and the verdict signed), the DCPs' issuances reported
//     first, as they are before a check;
//   - `mds.hpke.open`: raw HPKE opens per second of the same uploads, the other fixed cost, with the
//     key held as ingest holds it (`oneShot`: `hpkeOpen`, which derives the public key every time).
// The uploads come from honest phones paying shops (src/testing/mds-uploads.ts): each transfer is in
// its payer's and its payee's upload, and verified once, when first merged. The in-process figures
// also give the work ingest did, counted in one more (untimed) run and independent of the machine's
// load: `verifications` (every signature: claims, SE certificates, transfers, issuances) and
// `hashes`; `transfers / verifications` bounds the ratio that verifying alone, on one core, allows. Each figure is the best
// of `runsPerFigure` runs after one warm-up run (the JIT compiles ingest's code on the first), and
// the reference is measured just before each run: on a machine shared with other work, the ratio is
// the figure to read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { purposes } from '../src/core/crypto.ts';
import { uploadInfo } from '../src/core/upload.ts';
import { hpkeOpen, hpkeOpener } from '../src/crypto/hpke.ts';
import { NodeSigner } from '../src/crypto/node-crypto.ts';
import { startEnclave } from '../src/mds/channel/enclave-client.ts';
import { enclaveMigrations } from '../src/mds/enclave/migrations.ts';
import { decodeClaim } from '../src/mds/enclave/open-upload.ts';
import { EnclaveTables, insertUpload } from '../src/mds/enclave/store.ts';
import { ingestBatchUploadsMax } from '../src/mds/enclave/service.ts';
import { toHex } from '../src/core/bytes.ts';
import { migrate } from '../src/storage/migrations.ts';
import { openDatabase } from '../src/storage/open.ts';
import { createScratchDatabase, engines } from '../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type RelayedUpload } from '../src/testing/mds-uploads.ts';
import { decodeCbor } from '../src/core/cbor.ts';
import { renewalVerdictFromCbor } from '../src/core/renewal-verdict.ts';
import { encodeSigned } from '../src/core/signed.ts';
import { decodeUpload } from '../src/core/upload.ts';
import { reportItemsMax } from '../src/mds/channel/protocol.ts';
import { opsPerSecond, report } from './report.ts';

const payersCount = 32;
const rounds = 8;
const runsPerFigure = 3;
/** How often the bench asks the enclave processes whether every upload is ingested. */
const statusPollMs = 5;

function verifyRate(): number {
  const signer = NodeSigner.generate();
  const message = new Uint8Array(200).fill(7);
  const signature = signer.sign(purposes.transfer, message);
  const uploads = new MdsUploads();
  return opsPerSecond(() => {
    uploads.pki.verifier.verify(signer.publicKey, purposes.transfer, message, signature);
  });
}

interface Figure {
  readonly seconds: number;
  readonly reference: number;
}

/** Runs `measure` once to warm up, then `runsPerFigure` times; the fastest run and the best reference. */
async function best(measure: () => Promise<number>): Promise<Figure> {
  await measure();
  let seconds = Infinity;
  let reference = 0;
  for (let run = 0; run < runsPerFigure; run++) {
    reference = Math.max(reference, verifyRate());
    seconds = Math.min(seconds, await measure());
  }
  return { seconds, reference };
}

async function inProcess(
  uploads: MdsUploads,
  relayed: readonly RelayedUpload[],
  engine: 'sqlite' | 'postgres',
) {
  const enclave = await scratchEnclave(uploads, engine);
  try {
    for (const upload of relayed) await enclave.service.storeUpload(uploads.request(upload));
    const start = performance.now();
    await enclave.service.ingestAll(relayed.length);
    return (performance.now() - start) / 1000;
  } finally {
    await enclave.close();
  }
}

/**
 * `processes` enclave processes on one fresh PostgreSQL database, started idle; then every upload is
 * stored in one transaction (as the API process would have stored them, one by one, beforehand).
 * Seconds from that commit to the last upload ingested: ingest alone, as the workers see it.
 */
async function inProcesses(uploads: MdsUploads, relayed: readonly RelayedUpload[], processes: number) {
  const pkiDirectory = mkdtempSync(join(tmpdir(), 'mds-bench-pki-'));
  uploads.writePkiDirectory(pkiDirectory);
  const scratch = await createScratchDatabase('postgres');
  const database = openDatabase(scratch.url);
  await migrate(database, enclaveMigrations, 0);
  const enclaves = await Promise.all(
    Array.from({ length: processes }, () =>
      startEnclave({ databaseUrl: scratch.url, pkiDirectory, workers: 1, pollMs: 2 }),
    ),
  );
  try {
    const tables = new EnclaveTables('postgres');
    await database.transaction(async (tx) => {
      for (const upload of relayed) {
        const claim = decodeClaim(upload.claim).body;
        await insertUpload(tx, tables, {
          digest: toHex(uploads.pki.verifier.sha256(upload.sealed)),
          dcpId: uploads.dcpId,
          claim: upload.claim,
          sealed: upload.sealed,
          seId: toHex(claim.seId),
          counter: claim.counter,
          receivedAtMs: 1_000,
        });
      }
    });
    const start = performance.now();
    for (;;) {
      const status = await enclaves[0]!.status();
      if (status.uploads.ingested + status.uploads.refused === relayed.length) {
        if (status.uploads.refused !== 0) throw new Error('an honest upload was refused');
        return (performance.now() - start) / 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, statusPollMs));
    }
  } finally {
    await Promise.all(enclaves.map((enclave) => enclave.close()));
    await database.close();
    await scratch.drop();
    rmSync(pkiDirectory, { recursive: true, force: true });
  }
}

function reportIngest(name: string, figure: Figure, transfers: number, uploads: number, extra = {}): number {
  const value = transfers / figure.seconds;
  report({
    name,
    value,
    unit: 'transfers/s',
    reference: figure.reference,
    referenceName: 'P-256 verifies/s, one core',
    uploads,
    transfers,
    batchUploadsMax: ingestBatchUploadsMax,
    ...extra,
  });
  return value;
}

/** The signatures verified and hashes taken by one in-process ingest of `relayed`. */
async function workOf(uploads: MdsUploads, relayed: readonly RelayedUpload[], engine: 'sqlite' | 'postgres') {
  const { crypto, counts } = uploads.countingCrypto();
  const enclave = await scratchEnclave(uploads, engine, { crypto });
  try {
    for (const upload of relayed) await enclave.service.storeUpload(uploads.request(upload));
    const stored = { verifications: counts.verifications, hashes: counts.hashes };
    await enclave.service.ingestAll(relayed.length);
    return {
      verifications: counts.verifications - stored.verifications,
      hashes: counts.hashes - stored.hashes,
    };
  } finally {
    await enclave.close();
  }
}

async function main(): Promise<void> {
  const uploads = new MdsUploads();
  const { uploads: relayed, transfers } = uploads.shops(payersCount, rounds);
  for (const engine of engines) {
    const figure = await best(() => inProcess(uploads, relayed, engine));
    reportIngest(
      `mds.ingest.${engine}`,
      figure,
      transfers,
      relayed.length,
      await workOf(uploads, relayed, engine),
    );
  }
  const one = await best(() => inProcesses(uploads, relayed, 1));
  const oneRate = reportIngest('mds.ingest.postgres.1worker.process', one, transfers, relayed.length);
  const two = await best(() => inProcesses(uploads, relayed, 2));
  const twoRate = transfers / two.seconds;
  reportIngest('mds.ingest.postgres.2workers', two, transfers, relayed.length, {
    ratio1: Math.round((twoRate / oneRate) * 100) / 100,
  });
  await renewalChecks(verifyRate());
  const keys = uploads.pki.mdsKeys;
  const sample = relayed[0]!;
  const seId = decodeClaim(sample.claim).body.seId;
  const open = hpkeOpener(keys.privateKey, keys.publicKey);
  report({
    name: 'mds.hpke.open',
    value: opsPerSecond(() => {
      open(uploadInfo, seId, sample.sealed);
    }),
    unit: 'opens/s',
    bytes: sample.sealed.length,
    // What ingest pays (hpkeOpener keeps the key); hpkeOpen, one shot, derives the public key again.
    oneShot: opsPerSecond(() => {
      hpkeOpen(keys.privateKey, keys.publicKey, uploadInfo, seId, sample.sealed);
    }),
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
