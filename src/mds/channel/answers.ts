// The API process's decoders of the enclave's answers, one per method (docs/mds.md, "Enclave"): an
// answer that does not decode is treated as the enclave being unavailable, with the field named.
import { mdsError, type MdsErrorCode } from '../api/errors.ts';
import type { CoreErrorCode } from '../../core/errors.ts';
import {
  bytesField,
  digestHexLength,
  hexField,
  isRefusalCode,
  principalHexLength,
  record,
  safeIntegerField,
} from './codec.ts';
import type {
  AlertKind,
  AlertsPage,
  DenyListCounts,
  EnclaveAlert,
  EnclaveStatus,
  EvidenceItem,
  ReportCounts,
  UploadState,
  UploadStatus,
} from './protocol.ts';
import { alertsPageMax } from './protocol.ts';

export const uploadStateNames: readonly UploadState[] = ['stored', 'ingested', 'refused'];
export const alertKindNames: readonly AlertKind[] = [
  'doubleSpend',
  'fakeFunding',
  'counterReuse',
  'unknownSigner',
  'revokedSigner',
];
/** Bound on the evidence of one alert as it crosses: a page of alerts' worth of entries. */
export const evidenceItemsMax = 4096;

function oneOf<const T extends string>(value: unknown, field: string, names: readonly T[]): T {
  const found = names.find((name) => name === value);
  if (found === undefined)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be one of ${names.join(', ')}`);
  return found;
}

function nonNegativeBigint(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint' || value < 0n)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be a bigint ≥ 0`);
  return value;
}

/** Runs a decoder; a decoding error becomes `mdsEnclaveUnavailable` naming the field. */
export function decodedOrUnavailable<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'mdsEnclaveUnavailable') throw error;
    throw mdsError(
      'mdsEnclaveUnavailable',
      `the enclave's answer does not decode: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function decodeUploadStatus(value: unknown, field = 'uploadStatus'): UploadStatus {
  const r = record(value, field);
  const refusal = r['refusal'];
  let code: MdsErrorCode | CoreErrorCode | null = null;
  if (refusal !== null) {
    if (typeof refusal !== 'string' || !isRefusalCode(refusal))
      throw mdsError('mdsEnclaveUnavailable', `answer ${field}.refusal must be null or an MDS or core code`);
    code = refusal;
  }
  return {
    digest: hexField(r['digest'], `${field}.digest`, digestHexLength),
    state: oneOf(r['state'], `${field}.state`, uploadStateNames),
    refusal: code,
  };
}

export function decodeDenyListCounts(value: unknown): DenyListCounts {
  const r = record(value, 'denyListCounts');
  return {
    version: safeIntegerField(r['version'], 'denyListCounts.version'),
    denied: safeIntegerField(r['denied'], 'denyListCounts.denied'),
  };
}

export function decodeReportCounts(value: unknown): ReportCounts {
  const r = record(value, 'reportCounts');
  return {
    issuances: safeIntegerField(r['issuances'], 'reportCounts.issuances'),
    retirements: safeIntegerField(r['retirements'], 'reportCounts.retirements'),
  };
}

function decodeAlert(value: unknown, field: string): EnclaveAlert {
  const r = record(value, field);
  return {
    id: hexField(r['id'], `${field}.id`, digestHexLength),
    kind: oneOf(r['kind'], `${field}.kind`, alertKindNames),
    seId: hexField(r['seId'], `${field}.seId`, principalHexLength),
    value: nonNegativeBigint(r['value'], `${field}.value`),
    raisedAtMs: safeIntegerField(r['raisedAtMs'], `${field}.raisedAtMs`),
    evidenceCount: safeIntegerField(r['evidenceCount'], `${field}.evidenceCount`),
    sequence: safeIntegerField(r['sequence'], `${field}.sequence`),
  };
}

export function decodeAlertsPage(value: unknown): AlertsPage {
  const r = record(value, 'alertsPage');
  const alerts = r['alerts'];
  if (!Array.isArray(alerts) || alerts.length > alertsPageMax)
    throw mdsError(
      'mdsEnclaveUnavailable',
      `answer alertsPage.alerts must be a list of at most ${alertsPageMax}`,
    );
  return {
    alerts: (alerts as unknown[]).map((alert, index) => decodeAlert(alert, `alertsPage.alerts[${index}]`)),
    sequence: safeIntegerField(r['sequence'], 'alertsPage.sequence'),
  };
}

export function decodeEvidence(value: unknown): readonly EvidenceItem[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > evidenceItemsMax)
    throw mdsError('mdsEnclaveUnavailable', `answer evidence must be a list of at most ${evidenceItemsMax}`);
  return (value as unknown[]).map((item, index) => {
    const r = record(item, `evidence[${index}]`);
    return {
      entryId: hexField(r['entryId'], `evidence[${index}].entryId`, digestHexLength),
      kind: oneOf(r['kind'], `evidence[${index}].kind`, ['transfer', 'issuance'] as const),
      entry: bytesField(r['entry'], `evidence[${index}].entry`),
    };
  });
}

export function decodeStatus(value: unknown): EnclaveStatus {
  const r = record(value, 'status');
  const uploads = record(r['uploads'], 'status.uploads');
  const alerts = record(r['alerts'], 'status.alerts');
  const count = (from: Readonly<Record<string, unknown>>, name: string, field: string) =>
    safeIntegerField(from[name], `${field}.${name}`);
  return {
    uploads: Object.fromEntries(
      uploadStateNames.map((state) => [state, count(uploads, state, 'status.uploads')]),
    ) as Record<UploadState, number>,
    alerts: Object.fromEntries(
      alertKindNames.map((kind) => [kind, count(alerts, kind, 'status.alerts')]),
    ) as Record<AlertKind, number>,
  };
}
