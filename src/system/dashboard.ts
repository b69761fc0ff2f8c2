// The monitoring room as `cbdc start` runs it (docs/dashboard.md): the MDS participants a demo needs
// to sign in as each of its roles (an analyst, an economist, an auditor; the operators' keys are in
// system.json already), registered once and kept in the data folder's dashboard-keys.json (0600,
// like system.json); the page built from src/web/; and its server, which reaches the services only
// through the thin proxy of dashboard-server.ts.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MdsClient } from '../mds/api/client.ts';
import type { MdsRole } from '../mds/api/types.ts';
import { buildDashboard } from './dashboard-build.ts';
import { startDashboardServer, type RunningDashboard } from './dashboard-server.ts';
import { readKeptJson, writeKeptJson } from './kept-json.ts';
import type { RunningSystem } from './launcher.ts';
import { newApiKey } from './state.ts';

export const dashboardKeysFile = 'dashboard-keys.json';
const keysVersion = 1;

/** The MDS roles a person in the monitoring room signs in as, besides the operator. */
export const dashboardRoles = ['analyst', 'economist', 'auditor'] as const satisfies readonly MdsRole[];
export type DashboardRole = (typeof dashboardRoles)[number];

export type DashboardKeys = Readonly<Record<DashboardRole, string>>;

interface KeptKeys {
  readonly keys: DashboardKeys;
  /** The idempotency key of each registration: a retry after a crash replays the first answer. */
  readonly registrationKeys: DashboardKeys;
  readonly registered: boolean;
}

function freshKeys(): KeptKeys {
  const keys = { analyst: newApiKey(), economist: newApiKey(), auditor: newApiKey() };
  const registrationKeys = {
    analyst: newApiKey().slice(0, 32),
    economist: newApiKey().slice(0, 32),
    auditor: newApiKey().slice(0, 32),
  };
  return { keys, registrationKeys, registered: false };
}

function readKeys(dataDirectory: string): KeptKeys | undefined {
  const fields = readKeptJson(join(dataDirectory, dashboardKeysFile), keysVersion);
  if (fields === undefined) return undefined;
  const keys = fields.object(fields.record['keys'], 'keys');
  const registrationKeys = fields.object(fields.record['registrationKeys'], 'registrationKeys');
  const registered = fields.record['registered'];
  const read = (record: Readonly<Record<string, unknown>>, name: string) => ({
    analyst: fields.text(record['analyst'], `${name}.analyst`),
    economist: fields.text(record['economist'], `${name}.economist`),
    auditor: fields.text(record['auditor'], `${name}.auditor`),
  });
  if (typeof registered !== 'boolean') return fields.fail('registered must be a boolean');
  return {
    keys: read(keys, 'keys'),
    registrationKeys: read(registrationKeys, 'registrationKeys'),
    registered,
  };
}

/** The analyst's, economist's and auditor's MDS keys, registered once per data folder. */
export async function dashboardKeys(system: RunningSystem, dataDirectory: string): Promise<DashboardKeys> {
  const path = join(dataDirectory, dashboardKeysFile);
  const kept = readKeys(dataDirectory) ?? freshKeys();
  if (!kept.registered) {
    writeKeptJson(path, { version: keysVersion, ...kept });
    const operator = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
    for (const role of dashboardRoles) {
      await operator.createParticipant(kept.registrationKeys[role], {
        name: `dashboard ${role}`,
        role,
        apiKeySha256: createHash('sha256').update(kept.keys[role], 'utf8').digest('hex'),
      });
    }
    writeKeptJson(path, { version: keysVersion, ...kept, registered: true });
  }
  return kept.keys;
}

/** Builds the page into the data folder and serves it, its proxy reaching every service of `system`. */
export async function startDashboard(
  system: RunningSystem,
  dataDirectory: string,
  port: number,
): Promise<RunningDashboard> {
  const staticDirectory = join(dataDirectory, 'dashboard');
  await buildDashboard(staticDirectory);
  const targets = new Map<string, string>([
    ['mds', system.mdsUrl],
    ['directory', system.directoryUrl],
    ['ledger', system.ledgerUrl],
  ]);
  for (const dcp of system.dcps.values()) targets.set(`dcp-${dcp.name}`, dcp.url);
  const dcps = [...system.dcps.values()].map((dcp) => ({ name: dcp.name, dcpId: dcp.dcpId }));
  return await startDashboardServer({ staticDirectory, targets, description: { dcps }, port });
}
