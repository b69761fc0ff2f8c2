// `cbdc simulate --against DIR`: the services of a running `cbdc start` on the data folder DIR, as a
// `RunningSystem` the simulator drives instead of starting its own. The start writes where each
// service listens (addresses.json, beside system.json and its keys) once all answer, and removes it
// when it stops; connecting reads both, and stopping the connection stops nothing.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../core/bytes.ts';
import { loadPrincipal } from '../pki/deployment-pki.ts';
import { readKeptJson, writeKeptJson } from './kept-json.ts';
import type { RunningDcp, RunningSystem } from './launcher.ts';
import { readSystemState } from './state.ts';

export const addressesFile = 'addresses.json';
const addressesVersion = 1;

/** Written by `cbdc start` once every service answers. */
export function writeAddresses(dataDirectory: string, system: RunningSystem): void {
  writeKeptJson(join(dataDirectory, addressesFile), {
    version: addressesVersion,
    ledger: system.ledgerUrl,
    directory: system.directoryUrl,
    mds: system.mdsUrl,
    dcps: Object.fromEntries([...system.dcps.values()].map((dcp) => [dcp.name, dcp.url])),
  });
}

/** Removed by `cbdc start` when it stops: a connection then finds no running system. */
export function removeAddresses(dataDirectory: string): void {
  rmSync(join(dataDirectory, addressesFile), { force: true });
}

/** The running system of `dataDirectory`; throws a one-line reason when there is none. */
export function connectSystem(dataDirectory: string): RunningSystem {
  const path = join(dataDirectory, addressesFile);
  const state = readSystemState(dataDirectory);
  const fields = readKeptJson(path, addressesVersion);
  if (state === undefined || fields === undefined || !existsSync(path))
    throw new Error(`${dataDirectory} holds no running cbdc start (no ${addressesFile})`);
  const urls = fields.object(fields.record['dcps'], 'dcps');
  const pkiDirectory = join(dataDirectory, 'pki');
  const dcps = new Map<string, RunningDcp>();
  for (const name of state.dcpNames) {
    const kept = state.dcps[name];
    if (kept === undefined) return fields.fail(`system.json has no DCP ${name}`);
    const dcpId = toHex(loadPrincipal(pkiDirectory, `dcp-${name}.json`).certificate.body.subjectId);
    const url = fields.text(urls[name], `dcps.${name}`);
    dcps.set(name, { name, url, operatorKey: kept.operatorKey, dcpId });
  }
  return {
    pkiDirectory,
    created: false,
    ledgerUrl: fields.text(fields.record['ledger'], 'ledger'),
    ledgerOperatorKey: state.ledgerOperatorKey,
    directoryUrl: fields.text(fields.record['directory'], 'directory'),
    directoryOperatorKey: state.directoryOperatorKey,
    mdsUrl: fields.text(fields.record['mds'], 'mds'),
    mdsOperatorKey: state.mds.operatorKey,
    dcps,
    stop: () => Promise.resolve(),
  };
}
