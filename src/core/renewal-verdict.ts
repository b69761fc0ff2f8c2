// The MDS's answer to a renewal check (DESIGN §7, docs/mds.md "Renewal check"): whether the tokens
// an SE claims at a DCP are backed, with a reason code and the double-spend policy it was decided
// under, and nothing else about the graph. The MDS signs it with its root-certified key, so a DCP
// (or anyone auditing one) can show why it renewed or paid; it names the DCP that asked and the claim
// it answers (by the digest of the claim's body, which holds the single-use DCP nonce), so a verdict
// can never be replayed for another claim or at another DCP.
import { FieldReader, type CborValue } from './cbor.ts';
import { structureVersion } from './certificate.ts';
import { digestBytes } from './crypto.ts';
import { principalIdBytes, type PrincipalId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

/** What honest payees of double-spent value get: paid (offline payments are final) or refused. */
export const doubleSpendPolicies = { honour: 0, refuse: 1 } as const;
export type DoubleSpendPolicy = keyof typeof doubleSpendPolicies;
const policyByNumber = new Map<number, DoubleSpendPolicy>([
  [0, 'honour'],
  [1, 'refuse'],
]);

/** A reason is a catalogue code name: ASCII letters and digits, at most this long. */
export const verdictReasonLengthMax = 64;
const reasonPattern = /^[A-Za-z][A-Za-z0-9]*$/;

export interface RenewalVerdictBody {
  /** The MDS that decided (principal id of its certificate). */
  readonly mdsId: PrincipalId;
  /** The DCP that asked. */
  readonly dcpId: PrincipalId;
  /** SHA-256 of the claim's body bytes: the one claim this verdict answers. */
  readonly claimDigest: Bytes;
  /** SHA-256 of the sealed upload the claim binds. */
  readonly uploadDigest: Bytes;
  readonly backed: boolean;
  /** `backed` or `doubleSpendHonoured` when backed; else the code that refused it. */
  readonly reason: string;
  readonly policy: DoubleSpendPolicy;
  /** When the MDS decided, milliseconds (its clock). */
  readonly checkedAtMs: number;
}

export type RenewalVerdict = Signed<RenewalVerdictBody>;

export function renewalVerdictBodyToCbor(body: RenewalVerdictBody): CborValue {
  return [
    structureVersion,
    body.mdsId,
    body.dcpId,
    body.claimDigest,
    body.uploadDigest,
    body.backed ? 1 : 0,
    body.reason,
    doubleSpendPolicies[body.policy],
    body.checkedAtMs,
  ];
}

export function renewalVerdictBodyFromCbor(value: CborValue): RenewalVerdictBody {
  const reader = new FieldReader(value, 'renewalVerdict', 9);
  reader.version(0, structureVersion);
  const reason = reader.text(6, 'reason', verdictReasonLengthMax);
  if (!reasonPattern.test(reason)) throw FieldReader.invalid('renewalVerdict.reason', 'is not a code name');
  const policy = policyByNumber.get(reader.uint(7, 'policy'));
  if (policy === undefined) throw FieldReader.invalid('renewalVerdict.policy', 'is not a known policy');
  return {
    mdsId: reader.bytes(1, 'mdsId', principalIdBytes),
    dcpId: reader.bytes(2, 'dcpId', principalIdBytes),
    claimDigest: reader.bytes(3, 'claimDigest', digestBytes),
    uploadDigest: reader.bytes(4, 'uploadDigest', digestBytes),
    backed: reader.uint(5, 'backed', 1) === 1,
    reason,
    policy,
    checkedAtMs: reader.uint(8, 'checkedAtMs'),
  };
}

export function renewalVerdictFromCbor(value: CborValue): RenewalVerdict {
  return signedFromCbor(value, 'renewalVerdict', renewalVerdictBodyFromCbor);
}
