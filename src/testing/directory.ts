// Test fixtures for the directory: a deployment PKI in a temporary folder, a migrated scratch
// database on either engine, an app with a manual clock and counting ids, participants of every
// role, SE certificates issued by the PKI's DCP keys, and helpers that go through the public API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type Bytes } from '../core/bytes.ts';
import { certificateBodyToCbor, type Certificate, type SecureElementKind } from '../core/certificate.ts';
import { purposes } from '../core/crypto.ts';
import { principalIdOf } from '../core/ids.ts';
import { encodeSigned, signBody } from '../core/signed.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import { createDeploymentPki, principalSigner, type CreatedPki } from '../pki/deployment-pki.ts';
import { ManualClock, call, countingIds, freshKey, newApiKey, testEpochSeconds } from './service-kit.ts';
import type { Database, Engine } from '../storage/database.ts';
import { openDatabase } from '../storage/open.ts';
import { createScratchDatabase } from './scratch.ts';
import { buildDirectoryApp, directoryService, type DirectoryApp } from '../directory/http/app.ts';
import { directoryParts, prepareDirectoryDatabase } from '../directory/server.ts';
import { SqlDirectoryStore } from '../directory/store/sql-store.ts';

// The shared test support (clock, ids, keys, `call`), with this service's fixtures below.
export * from './service-kit.ts';

export const daySeconds = 24 * 3600;

/** A deployment PKI with DCPs `bank-a` and `bank-b` in a temporary folder. */
export function testPki(nowSeconds = testEpochSeconds): {
  readonly dir: string;
  readonly pki: CreatedPki;
  readonly remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'cbdc-directory-pki-'));
  const pki = createDeploymentPki(dir, ['bank-a', 'bank-b'], nowSeconds);
  return {
    dir,
    pki,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An SE public key (fresh unless given) and its certificate from a DCP principal of the PKI (what a DCP's personalisation makes). */
export function issueSecureElement(
  pki: CreatedPki,
  dcpName: string,
  kind: SecureElementKind,
  options: { readonly nowSeconds?: number; readonly validSeconds?: number; readonly publicKey?: Bytes } = {},
): {
  readonly publicKey: Bytes;
  readonly certificate: Certificate;
  readonly seId: string;
  readonly hex: string;
} {
  const dcp = pki.dcps.get(dcpName);
  if (dcp === undefined) throw new RangeError(`no DCP ${dcpName}`);
  const now = options.nowSeconds ?? testEpochSeconds;
  const publicKey = options.publicKey ?? NodeSigner.generate().publicKey;
  const subjectId = principalIdOf(new NodeVerifier(), publicKey);
  const certificate = signBody(
    principalSigner(dcp),
    purposes.certificate,
    {
      role: kind,
      subjectId,
      publicKey,
      issuerId: dcp.certificate.body.subjectId,
      validFrom: now - 60,
      validUntil: now + (options.validSeconds ?? 365 * daySeconds),
      profile: 'standard',
    },
    certificateBodyToCbor,
  );
  return { publicKey, certificate, seId: toHex(subjectId), hex: toHex(encodeSigned(certificate)) };
}

export function dcpIdOf(pki: CreatedPki, dcpName: string): string {
  const dcp = pki.dcps.get(dcpName);
  if (dcp === undefined) throw new RangeError(`no DCP ${dcpName}`);
  return toHex(dcp.certificate.body.subjectId);
}

export interface DirectoryFixture {
  readonly app: DirectoryApp;
  readonly db: Database;
  readonly clock: ManualClock;
  readonly pki: CreatedPki;
  readonly pkiDir: string;
  readonly operatorKey: string;
  /** API keys of a participant per role: DCP bank-a, DCP bank-b, the MDS. */
  readonly dcpAKey: string;
  readonly dcpBKey: string;
  readonly mdsKey: string;
  /** What the process does every minute: drops expired idempotency answers (one bounded batch). */
  expireIdempotencyAnswers(): Promise<number>;
  close(): Promise<void>;
}

export interface DirectoryFixtureOptions {
  /** Process metrics on /metrics, as in a server process (off by default, as in tests). */
  readonly processMetrics?: boolean;
  readonly idempotencyRetentionMs?: number;
}

export async function directoryFixture(
  engine: Engine,
  options: DirectoryFixtureOptions = {},
): Promise<DirectoryFixture> {
  const { dir, pki, remove } = testPki();
  const scratch = await createScratchDatabase(engine);
  const db = openDatabase(scratch.url);
  const clock = new ManualClock();
  const operatorKey = newApiKey();
  const parts = directoryParts(dir, clock, countingIds());
  const store = new SqlDirectoryStore(db);
  await prepareDirectoryDatabase(db, { ...parts, store }, operatorKey);
  const retention =
    options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs };
  const app = await buildDirectoryApp({
    ...parts,
    store,
    processMetrics: options.processMetrics ?? false,
    ...retention,
  });
  const service = directoryService({ ...parts, store, ...retention });
  const participant = async (name: string, role: string, dcpId?: string): Promise<string> => {
    const created = await call(app, operatorKey, 'POST', '/v1/participants', {
      key: freshKey(),
      body: { name, role, ...(dcpId === undefined ? {} : { dcpId }) },
    });
    if (created.status !== 201) throw new Error(`participant: ${JSON.stringify(created.body)}`);
    return created.body['apiKey'] as string;
  };
  return {
    app,
    db,
    clock,
    pki,
    pkiDir: dir,
    operatorKey,
    dcpAKey: await participant('Bank A', 'dcp', dcpIdOf(pki, 'bank-a')),
    dcpBKey: await participant('Bank B', 'dcp', dcpIdOf(pki, 'bank-b')),
    mdsKey: await participant('MDS', 'mds'),
    expireIdempotencyAnswers: () => service.expireIdempotencyAnswers(),
    close: async () => {
      await app.close();
      await db.close();
      await scratch.drop();
      remove();
    },
  };
}
