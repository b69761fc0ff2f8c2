// Domain values → JSON answers: ids and bytes as lowercase hex, times as ISO 8601.
import type { Static } from '@sinclair/typebox';
import { dcpBoundParticipantWire } from '../../service-kit/participants.ts';
import { isoTime } from '../../service-kit/schemas.ts';
import { toHex } from '../../core/bytes.ts';
import type { DenyListAnswer, SecureElementView } from '../domain/service.ts';
import type { DcpEndpoint, Participant } from '../domain/types.ts';
import type { DcpEndpointWire, DenyListWire, ParticipantWire, SecureElementWire } from './schemas.ts';

export const participantWire: (participant: Participant) => Static<typeof ParticipantWire> =
  dcpBoundParticipantWire;

export function secureElementWire(view: SecureElementView): Static<typeof SecureElementWire> {
  const { record } = view;
  return {
    seId: record.seId,
    dcpId: record.dcpId,
    kind: record.kind,
    status: record.status,
    certificate: toHex(record.certificate),
    validUntil: isoTime(record.validUntil * 1000),
    walletId: view.walletVisible ? record.walletId : null,
    registeredAt: isoTime(record.registeredAtMs),
    history: record.history.map((change) => ({
      status: change.status,
      reason: change.reason,
      changedBy: change.changedBy,
      changedAt: isoTime(change.changedAtMs),
    })),
  };
}

export function denyListWire(answer: DenyListAnswer): Static<typeof DenyListWire> {
  return {
    version: answer.current.version,
    time: answer.current.time,
    signed: toHex(answer.current.signed),
    delta:
      answer.delta === null
        ? null
        : { ...answer.delta, added: [...answer.delta.added], removed: [...answer.delta.removed] },
  };
}

export function dcpEndpointWire(endpoint: DcpEndpoint): Static<typeof DcpEndpointWire> {
  return { dcpId: endpoint.dcpId, baseUrl: endpoint.baseUrl, updatedAt: isoTime(endpoint.updatedAtMs) };
}
