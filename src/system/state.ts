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
  /** The DCP's key at the MDS (it forwards uploads and reports with it), and its registration. */
  readonly mdsKey: string;
  readonly mdsRegistrationKey: string;
  readonly mdsRegistered: boolean;
}

/**
 * The MDS's keys: its operator's, its participant in the directory (to revoke blamed SEs), and its
 * ledger participant of role settlement (to move net amounts between DCP pools).
 */
export interface MdsState {
  readonly operatorKey: string;
  readonly directoryRegistrationKey: string;
  /** Set once the directory created the MDS's participant: the API key it answered. */
  readonly directoryKey: string | null;
  readonly ledgerKey: string;
  readonly ledgerRegistrationKey: string;
  /** Set once the ledger created the MDS's settlement participant. */
  readonly ledgerRegistered: boolean;
}

export interface SystemState {
  readonly version: number;
  readonly dcpNames: readonly string[];
  readonly ledgerOperatorKey: string;
  readonly directoryOperatorKey: string;
  readonly mds: MdsState;
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
      mdsKey: newApiKey(),
      mdsRegistrationKey: newApiKey().slice(0, 32),
      mdsRegistered: false,
    };
  }
  return {
    version: stateVersion,
    dcpNames: [...dcpNames],
    ledgerOperatorKey: newApiKey(),
    directoryOperatorKey: newApiKey(),
    mds: {
      operatorKey: newApiKey(),
      directoryRegistrationKey: newApiKey().slice(0, 32),
      directoryKey: null,
      ...newMdsLedgerKeys(),
    },
    dcps,
  };
}

function newMdsLedgerKeys(): Pick<MdsState, 'ledgerKey' | 'ledgerRegistrationKey' | 'ledgerRegistered'> {
  return { ledgerKey: newApiKey(), ledgerRegistrationKey: newApiKey().slice(0, 32), ledgerRegistered: false };
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
    const flag = (field: string): boolean => {
      const value = dcp[field];
      return typeof value === 'boolean' ? value : fields.fail(`dcps.${name}.${field} must be a boolean`);
    };
    dcps[name] = {
      ledgerKey: text('ledgerKey'),
      operatorKey: text('operatorKey'),
      ledgerRegistrationKey: text('ledgerRegistrationKey'),
      directoryRegistrationKey: text('directoryRegistrationKey'),
      directoryKey: directoryKey === null ? null : text('directoryKey'),
      ledgerRegistered: flag('ledgerRegistered'),
      mdsKey: text('mdsKey'),
      mdsRegistrationKey: text('mdsRegistrationKey'),
      mdsRegistered: flag('mdsRegistered'),
    };
  }
  const mds = fields.object(record['mds'], 'mds');
  const mdsDirectoryKey = mds['directoryKey'];
  return {
    version: stateVersion,
    dcpNames,
    mds: {
      operatorKey: fields.text(mds['operatorKey'], 'mds.operatorKey'),
      directoryRegistrationKey: fields.text(mds['directoryRegistrationKey'], 'mds.directoryRegistrationKey'),
      directoryKey: mdsDirectoryKey === null ? null : fields.text(mdsDirectoryKey, 'mds.directoryKey'),
      // A data folder from before the MDS kept its ledger key registers one key more, once.
      ...(mds['ledgerKey'] === undefined
        ? newMdsLedgerKeys()
        : {
            ledgerKey: fields.text(mds['ledgerKey'], 'mds.ledgerKey'),
            ledgerRegistrationKey: fields.text(mds['ledgerRegistrationKey'], 'mds.ledgerRegistrationKey'),
            ledgerRegistered: mds['ledgerRegistered'] === true,
          }),
    },
    ledgerOperatorKey: fields.text(record['ledgerOperatorKey'], 'ledgerOperatorKey'),
    directoryOperatorKey: fields.text(record['directoryOperatorKey'], 'directoryOperatorKey'),
    dcps,
  };
}
