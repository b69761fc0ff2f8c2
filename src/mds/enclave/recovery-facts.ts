// What an upload says about value in flight (docs/mds.md, "Recovery of value in flight"), read from
// the upload alone so that the facts of an upload are the same whenever it is ingested:
//   - each outgoing payment still `pending` on the payer: the transfer (found among the upload's
//     entries, since its bundle was collected), its payee and challenge, and the payment token
//     (output 0) that would be lost if the payee never stored it;
//   - each outgoing payment `acknowledged`: the payee's receipt proves delivery;
//   - each payment request the SE issued and closed, `received` or `expired`: an expired challenge
//     can never be received afterwards (BEGIN SYNC expired it, RECEIVE answers challengeUnknown).
// An outgoing record whose transfer the upload does not carry, or that another SE signed, is a broken
// upload (`historyIncomplete`), refused like the other ingest rules.
import { coreError } from '../../core/errors.ts';
import { idKey } from '../../core/ids.ts';
import type { Upload } from '../../core/upload.ts';
import { present } from './present.ts';
import type { CollectedEntries } from './upload-facts.ts';

export interface PendingTransferFact {
  readonly transferId: string;
  readonly payerId: string;
  readonly payeeId: string;
  readonly challenge: string;
  /** The payment's value (output 0). */
  readonly value: bigint;
  /** The payment token (output 0's id): never held or spent by anyone while undelivered. */
  readonly tokenId: string;
}

export interface ClosedChallengeFact {
  readonly payeeId: string;
  readonly challenge: string;
  readonly state: 'received' | 'expired';
}

export interface RecoveryFacts {
  readonly pending: readonly PendingTransferFact[];
  readonly acknowledged: readonly string[];
  readonly challenges: readonly ClosedChallengeFact[];
}

export function recoveryFacts(upload: Upload, collected: CollectedEntries): RecoveryFacts {
  const seId = idKey(upload.seId);
  const pending: PendingTransferFact[] = [];
  const acknowledged: string[] = [];
  for (const [index, record] of upload.outgoing.entries()) {
    const transferId = idKey(record.transferId);
    const entry = collected.entries.get(transferId);
    if (entry?.kind !== 'transfer' || idKey(entry.signed.body.payerId) !== seId)
      throw coreError(
        'historyIncomplete',
        `outgoing[${index}]: the upload carries no transfer ${transferId} of its SE`,
      );
    if (record.state === 'acknowledged') {
      acknowledged.push(transferId);
      continue;
    }
    const body = entry.signed.body;
    pending.push({
      transferId,
      payerId: seId,
      payeeId: idKey(body.payeeId),
      challenge: idKey(body.challenge),
      value: present(body.outputs[0], 'a transfer has outputs').value,
      tokenId: idKey(present(entry.outputIds[0], 'one id per output')),
    });
  }
  const challenges = upload.incoming.map((record) => ({
    payeeId: seId,
    challenge: idKey(record.challenge),
    state: record.state,
  }));
  return { pending, acknowledged, challenges };
}
