// A DCP's renewal check, in the enclave (docs/mds.md, "Renewal check"): store the claim and its
// sealed upload as `POST /v1/uploads` would, ingest that upload now (the same path as a worker's, so
// idempotent: a pair already ingested is not ingested again), decide whether the claim is backed
// (backing.ts), and sign the verdict with the MDS key. An upload that ingest refused is not backed;
// its refusal code is the verdict's reason. Nothing of the graph leaves: the verdict holds the
// claim's digest, yes or no, one code and the policy.
import { assert } from '../../core/assert.ts';
import { fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import { purposes, type Signer } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';
import {
  renewalVerdictBodyToCbor,
  type DoubleSpendPolicy,
  type RenewalVerdictBody,
} from '../../core/renewal-verdict.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import type { Executor } from '../../storage/database.ts';
import type { RenewalCheckAnswer, RenewalCheckRequest, UploadStatus } from '../channel/protocol.ts';
import { decideBacking, type BackedRenewals, type Backing } from './backing.ts';
import { decodeClaim } from './open-upload.ts';
import type { EnclaveTables } from './store.ts';

/** Stored uploads a check ingests before it judges, beyond its own (the workers take the rest). */
export const checkIngestsPendingMax = 64;

/** The MDS's signing key and id, and the deployment's policy for honest payees of double spends. */
export interface VerdictSigner {
  readonly signer: Signer;
  readonly mdsId: PrincipalId;
  readonly policy: DoubleSpendPolicy;
  readonly sha256: (bytes: Bytes) => Bytes;
}

export interface RenewalCheckSteps {
  readonly store: (request: RenewalCheckRequest) => Promise<UploadStatus>;
  readonly ingest: (digest: string) => Promise<UploadStatus | undefined>;
  /** Ingests uploads stored before this check (at most `checkIngestsPendingMax`). */
  readonly ingestPending: (uploadsMax: number) => Promise<number>;
  /** Runs `decide` in one read transaction of the enclave's database. */
  readonly read: (
    decide: (tx: Executor, tables: EnclaveTables, remembered: BackedRenewals) => Promise<Backing>,
  ) => Promise<Backing>;
  readonly signer: VerdictSigner;
  readonly clock: { nowMs(): number };
}

export async function checkRenewal(
  steps: RenewalCheckSteps,
  request: RenewalCheckRequest,
): Promise<RenewalCheckAnswer> {
  const stored = await steps.store(request);
  const status = stored.state === 'stored' ? ((await steps.ingest(stored.digest)) ?? stored) : stored;
  // What a DCP forwarded just before it asked (a renewal's upload its unload now spends) is judged
  // on, not left to the next worker's poll.
  await steps.ingestPending(checkIngestsPendingMax);
  assert(status.state !== 'stored', 'a renewal check ingests its upload before it judges');
  const claim = decodeClaim(request.claim);
  const { policy } = steps.signer;
  const backing: Backing | { readonly backed: false; readonly reason: string } =
    status.state === 'refused'
      ? { backed: false, reason: status.refusal ?? 'uploadUnsealable' }
      : await steps.read((tx, tables, remembered) =>
          decideBacking(
            tx,
            tables,
            { seId: toHex(claim.body.seId), tokens: claim.body.tokens, uploadDigest: status.digest, policy },
            remembered,
          ),
        );
  const dcpId = fromHex(request.dcpId);
  assert(dcpId !== undefined, 'the channel decoded dcpId as hex');
  const body: RenewalVerdictBody = {
    mdsId: steps.signer.mdsId,
    dcpId,
    claimDigest: steps.signer.sha256(claim.bodyBytes),
    uploadDigest: claim.body.uploadDigest,
    backed: backing.backed,
    reason: backing.reason,
    policy,
    checkedAtMs: steps.clock.nowMs(),
  };
  return {
    verdict: encodeSigned(
      signBody(steps.signer.signer, purposes.renewalVerdict, body, renewalVerdictBodyToCbor),
    ),
  };
}
