// Database rows <-> domain types. Decoding is strict (see storage/decode.ts); the same row shapes
// encode the stored answers of idempotent requests. A row that does not decode is a corrupt
// database or a bug, so every failure is an assertion naming the column.
import { dcpBoundParticipantTable, type ParticipantTable } from '../../storage/participants.ts';
import { AssertionFailed } from '../../core/assert.ts';
import { fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { signedDenyListFromCbor } from '../../core/deny-list.ts';
import { isCbdcError } from '../../core/errors.ts';
import type { Row } from '../../storage/database.ts';
import { columnOneOf, columnSafeInteger, columnText } from '../../storage/decode.ts';
import {
  roles,
  secureElementKinds,
  statuses,
  type DcpEndpoint,
  type DenyListVersion,
  type Participant,
  type SecureElementRecord,
  type StatusChange,
  type StoredResult,
} from '../domain/types.ts';

export const participantTable: ParticipantTable<Participant> = dcpBoundParticipantTable(
  'directory_participants',
  roles,
);

export function statusChangeFromRow(row: Row): StatusChange {
  return {
    status: columnOneOf(row, 'status', statuses),
    reason: columnText(row, 'reason'),
    changedBy: columnText(row, 'changed_by'),
    changedAtMs: columnSafeInteger(row, 'changed_at_ms'),
  };
}

export function secureElementFromRow(row: Row, history: readonly StatusChange[]): SecureElementRecord {
  return {
    seId: columnText(row, 'se_id'),
    dcpId: columnText(row, 'dcp_id'),
    kind: columnOneOf(row, 'kind', secureElementKinds),
    walletId: columnText(row, 'wallet_id'),
    status: columnOneOf(row, 'status', statuses),
    certificate: columnHex(row, 'certificate'),
    validUntil: columnSafeInteger(row, 'valid_until'),
    registeredAtMs: columnSafeInteger(row, 'registered_at_ms'),
    history,
  };
}

export function denyListFromRow(row: Row): DenyListVersion {
  const signed = columnHex(row, 'signed');
  let entries: string[];
  try {
    entries = signedDenyListFromCbor(decodeCbor(signed)).body.entries.map(toHex);
  } catch (error) {
    if (isCbdcError(error)) throw new AssertionFailed(`database column signed: ${error.message}`);
    throw error;
  }
  return {
    version: columnSafeInteger(row, 'version'),
    time: columnSafeInteger(row, 'time_s'),
    directoryId: columnText(row, 'directory_id'),
    entries,
    signed,
  };
}

export function dcpEndpointFromRow(row: Row): DcpEndpoint {
  return {
    dcpId: columnText(row, 'dcp_id'),
    baseUrl: columnText(row, 'base_url'),
    updatedAtMs: columnSafeInteger(row, 'updated_at_ms'),
  };
}

function columnHex(row: Row, column: string): Bytes {
  const bytes = fromHex(columnText(row, column));
  if (bytes === undefined) throw new AssertionFailed(`database column ${column}: expected hex`);
  return bytes;
}

// Stored answers: { kind, ... } with values in column names, bytes as hex.

export function encodeResult(result: StoredResult): string {
  switch (result.kind) {
    case 'participant':
      return JSON.stringify({ kind: result.kind, participant: participantTable.toRow(result.participant) });
    case 'registration':
      return JSON.stringify({ kind: result.kind, secureElement: secureElementRow(result.secureElement) });
    case 'statusChange':
      return JSON.stringify({
        kind: result.kind,
        secureElement: secureElementRow(result.secureElement),
        denyListVersion: result.denyListVersion,
      });
    case 'dcpEndpoint': {
      const { dcpId, baseUrl, updatedAtMs } = result.endpoint;
      return JSON.stringify({
        kind: result.kind,
        endpoint: { dcp_id: dcpId, base_url: baseUrl, updated_at_ms: updatedAtMs },
      });
    }
  }
}

function secureElementRow(record: SecureElementRecord): Record<string, unknown> {
  return {
    se_id: record.seId,
    dcp_id: record.dcpId,
    kind: record.kind,
    wallet_id: record.walletId,
    status: record.status,
    certificate: toHex(record.certificate),
    valid_until: record.validUntil,
    registered_at_ms: record.registeredAtMs,
    history: record.history.map((change) => ({
      status: change.status,
      reason: change.reason,
      changed_by: change.changedBy,
      changed_at_ms: change.changedAtMs,
    })),
  };
}

export function decodeResult(text: string): StoredResult {
  const parsed = rowOf(JSON.parse(text), 'stored answer');
  switch (parsed['kind']) {
    case 'participant':
      return {
        kind: 'participant',
        participant: participantTable.fromRow(rowOf(parsed['participant'], 'participant')),
      };
    case 'registration':
      return { kind: 'registration', secureElement: storedSecureElement(parsed['secureElement']) };
    case 'statusChange':
      return {
        kind: 'statusChange',
        secureElement: storedSecureElement(parsed['secureElement']),
        denyListVersion: columnSafeInteger(parsed, 'denyListVersion'),
      };
    case 'dcpEndpoint':
      return { kind: 'dcpEndpoint', endpoint: dcpEndpointFromRow(rowOf(parsed['endpoint'], 'endpoint')) };
    default:
      throw new AssertionFailed(`stored answer: unknown kind ${String(parsed['kind'])}`);
  }
}

function storedSecureElement(value: unknown): SecureElementRecord {
  const row = rowOf(value, 'secureElement');
  const history = row['history'];
  if (!Array.isArray(history)) throw new AssertionFailed('stored answer: history is not an array');
  return secureElementFromRow(
    row,
    history.map((change) => statusChangeFromRow(rowOf(change, 'history entry'))),
  );
}

function rowOf(value: unknown, what: string): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AssertionFailed(`stored answer: ${what} is not an object`);
  return value as Row;
}
