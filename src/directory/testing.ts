// Test fixtures for the directory: a deployment PKI in a temporary folder, a migrated scratch
// database on either engine, an app with a manual clock and counting ids, participants of every
// role, SE certificates issued by the PKI's DCP keys, and helpers that go through the public API.
import { randomBytes } from 'node:crypto';
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
import type { Database, Engine } from '../storage/database.ts';
import { openDatabase } from '../storage/open.ts';
import { createScratchDatabase } from '../storage/scratch.ts';
import type { Clock, IdGenerator } from './domain/types.ts';
import { buildDirectoryApp, type DirectoryApp } from './http/app.ts';
import { directoryParts, prepareDirectoryDatabase } from './server.ts';
import { SqlDirectoryStore } from './store/sql-store.ts';

/** Test time: 2030-01-01T00:00:00Z. */
export const testEpochSeconds = 1_893_456_000;
export const daySeconds = 24 * 3600;

export class ManualClock implements Clock {
  constructor(public now = testEpochSeconds * 1000) {}
  nowMs(): number {
    return this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
  get seconds(): number {
    return Math.floor(this.now / 1000);
  }
}

export function countingIds(): IdGenerator {
  let next = 0;
  return { next: (prefix) => `${prefix}_${(++next).toString().padStart(8, '0')}` };
}

export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

let keys = 0;
/** A fresh idempotency key. */
export function freshKey(): string {
  return `k-${process.pid}-${++keys}-${randomBytes(4).toString('hex')}`;
}

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

export interface CallResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly replayed: boolean;
}

/** One request through `inject`. `key` sets the Idempotency-Key header; `apiKey` null sends none. */
export async function call(
  app: DirectoryApp,
  apiKey: string | null,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  options: { readonly body?: unknown; readonly key?: string; readonly rawBody?: string } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = {};
  if (apiKey !== null) headers['authorization'] = `Bearer ${apiKey}`;
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  if (options.body !== undefined || options.rawBody !== undefined)
    headers['content-type'] = 'application/json';
  const response = await app.inject({
    method,
    url,
    headers,
    ...(options.rawBody !== undefined
      ? { payload: options.rawBody }
      : options.body !== undefined
        ? { payload: JSON.stringify(options.body) }
        : {}),
  });
  return {
    status: response.statusCode,
    body: response.json<Record<string, unknown>>(),
    replayed: response.headers['idempotent-replayed'] === 'true',
  };
}

export function errorCode(result: CallResult): string | undefined {
  const error = result.body['error'] as { code?: string } | undefined;
  return error?.code;
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
  close(): Promise<void>;
}

export async function directoryFixture(engine: Engine): Promise<DirectoryFixture> {
  const { dir, pki, remove } = testPki();
  const scratch = await createScratchDatabase(engine);
  const db = openDatabase(scratch.url);
  const clock = new ManualClock();
  const operatorKey = newApiKey();
  const parts = directoryParts(dir, clock, countingIds());
  const store = new SqlDirectoryStore(db);
  await prepareDirectoryDatabase(db, { ...parts, store }, operatorKey);
  const app = await buildDirectoryApp({ ...parts, store });
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
    close: async () => {
      await app.close();
      await db.close();
      await scratch.drop();
      remove();
    },
  };
}
