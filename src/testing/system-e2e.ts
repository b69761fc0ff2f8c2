// Test support for the end-to-end tests that start the whole system as real processes
// (src/system/launcher.ts: ledger, directory, MDS API and enclave, one DCP per name, SQLite files) in
// a scratch folder, and for what they ask of it: a participant of a role at the MDS, the SE id a
// device reports, and how long the background tasks may take to settle what a test did.
// Test support only: no product module imports src/testing/ (import-rules.test.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../core/bytes.ts';
import { key } from '../demo/economy.ts';
import type { Device } from '../device/device.ts';
import { MdsClient } from '../mds/api/client.ts';
import type { MdsRole } from '../mds/api/types.ts';
import { newApiKey, startSystem, type RunningSystem, type SystemOptions } from '../system/launcher.ts';
import { eventually } from './eventually.ts';

/** The two DCPs of every end-to-end test: offline value crosses them. */
export const e2eDcpNames = ['bank-a', 'bank-b'] as const;

export interface ScratchSystem {
  readonly system: RunningSystem;
  /** Stops every process, then removes the folder. */
  readonly stop: () => Promise<void>;
}

/** The system on a fresh temporary folder (`cbdc-<label>-…`), with the two DCPs unless told. */
export async function startScratchSystem(
  label: string,
  options: Partial<SystemOptions> = {},
): Promise<ScratchSystem> {
  const dataDirectory = mkdtempSync(join(tmpdir(), `cbdc-${label}-`));
  const system = await startSystem({ dcpNames: e2eDcpNames, ...options, dataDirectory });
  return {
    system,
    stop: async () => {
      await system.stop();
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/**
 * A new participant of `role` at the MDS, registered by its operator as docs/mds.md says: the
 * participant makes its key and gives only its SHA-256. Returns the participant's client.
 */
export async function mdsParticipant(system: RunningSystem, role: MdsRole): Promise<MdsClient> {
  const operator = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
  const apiKey = newApiKey();
  await operator.createParticipant(key(), {
    name: role,
    role,
    apiKeySha256: createHash('sha256').update(apiKey, 'utf8').digest('hex'),
  });
  return new MdsClient({ baseUrl: system.mdsUrl, apiKey });
}

/** The SE id the device's chip reports (GET DATA), as the MDS and the directory print it. */
export function seIdOf(device: Device): string {
  return toHex(device.client().getData().seId);
}

/**
 * Waits until the MDS has ingested `uploads` sealed uploads (every renewal's, forwarded by its DCP)
 * and refused none: after that, the alerts listed are all that the test's traffic raises.
 */
export async function ingested(system: RunningSystem, uploads: number): Promise<void> {
  const operator = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
  await eventually(`${uploads} uploads ingested`, async () => {
    const counts = (await operator.status()).uploads;
    if (counts.refused !== 0) throw new Error(`the MDS refused ${counts.refused} uploads`);
    return counts.ingested >= uploads && counts.stored === 0 ? true : undefined;
  });
}
