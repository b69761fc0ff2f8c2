// What `cbdc start` keeps between runs in its data folder, beside the PKI and the services' databases:
// the API keys it made on the first start and which participants it has registered with them, so a
// restart reuses the same keys and registers nothing twice (kept-json.ts: atomic, mode 0600).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readKeptJson, writeKeptJson, type KeptFields } from './kept-json.ts';

export const systemStateFile = 'system.json';
const stateVersion = 1;

/** A DCP's keys: its ledger and directory participants' and its operator's. */
export interface DcpState {
  readonly ledgerKey: string;
  readonly operatorKey: string;
  /** The idempotency keys of its registrations: a retry after a crash replays the first answer. */
  readonly ledgerRegistrationKey: string;
  readonly directoryRegistrationKey: string;
  /** Set once the directory created the DCP's participant: the API key it answered. */
  readonly directoryKey: string | null;
  /** Set once the ledger created the DCP's participant. */
  readonly ledgerRegistered: boolean;
}

export interface SystemState {
  readonly version: number;
  readonly dcpNames: readonly string[];
  readonly ledgerOperatorKey: string;
  readonly directoryOperatorKey: string;
  readonly dcps: Readonly<Record<string, DcpState>>;
}

export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

/** A fresh state: new keys, nothing registered yet. */
export function freshSystemState(dcpNames: readonly string[]): SystemState {
  const dcps: Record<string, DcpState> = {};
  for (const name of dcpNames) {
    dcps[name] = {
      ledgerKey: newApiKey(),
      operatorKey: newApiKey(),
      ledgerRegistrationKey: newApiKey().slice(0, 32),
      directoryRegistrationKey: newApiKey().slice(0, 32),
      directoryKey: null,
      ledgerRegistered: false,
    };
  }
  return {
    version: stateVersion,
    dcpNames: [...dcpNames],
    ledgerOperatorKey: newApiKey(),
    directoryOperatorKey: newApiKey(),
    dcps,
  };
}

/** The state kept in `dataDirectory`, or undefined on a first start. Throws on a malformed file. */
export function readSystemState(dataDirectory: string): SystemState | undefined {
  const fields = readKeptJson(join(dataDirectory, systemStateFile), stateVersion);
  return fields === undefined ? undefined : decodeSystemState(fields);
}

export function writeSystemState(dataDirectory: string, state: SystemState): void {
  writeKeptJson(join(dataDirectory, systemStateFile), state);
}

function decodeSystemState(fields: KeptFields): SystemState {
  const { record } = fields;
  const names = record['dcpNames'];
  if (!Array.isArray(names)) return fields.fail('dcpNames must be an array');
  const dcpNames = names.map((name, index) => fields.text(name, `dcpNames[${index}]`));
  const dcpsRecord = fields.object(record['dcps'], 'dcps');
  const dcps: Record<string, DcpState> = {};
  for (const name of dcpNames) {
    const dcp = fields.object(dcpsRecord[name], `dcps.${name}`);
    const text = (field: string) => fields.text(dcp[field], `dcps.${name}.${field}`);
    const directoryKey = dcp['directoryKey'];
    const ledgerRegistered = dcp['ledgerRegistered'];
    dcps[name] = {
      ledgerKey: text('ledgerKey'),
      operatorKey: text('operatorKey'),
      ledgerRegistrationKey: text('ledgerRegistrationKey'),
      directoryRegistrationKey: text('directoryRegistrationKey'),
      directoryKey: directoryKey === null ? null : text('directoryKey'),
      ledgerRegistered:
        typeof ledgerRegistered === 'boolean'
          ? ledgerRegistered
          : fields.fail(`dcps.${name}.ledgerRegistered must be a boolean`),
    };
  }
  return {
    version: stateVersion,
    dcpNames,
    ledgerOperatorKey: fields.text(record['ledgerOperatorKey'], 'ledgerOperatorKey'),
    directoryOperatorKey: fields.text(record['directoryOperatorKey'], 'directoryOperatorKey'),
    dcps,
  };
}
