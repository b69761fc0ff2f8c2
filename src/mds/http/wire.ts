// Domain values → JSON answers: bytes as lowercase hex, amounts as decimal strings of minor units.
import type { Static } from '@sinclair/typebox';
import { dcpBoundParticipantWire } from '../../service-kit/participants.ts';
import { toHex } from '../../core/bytes.ts';
import { isoTime } from '../../service-kit/schemas.ts';
import type { EvidenceItem } from '../channel/protocol.ts';
import type { MdsStatus } from '../domain/service.ts';
import type { AlertRecord, AuditEntry, Participant } from '../domain/types.ts';
import type { AlertWire, ParticipantWire } from './schemas.ts';

export const participantWire: (participant: Participant) => Static<typeof ParticipantWire> =
  dcpBoundParticipantWire;

export function alertWire(alert: AlertRecord): Static<typeof AlertWire> {
  return {
    id: alert.id,
    kind: alert.kind,
    seId: alert.seId,
    value: alert.value.toString(),
    status: alert.status,
    raisedAtMs: alert.raisedAtMs,
    evidenceCount: alert.evidenceCount,
  };
}

export function evidenceWire(item: EvidenceItem) {
  return { entryId: item.entryId, kind: item.kind, entry: toHex(item.entry) };
}

export function auditEntryWire(entry: AuditEntry) {
  return {
    sequence: entry.sequence,
    atMs: entry.atMs,
    participantId: entry.participantId,
    role: entry.role,
    action: entry.action,
    alertId: entry.subject,
    previousDigest: entry.prevHash,
    digest: entry.hash,
  };
}

export function statusWire(status: MdsStatus) {
  const failure = status.lastRevocationFailure;
  return {
    uploads: { ...status.enclave.uploads },
    alerts: status.alerts.byKind,
    revocations: {
      pending: status.alerts.revocationsPending,
      lastFailure:
        failure === null ? null : { code: failure.code, message: failure.message, at: isoTime(failure.atMs) },
    },
  };
}
