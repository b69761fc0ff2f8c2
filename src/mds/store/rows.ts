// Database rows <-> domain types, and the stored answers of idempotent requests. Decoding is strict
// (storage/decode.ts): a row that does not decode is a corrupt database or a bug, so every failure
// is an assertion naming the column.
import { dcpBoundParticipantTable } from '../../storage/participants.ts';
import { AssertionFailed } from '../../core/assert.ts';
import { coreErrors } from '../../core/errors.ts';
import type { Row } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import { isMdsErrorCode, type MdsErrorCode } from '../api/errors.ts';
import type { UploadStatus } from '../channel/protocol.ts';
import type { CoreErrorCode } from '../../core/errors.ts';
import {
  alertKinds,
  alertStatuses,
  auditActions,
  roles,
  type AlertRecord,
  type AuditEntry,
  type StoredResult,
} from '../domain/types.ts';

export const participantTable = dcpBoundParticipantTable('mds_participants', roles);

export function alertFromRow(row: Row): AlertRecord {
  return {
    id: columnText(row, 'id'),
    kind: columnOneOf(row, 'kind', alertKinds),
    seId: columnText(row, 'se_id'),
    value: columnBigint(row, 'value'),
    raisedAtMs: columnSafeInteger(row, 'raised_at_ms'),
    evidenceCount: columnSafeInteger(row, 'evidence_count'),
    status: columnOneOf(row, 'status', alertStatuses),
    position: columnSafeInteger(row, 'position'),
    revocationRefusal: columnTextOrNull(row, 'revocation_refusal'),
  };
}

/** An audit row as stored, without judging it: `verify` is what tells a tampered entry. */
export function auditEntryFromRow(row: Row): AuditEntry {
  return {
    sequence: columnSafeInteger(row, 'sequence'),
    atMs: columnSafeInteger(row, 'at_ms'),
    participantId: columnText(row, 'participant_id'),
    role: columnOneOf(row, 'role', roles),
    action: columnOneOf(row, 'action', auditActions),
    subject: columnText(row, 'subject'),
    prevHash: columnText(row, 'prev_hash'),
    hash: columnText(row, 'hash'),
  };
}

// Stored answers: { kind, ... } with values in column names; amounts never appear in them.

export function encodeResult(result: StoredResult): string {
  switch (result.kind) {
    case 'participant':
      return JSON.stringify({ kind: result.kind, participant: participantTable.toRow(result.participant) });
    case 'upload':
      return JSON.stringify({ kind: result.kind, upload: result.upload });
    case 'reports':
      return JSON.stringify({ kind: result.kind, counts: result.counts });
    case 'confirm':
      return JSON.stringify({ kind: result.kind, alert_id: result.alertId });
  }
}

export function decodeResult(text: string): StoredResult {
  const parsed = rowOf(JSON.parse(text) as unknown, 'stored answer');
  switch (parsed['kind']) {
    case 'participant':
      return {
        kind: 'participant',
        participant: participantTable.fromRow(rowOf(parsed['participant'], 'participant')),
      };
    case 'upload':
      return { kind: 'upload', upload: uploadFromRow(rowOf(parsed['upload'], 'upload')) };
    case 'reports': {
      const counts = rowOf(parsed['counts'], 'counts');
      return {
        kind: 'reports',
        counts: {
          issuances: columnSafeInteger(counts, 'issuances'),
          retirements: columnSafeInteger(counts, 'retirements'),
        },
      };
    }
    case 'confirm':
      return { kind: 'confirm', alertId: columnText(parsed, 'alert_id') };
    default:
      throw new AssertionFailed(`stored answer: unknown kind ${String(parsed['kind'])}`);
  }
}

const uploadStates = ['stored', 'ingested', 'refused'] as const;

function uploadFromRow(row: Row): UploadStatus {
  const refusal = columnTextOrNull(row, 'refusal');
  if (refusal !== null && !isRefusalCode(refusal))
    throw new AssertionFailed(`stored answer: refusal ${refusal} is no MDS or core code`);
  return { digest: columnText(row, 'digest'), state: columnOneOf(row, 'state', uploadStates), refusal };
}

function isRefusalCode(code: string): code is MdsErrorCode | CoreErrorCode {
  return isMdsErrorCode(code) || Object.hasOwn(coreErrors, code);
}

function rowOf(value: unknown, what: string): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AssertionFailed(`stored answer: ${what} is not an object`);
  return value as Row;
}
