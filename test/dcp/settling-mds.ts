// Test support for the DCP flow: a real MDS beside the world's ledger, directory and DCPs (its API
// process here, its enclave a forked process on its own database, as `cbdc serve mds` runs it), with a
// `settlement` participant on the ledger. Each DCP forwards its uploads and reports to it under its
// own MDS key; `settle` waits until the MDS has ingested everything forwarded, then runs settlement.
import { toHex } from '../../src/core/bytes.ts';
import type { CreatedPki } from '../../src/pki/deployment-pki.ts';
import type { DirectoryClient } from '../../src/directory/api/client.ts';
import type { LedgerClient } from '../../src/ledger/api/client.ts';
import { apiKeyDigest } from '../../src/ledger/http/auth.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import type { SettlementRun } from '../../src/mds/api/types.ts';
import { startEnclave } from '../../src/mds/channel/enclave-client.ts';
import { startMdsServer, type MdsServer } from '../../src/mds/server.ts';
import type { Engine } from '../../src/storage/database.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';

export interface SettlingMds {
  readonly server: MdsServer;
  readonly operator: MdsClient;
  /** Registers the DCP at the MDS; answers the options its server needs. */
  enrol(
    name: string,
  ): Promise<{ readonly mdsUrl: string; readonly mdsKey: string; readonly mdsForwardIntervalMs: number }>;
  /** Names the DCP's pool account for settlement. */
  setPool(name: string, accountId: string): Promise<void>;
  /** Waits until every upload forwarded so far is ingested, then runs a settlement under a fresh period. */
  settle(): Promise<SettlementRun>;
  close(): Promise<void>;
}

function newKey(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(24)));
}

export async function startSettlingMds(
  engine: Engine,
  pki: { readonly dir: string; readonly pki: CreatedPki },
  ledgerUrl: string,
  ledgerOperator: LedgerClient,
  directoryUrl: string,
  directoryOperator: DirectoryClient,
): Promise<SettlingMds> {
  const databases: ScratchDatabase[] = [
    await createScratchDatabase(engine, 'file'),
    await createScratchDatabase(engine, 'file'),
  ];
  const settlementKey = newKey();
  await ledgerOperator.createParticipant(newKey(), {
    name: 'MDS settlement',
    role: 'settlement',
    apiKeySha256: apiKeyDigest(settlementKey),
  });
  const directoryParticipant = await directoryOperator.createParticipant(newKey(), {
    name: 'MDS',
    role: 'mds',
  });
  const operatorKey = newKey();
  const server = await startMdsServer({
    databaseUrl: databases[0]!.url,
    enclaveDatabaseUrl: databases[1]!.url,
    host: '127.0.0.1',
    port: 0,
    pkiDir: pki.dir,
    startEnclave,
    directoryUrl,
    directoryKey: directoryParticipant.value.apiKey,
    operatorKey,
    logLevel: 'silent',
    settlement: { ledgerUrl, ledgerKey: settlementKey },
  });
  const operator = new MdsClient({ baseUrl: server.url, apiKey: operatorKey });
  const dcpIdOf = (name: string) => toHex(pki.pki.dcps.get(name)!.certificate.body.subjectId);
  let periods = 0;
  return {
    server,
    operator,
    enrol: async (name) => {
      const mdsKey = newKey();
      await operator.createParticipant(newKey(), {
        name: `DCP ${name}`,
        role: 'dcp',
        dcpId: dcpIdOf(name),
        apiKeySha256: apiKeyDigest(mdsKey),
      });
      return { mdsUrl: server.url, mdsKey, mdsForwardIntervalMs: 50 };
    },
    setPool: (name, accountId) => operator.setSettlementPool(dcpIdOf(name), accountId),
    settle: async () => {
      // The DCPs forward every 50 ms and the enclave ingests every 200 ms: wait for both to be idle.
      for (let attempt = 0; attempt < 100; attempt++) {
        const status = await operator.status();
        if (status.uploads.stored === 0 && attempt >= 10) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      periods++;
      return operator.settle(`test-${periods}`);
    },
    close: async () => {
      await server.close();
      for (const database of databases) await database.drop();
    },
  };
}
