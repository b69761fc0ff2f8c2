// The renewal check and the unload gate, the DCP's side (DESIGN §7; docs/dcp.md, "Renewal check and
// the unload gate"). Which settlements ask the MDS, and how its answer is accepted: a verdict counts
// only when the MDS key of trust.json signed it, for this DCP, over this very claim (the digest of
// its body, which holds the single-use nonce) and its sealed upload. The DCP learns yes or no, one
// reason code and the policy applied; nothing of the graph.
import { bytesEqual } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { Claim } from '../../core/claim.ts';
import { purposes, type Verifier } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';
import type { RenewalVerdict } from '../../core/renewal-verdict.ts';
import { dcpError } from '../api/errors.ts';
import type { RenewalCheck, RenewalCheckMode, RenewalVerdictSummary, SettleKind } from './ports.ts';

/** Without an MDS: `async` renewals, and an unload gate no unload can pass. */
export const noMdsRenewalCheck: RenewalCheck = {
  mode: 'async',
  ask: () => Promise.reject(dcpError('renewalCheckUnavailable', 'this DCP has no MDS configured')),
};

/**
 * Whether a settlement must ask the MDS: every one in `sync` mode; in `async` mode an unload or
 * transfer whose amount is more than the vouched value of the claimed tokens this DCP minted to the
 * claiming SE (the gate: money leaves the offline system only on value the DCP knows is backed).
 */
export function mustAsk(mode: RenewalCheckMode, kind: SettleKind, amount: bigint, vouched: bigint): boolean {
  return mode === 'sync' || (kind !== 'renewal' && amount > vouched);
}

/**
 * The verdict's signature by the MDS certificate of trust.json, and what it answers: this DCP, this
 * claim, this upload. Anything else is `renewalCheckAnswerInvalid`, as if the MDS had not answered.
 */
export function acceptVerdict(
  verifier: Verifier,
  mds: Certificate,
  dcpId: PrincipalId,
  claim: Claim,
  verdict: RenewalVerdict,
): RenewalVerdictSummary {
  const { body } = verdict;
  if (!verifier.verify(mds.body.publicKey, purposes.renewalVerdict, verdict.bodyBytes, verdict.signature))
    throw dcpError('renewalCheckAnswerInvalid', 'the verdict is not signed by the MDS key');
  if (!bytesEqual(body.mdsId, mds.body.subjectId))
    throw dcpError('renewalCheckAnswerInvalid', 'the verdict names another MDS');
  if (!bytesEqual(body.dcpId, dcpId))
    throw dcpError('renewalCheckAnswerInvalid', 'the verdict is for another DCP');
  if (!bytesEqual(body.claimDigest, verifier.sha256(claim.bodyBytes)))
    throw dcpError('renewalCheckAnswerInvalid', 'the verdict answers another claim');
  if (!bytesEqual(body.uploadDigest, claim.body.uploadDigest))
    throw dcpError('renewalCheckAnswerInvalid', 'the verdict answers another upload');
  return { backed: body.backed, reason: body.reason, policy: body.policy };
}
