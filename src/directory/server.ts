// The directory process: loads and verifies the deployment's trust file and the directory's key,
// opens and migrates the database, bootstraps the first operator key if one is given, publishes
// deny list version 0 if there is none, and serves the HTTP API. The composition root: the real
// clock, ids, crypto and key derivation live here.
import { bytesEqual } from '../core/bytes.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { loadPrincipal, loadTrust, principalSigner } from '../pki/deployment-pki.ts';
import { checkOperatorKey } from '../service-kit/api-key.ts';
import {
  randomIds,
  startServiceServer,
  systemClock,
  serverProcessOptions,
  type ServiceServer,
  type ServiceServerBaseOptions,
} from '../service-kit/server.ts';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import type { Clock, IdGenerator } from './domain/types.ts';
import {
  buildDirectoryApp,
  directoryService,
  type DirectoryApp,
  type DirectoryAppOptions,
} from './http/app.ts';
import { apiKeyDigest, apiKeyLength, derivedApiKeys } from './http/auth.ts';
import { directoryMigrations } from './store/migrations.ts';
import { SqlDirectoryStore } from './store/sql-store.ts';

export interface DirectoryServerOptions extends ServiceServerBaseOptions {
  /** A deployment PKI folder: `trust.json` and `directory.json` are read from it. */
  readonly pkiDir: string;
  readonly clock?: Clock;
}

export type DirectoryServer = ServiceServer<DirectoryApp>;

/** Everything but the store and logging, from a PKI folder: trust, key, key derivation. */
export function directoryParts(
  pkiDir: string,
  clock: Clock,
  ids: IdGenerator = randomIds,
): Omit<DirectoryAppOptions, 'store'> {
  const trust = loadTrust(pkiDir, Math.floor(clock.nowMs() / 1000));
  const principal = loadPrincipal(pkiDir, 'directory.json');
  if (!bytesEqual(principal.certificate.body.publicKey, trust.directory.body.publicKey)) {
    throw new RangeError(
      `${pkiDir}/directory.json does not hold the key of the directory certificate in trust.json`,
    );
  }
  return {
    clock,
    ids,
    apiKeys: derivedApiKeys(principal.privateKey),
    verifier: new NodeVerifier(),
    trust,
    signer: principalSigner(principal),
  };
}

export async function startDirectoryServer(options: DirectoryServerOptions): Promise<DirectoryServer> {
  const clock = options.clock ?? systemClock;
  // The trust file and the key are read first: a deployment error is reported before any database
  // is opened.
  const parts = directoryParts(options.pkiDir, clock);
  return await startServiceServer({
    name: 'directory',
    databaseUrl: options.databaseUrl,
    host: options.host,
    port: options.port,
    logLevel: options.logLevel,
    build: async (db, logger) => {
      const store = new SqlDirectoryStore(db);
      await prepareDirectoryDatabase(db, { ...parts, store }, options.operatorKey);
      return buildDirectoryApp({
        ...parts,
        store,
        ...serverProcessOptions(logger, options),
      });
    },
  });
}

/** Migrates, registers the bootstrap operator key if any, and makes sure a deny list is published. */
export async function prepareDirectoryDatabase(
  db: Database,
  options: DirectoryAppOptions,
  operatorKey?: string,
): Promise<void> {
  await migrate(db, directoryMigrations, options.clock.nowMs());
  const service = directoryService(options);
  if (operatorKey !== undefined) {
    checkOperatorKey(operatorKey, apiKeyLength);
    await service.bootstrapOperator(apiKeyDigest(operatorKey), 'central bank operator');
  }
  await service.ensureDenyList();
}
