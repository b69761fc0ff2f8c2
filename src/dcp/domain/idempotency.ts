// Idempotency by client key (DESIGN §7, STYLE §7): a replay returns the first answer, a replay with a
// different request is refused. Keys are scoped: device operations by the SE id, administrative ones
// by the participant. The fingerprint is the SHA-256 of the request's canonical JSON.
import { toHex, utf8 } from '../../core/bytes.ts';
import type { Verifier } from '../../core/crypto.ts';
import { dcpError } from '../api/errors.ts';
import type { DcpTransaction } from '../store/sql-store.ts';

export function fingerprintOf(
  verifier: Verifier,
  parts: readonly (string | bigint | number | null)[],
): string {
  return toHex(
    verifier.sha256(
      utf8(JSON.stringify(parts.map((part) => (typeof part === 'bigint' ? `${part}n` : part)))),
    ),
  );
}

/** The earlier result for this key, null if none, or a refusal if the request differs. */
export async function earlierResult(
  reader: DcpTransaction,
  scope: string,
  key: string,
  fingerprint: string,
): Promise<string | null> {
  const earlier = await reader.findKey(scope, key);
  if (earlier === null) return null;
  if (earlier.fingerprint !== fingerprint) throw dcpError('dcpIdempotencyKeyReused');
  return earlier.result;
}

/** Claims the key inside a transaction; returns the earlier result when another request won. */
export async function claimOrEarlier(
  tx: DcpTransaction,
  scope: string,
  key: string,
  fingerprint: string,
  result: string,
  nowMs: number,
): Promise<string | null> {
  const earlier = await tx.claimKey(scope, key, fingerprint, result, nowMs);
  if (earlier === null) return null;
  if (earlier.fingerprint !== fingerprint) throw dcpError('dcpIdempotencyKeyReused');
  return earlier.result;
}

/** Thrown inside a transaction to roll it back and answer the earlier result instead. */
export class Replay extends Error {
  override readonly name = 'Replay';
  constructor(readonly result: string) {
    super('replay of an earlier request');
  }
}
