// REFUSE LOAD: the SE's signed proof that it will never install a load (issue 8, item 6). A load
// LOAD refuses for the balance limit would otherwise leave its value in the DCP's pool, owned by no
// one. The SE signs the refusal and records it in the same commit, so the proof and the promise
// exist together or not at all (a power cut leaves neither, and REFUSE LOAD can be sent again).
import type { Bytes } from '../../core/bytes.ts';
import { purposes } from '../../core/crypto.ts';
import { coreError, coreErrors } from '../../core/errors.ts';
import { loadRefusalBodyToCbor } from '../../core/load-refusal.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { encodeRefused, recordKeys } from '../records.ts';
import { Changes, type Personalised, type SecureElementView } from '../view.ts';
import { loadCandidate } from './load.ts';

/**
 * REFUSE LOAD [issuance] → load refusal envelope. Refuses only what LOAD would refuse for the
 * balance limit, never an issuance installed (`issuanceNotRefusable`); a refused one answers the
 * same refusal bytes again, writing nothing.
 */
export function refuseLoad(se: SecureElementView, data: Bytes): Bytes {
  const candidate = loadCandidate(se, data, 'refuseLoad');
  if ('installed' in candidate) throw coreError('issuanceNotRefusable', 'installed');
  if ('refusal' in candidate) return candidate.refusal;
  const { context, issuance, entry, state, balance } = candidate;
  if (balance <= context.limits.balanceMax)
    throw coreError('issuanceNotRefusable', `would hold ${balance}, within the balance limit`);
  const refusal = signLoadRefusal(context, entry.id, state.balance);
  const record = encodeRefused({ time: issuance.body.time, refusal });
  se.commit(new Changes().put(recordKeys.refused(entry.id), record));
  return refusal;
}

/** The signed refusal of a load for the balance limit, at the balance the SE holds without it. */
export function signLoadRefusal(context: Personalised, issuanceId: Bytes, balance: bigint): Bytes {
  return encodeSigned(
    signBody(
      context.signer,
      purposes.loadRefusal,
      { seId: context.identity.seId, issuanceId, reason: coreErrors.balanceLimitExceeded.number, balance },
      loadRefusalBodyToCbor,
    ),
  );
}
