// The DCP's `MdsPort` over the MDS's typed client (src/mds/api/): posts a sealed upload with its
// claim, and the DCP's reports, and says which refusals are the content's (final: the row is marked
// refused and counted) and which are the DCP's own setup (its key, its role, a wrong URL: thrown,
// so the forwarding retries with backoff once an operator has looked, and nothing is lost).
import { assert } from '../../core/assert.ts';
import { fromHex, type Bytes } from '../../core/bytes.ts';
import { isCbdcError } from '../../core/errors.ts';
import { MdsRefusal, type MdsClient } from '../../mds/api/client.ts';
import { mdsError, type MdsAnswerCode } from '../../mds/api/errors.ts';
import type {
  MdsDelivery,
  MdsPort,
  MdsRefundsPort,
  PendingUpload,
  RefundOrder,
  RenewalCheck,
  RenewalCheckMode,
  RenewalVerdictSummary,
  ReportBatch,
} from '../domain/ports.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { Claim } from '../../core/claim.ts';
import type { Verifier } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';
import type { RenewalVerdict } from '../../core/renewal-verdict.ts';
import { encodeSigned } from '../../core/signed.ts';
import { dcpError } from '../api/errors.ts';
import { acceptVerdict } from '../domain/renewal-check.ts';

/**
 * Refusals that judge what was sent: the same content would meet them again, so the row is marked
 * with the code and not retried. Every other refusal (`apiKeyMissing`, `apiKeyUnknown`,
 * `roleNotAllowed`, `routeNotFound`...) is about the DCP's configuration and is retried.
 */
const contentRefusals: ReadonlySet<MdsAnswerCode> = new Set<MdsAnswerCode>([
  'uploadBytesLimitExceeded',
  'uploadClaimInvalid',
  'uploadConflict',
  'issuanceNotOwn',
  'reportConflict',
  'reportItemsLimitExceeded',
  'reportMintInvalid',
  'requestInvalid',
  'requestBodyTooLarge',
  'requestBodyMalformed',
  // Keys are made from the content (forwarding.ts): another request under one is another content.
  'idempotencyKeyReusedWithDifferentRequest',
]);

function storedBytes(hex: string, what: string): Bytes {
  const bytes = fromHex(hex);
  assert(bytes !== undefined, `a stored ${what} is hex`);
  return bytes;
}

/** The MDS's refusal as a delivery outcome when it is final; anything else is rethrown. */
function finalRefusal(error: unknown): MdsDelivery {
  if (error instanceof MdsRefusal && contentRefusals.has(error.code))
    return { refused: error.code, message: error.message };
  // The client refuses an oversized upload or report itself, with the MDS's code.
  if (
    isCbdcError(error) &&
    (error.code === 'uploadBytesLimitExceeded' || error.code === 'reportItemsLimitExceeded')
  )
    return { refused: error.code, message: error.message };
  throw error;
}

const isExpiredKey = (error: unknown) =>
  error instanceof MdsRefusal && error.code === 'idempotencyKeyExpired';

/**
 * Posts under `key`; when the MDS forgot that key's answer (a retry after its idempotency
 * retention), posts again under a second key: ingest and reports are idempotent by content at the
 * MDS (the same pair answers the same; an item recorded identically is not counted again).
 */
async function deliver(key: string, post: (key: string) => Promise<unknown>): Promise<MdsDelivery> {
  try {
    await post(key);
    return 'acknowledged';
  } catch (error) {
    if (!isExpiredKey(error)) return finalRefusal(error);
  }
  try {
    await post(`${key}.2`);
    return 'acknowledged';
  } catch (error) {
    return finalRefusal(error);
  }
}

export class HttpMds implements MdsPort, MdsRefundsPort {
  constructor(private readonly client: MdsClient) {}

  forwardUpload(upload: PendingUpload): Promise<MdsDelivery> {
    const body = {
      claim: storedBytes(upload.claim, 'claim'),
      sealed: storedBytes(upload.sealed, 'sealed upload'),
    };
    return deliver(`dcp-upload-${upload.digest.slice(0, 48)}`, async (key) => {
      const answer = await this.client.postUpload(key, body);
      if (answer.value.digest !== upload.digest)
        throw mdsError('mdsAnswerInvalid', `answer.digest ${answer.value.digest} is not ${upload.digest}`);
    });
  }

  report(key: string, batch: ReportBatch): Promise<MdsDelivery> {
    const body = {
      issuances: batch.issuances.map((issuance) => storedBytes(issuance.signed, 'issuance')),
      retirements: batch.retirements,
      credits: batch.credits,
      // The link from each issuance to the credits it minted, in the same call as the issuance.
      mints: batch.issuances.flatMap((issuance) =>
        issuance.credits.map((creditId) => ({ creditId, issuanceId: issuance.id })),
      ),
    };
    return deliver(key, (attemptKey) => this.client.postReports(attemptKey, body));
  }

  async refunds(limit: number): Promise<readonly RefundOrder[]> {
    return (await this.client.refunds({ limit })).refunds;
  }

  async refundExecuted(decisionId: string): Promise<void> {
    const execution = await this.client.refundExecuted(decisionId);
    if (execution.decisionId !== decisionId)
      throw mdsError('mdsAnswerInvalid', `answer.decisionId ${execution.decisionId} is not ${decisionId}`);
  }
}

/**
 * Reasons the MDS gives when the facts it needs are still in this DCP's outbox (an issuance not
 * reported, a renewal's upload not forwarded): the check is asked once more after a forwarding pass.
 */
const catchUpReasons: ReadonlySet<string> = new Set(['renewalIssuanceUnreported', 'renewalHistoryUnknown']);

/**
 * Times a check asks again on a "not yet": the first at once after a forwarding pass (this DCP's own
 * reports), then after a wait each (another DCP's reports, every second): about 2 s at most.
 */
export const renewalCheckCatchUpsMax = 4;
export const renewalCheckCatchUpWaitMs = 700;

export interface HttpRenewalCheckOptions {
  readonly mode: RenewalCheckMode;
  readonly client: MdsClient;
  readonly verifier: Verifier;
  /** The MDS certificate of trust.json: the only key a verdict may be signed with. */
  readonly mds: Certificate;
  readonly dcpId: PrincipalId;
  /** Delivers this DCP's pending uploads and reports to the MDS (one forwarding pass). */
  readonly catchUp: () => Promise<unknown>;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The renewal check and the unload gate over `POST /v1/renewal-checks` (docs/dcp.md). */
export class HttpRenewalCheck implements RenewalCheck {
  readonly mode: RenewalCheckMode;

  constructor(private readonly options: HttpRenewalCheckOptions) {
    this.mode = options.mode;
  }

  /**
   * Asks; while the MDS answers a reason that means "not yet" (catchUpReasons), forwards this DCP's
   * outbox, waits (another DCP reports within its forwarding interval, 1 s) and asks again, at most
   * `renewalCheckCatchUpsMax` times.
   */
  async ask(claim: Claim, sealedUpload: Bytes): Promise<RenewalVerdictSummary> {
    let verdict = await this.#askOnce(claim, sealedUpload);
    for (let catchUp = 0; catchUp < renewalCheckCatchUpsMax; catchUp++) {
      if (verdict.backed || !catchUpReasons.has(verdict.reason)) return verdict;
      await this.options.catchUp();
      if (catchUp > 0) await this.options.sleep(renewalCheckCatchUpWaitMs);
      verdict = await this.#askOnce(claim, sealedUpload);
    }
    return verdict;
  }

  async #askOnce(claim: Claim, sealedUpload: Bytes): Promise<RenewalVerdictSummary> {
    let verdict: RenewalVerdict;
    try {
      verdict = await this.options.client.checkRenewal({ claim: encodeSigned(claim), sealed: sealedUpload });
    } catch (error) {
      if (isCbdcError(error) && error.code === 'mdsAnswerInvalid')
        throw dcpError('renewalCheckAnswerInvalid', error.message);
      const detail = isCbdcError(error) ? `${error.code}: ${error.message}` : String(error);
      throw dcpError('renewalCheckUnavailable', `the MDS did not answer the check (${detail})`);
    }
    return acceptVerdict(this.options.verifier, this.options.mds, this.options.dcpId, claim, verdict);
  }
}
