// Strict decoders for the MDS's answers, for `client.ts`. A field that does not decode names itself in
// an `mdsAnswerInvalid` error (`answer.digest is not 64 lowercase hex digits`): the client never
// passes on a value it did not check. Imports nothing but core, the MDS's catalogue and the shared
// readers (src/http-client/answer-decode.ts).
import { fromHex, type Bytes } from '../../core/bytes.ts';
import { coreErrors, isCbdcError, type CoreErrorCode } from '../../core/errors.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { renewalVerdictFromCbor, type RenewalVerdict } from '../../core/renewal-verdict.ts';
import { answerDecoders, type Fields } from '../../http-client/answer-decode.ts';
import { isMdsErrorCode, mdsError, type MdsErrorCode } from './errors.ts';
import {
  alertKinds,
  alertStatuses,
  mdsRoles,
  uploadStates,
  type AlertEvidence,
  type AlertKind,
  type AlertsPage,
  type AlertStatus,
  type AuditEntry,
  type AuditPage,
  type AuditVerification,
  type EvidenceItem,
  type MdsAlert,
  type MdsParticipant,
  type MdsStatus,
  type ReportCounts,
  type UploadAcknowledgement,
  type UploadState,
  type UploadStatus,
} from './types.ts';

const decoders = answerDecoders((detail) => mdsError('mdsAnswerInvalid', detail));
export const { field } = decoders;
export const { object, invalid, text, textOrNull, oneOf, count, id } = decoders;

const digestPattern = /^[0-9a-f]{64}$/;
const idPattern = /^[0-9a-f]{32}$/;
/** Decimal minor units, at most 20 digits (amounts fit in 64 bits), no sign, no leading zero. */
const amountPattern = /^(0|[1-9][0-9]{0,19})$/;
/** Hex of a non-empty byte string, lowercase, whole bytes. */
const hexPattern = /^(?:[0-9a-f]{2})+$/;

export function digest(fields: Fields, name: string, path: string): string {
  const value = text(fields, name, path);
  if (!digestPattern.test(value)) throw invalid(`${path}.${name}`, '64 lowercase hex digits');
  return value;
}

export function amount(fields: Fields, name: string, path: string): bigint {
  const value = text(fields, name, path);
  if (!amountPattern.test(value)) throw invalid(`${path}.${name}`, 'a decimal amount of minor units');
  return BigInt(value);
}

function bytes(fields: Fields, name: string, path: string): Bytes {
  const value = text(fields, name, path);
  const decoded = hexPattern.test(value) ? fromHex(value) : undefined;
  if (decoded === undefined) throw invalid(`${path}.${name}`, 'lowercase hex bytes');
  return decoded;
}

export function countOrNull(fields: Fields, name: string, path: string): number | null {
  return fields[name] === null ? null : count(fields, name, path);
}

export function array(fields: Fields, name: string, path: string, max: number): readonly unknown[] {
  const value = fields[name];
  if (!Array.isArray(value)) throw invalid(`${path}.${name}`, 'an array');
  if (value.length > max) throw invalid(`${path}.${name}`, `at most ${max} items`);
  return value;
}

/** A recorded refusal: a code of the MDS catalogue or of core (docs/mds.md, "Errors"), or null. */
function refusalCode(fields: Fields, name: string, path: string): MdsErrorCode | CoreErrorCode | null {
  const value = textOrNull(fields, name, path);
  if (value === null || isMdsErrorCode(value)) return value;
  if (Object.hasOwn(coreErrors, value)) return value as CoreErrorCode;
  throw invalid(`${path}.${name}`, 'an MDS or core error code');
}

export function decodeAcknowledgement(value: unknown, path = 'answer'): UploadAcknowledgement {
  const fields = object(value, path);
  return { digest: digest(fields, 'digest', path), state: oneOf(fields, 'state', path, uploadStates) };
}

export function decodeUploadStatus(value: unknown, path = 'answer'): UploadStatus {
  const fields = object(value, path);
  const status: UploadStatus = {
    ...decodeAcknowledgement(value, path),
    refusal: refusalCode(fields, 'refusal', path),
  };
  // A refusal belongs to a refused upload, and a refused upload has one.
  if ((status.state === 'refused') !== (status.refusal !== null))
    throw invalid(`${path}.refusal`, `consistent with state ${status.state}`);
  return status;
}

export function decodeReportCounts(value: unknown, path = 'answer'): ReportCounts {
  const fields = object(value, path);
  return { issuances: count(fields, 'issuances', path), retirements: count(fields, 'retirements', path) };
}

export function decodeAlert(value: unknown, path = 'alert'): MdsAlert {
  const fields = object(value, path);
  return {
    id: digest(fields, 'id', path),
    kind: oneOf(fields, 'kind', path, alertKinds),
    seId: id(fields, 'seId', path),
    value: amount(fields, 'value', path),
    status: oneOf(fields, 'status', path, alertStatuses),
    raisedAtMs: count(fields, 'raisedAtMs', path),
    evidenceCount: count(fields, 'evidenceCount', path),
  };
}

export function decodeAlertsPage(value: unknown, limit: number): AlertsPage {
  const fields = object(value, 'answer');
  return {
    alerts: array(fields, 'alerts', 'answer', limit).map((alert, index) =>
      decodeAlert(alert, `answer.alerts[${index}]`),
    ),
    next: textOrNull(fields, 'next', 'answer'),
  };
}

function decodeEvidenceItem(value: unknown, path: string): EvidenceItem {
  const fields = object(value, path);
  return {
    entryId: digest(fields, 'entryId', path),
    kind: oneOf(fields, 'kind', path, ['transfer', 'issuance']),
    entry: bytes(fields, 'entry', path),
  };
}

export function decodeEvidence(value: unknown, itemsMax: number): AlertEvidence {
  const fields = object(value, 'answer');
  return {
    alert: decodeAlert(fields['alert'], 'answer.alert'),
    evidence: array(fields, 'evidence', 'answer', itemsMax).map((item, index) =>
      decodeEvidenceItem(item, `answer.evidence[${index}]`),
    ),
    auditSequence: count(fields, 'auditSequence', 'answer'),
  };
}

function decodeAuditEntry(value: unknown, path: string): AuditEntry {
  const fields = object(value, path);
  return {
    sequence: count(fields, 'sequence', path),
    atMs: count(fields, 'atMs', path),
    participantId: text(fields, 'participantId', path),
    role: oneOf(fields, 'role', path, mdsRoles),
    alertId: digest(fields, 'alertId', path),
    previousDigest: digest(fields, 'previousDigest', path),
    digest: digest(fields, 'digest', path),
  };
}

export function decodeAuditPage(value: unknown, limit: number): AuditPage {
  const fields = object(value, 'answer');
  return {
    entries: array(fields, 'entries', 'answer', limit).map((entry, index) =>
      decodeAuditEntry(entry, `answer.entries[${index}]`),
    ),
    next: textOrNull(fields, 'next', 'answer'),
  };
}

export function decodeAuditVerification(value: unknown): AuditVerification {
  const fields = object(value, 'answer');
  return {
    entries: count(fields, 'entries', 'answer'),
    firstBroken: countOrNull(fields, 'firstBroken', 'answer'),
  };
}

/** A record with exactly the given keys, each a count. */
function counts<const K extends string>(value: unknown, path: string, keys: readonly K[]): Record<K, number> {
  const fields = object(value, path);
  const extra = Object.keys(fields).find((key) => !keys.includes(key as K));
  if (extra !== undefined) throw invalid(`${path}.${extra}`, `one of ${keys.join(' | ')}`);
  return Object.fromEntries(keys.map((key) => [key, count(fields, key, path)])) as Record<K, number>;
}

export function decodeStatus(value: unknown): MdsStatus {
  const fields = object(value, 'answer');
  const alerts = object(fields['alerts'], 'answer.alerts');
  const extra = Object.keys(alerts).find((key) => !alertKinds.includes(key as AlertKind));
  if (extra !== undefined) throw invalid(`answer.alerts.${extra}`, `one of ${alertKinds.join(' | ')}`);
  return {
    uploads: counts<UploadState>(fields['uploads'], 'answer.uploads', uploadStates),
    alerts: Object.fromEntries(
      alertKinds.map((kind) => [
        kind,
        counts<AlertStatus>(alerts[kind], `answer.alerts.${kind}`, alertStatuses),
      ]),
    ) as MdsStatus['alerts'],
  };
}

export function decodeParticipant(value: unknown, path = 'participant'): MdsParticipant {
  const fields = object(value, path);
  const dcpId = textOrNull(fields, 'dcpId', path);
  if (dcpId !== null && !idPattern.test(dcpId)) throw invalid(`${path}.dcpId`, '32 lowercase hex digits');
  return {
    id: text(fields, 'id', path),
    name: text(fields, 'name', path),
    role: oneOf(fields, 'role', path, mdsRoles),
    dcpId,
  };
}

/** Bound on a signed renewal verdict (its body is under 250 bytes). */
export const renewalVerdictBytesMax = 1024;

/**
 * `POST /v1/renewal-checks`: the signed verdict, decoded in shape. Its signature is the caller's to
 * verify with the MDS certificate it trusts; nothing else of the answer is read.
 */
export function decodeRenewalCheck(value: unknown, path = 'answer'): RenewalVerdict {
  const verdict = bytes(object(value, path), 'verdict', path);
  if (verdict.length > renewalVerdictBytesMax)
    throw invalid(`${path}.verdict`, `at most ${renewalVerdictBytesMax} bytes`);
  try {
    return renewalVerdictFromCbor(decodeCbor(verdict));
  } catch (error) {
    if (isCbdcError(error)) throw invalid(`${path}.verdict`, error.message);
    throw error;
  }
}
