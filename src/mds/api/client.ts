// The MDS's typed HTTP client (docs/mds.md), for the DCPs' forwarding (ingest and reports) and for
// tools and the dashboard (alerts, evidence, audit, status). It imports nothing but core, the MDS's
// catalogue and the shared client-side HTTP layer (src/http-client/, itself core-only; a test checks
// it), so any service may use it without depending on the MDS's implementation.
//
// Every call has a timeout per attempt, bounded attempts with exponential backoff and jitter, and a
// bound on the answer (the shared `JsonCaller`). Only idempotent calls are made: reads, and
// mutations that carry the caller's idempotency key (the MDS answers a replay with the first answer;
// ingest and reports are idempotent by content as well). Refusals (4xx) are never retried and
// surface as `MdsRefusal`, a `CbdcError` with the MDS's (or the generic service) code. What the MDS
// would refuse for its size is refused here before sending, with the code the MDS would answer.
import { decodeIndicatorsReport } from './indicators-decode.ts';
import { decodeSettlementRun, decodeSupplyReport } from './supply-decode.ts';
import {
  settlementsPageMax,
  type IndicatorsQuery,
  type IndicatorsReport,
  type SettlementRun,
  type SettlementsPage,
  type SupplyReport,
} from './types.ts';
import { toHex } from '../../core/bytes.ts';
import {
  JsonCaller,
  catalogueCallErrors,
  type JsonCall,
  type JsonCallerOptions,
} from '../../http-client/json-caller.ts';
import { catalogueRefusal } from '../../http-client/refusal.ts';
import {
  decodeAcknowledgement,
  decodeAlert,
  decodeAlertsPage,
  decodeAuditPage,
  decodeAuditVerification,
  decodeEvidence,
  decodeParticipant,
  decodeRenewalCheck,
  decodeReportCounts,
  decodeStatus,
  decodeUploadStatus,
  field,
} from './decode.ts';
import { mdsAnswers, mdsError, type MdsAnswerCode } from './errors.ts';
import { decodeRecoveries, decodeRefundExecution, decodeRefundsPage } from './recovery-decode.ts';
import {
  alertsPageMax,
  claimBytesMax,
  refundsPageMax,
  reportItemsMax,
  sealedUploadBytesMax,
  type RecoveriesView,
  type RefundExecution,
  type RefundsPage,
  type AlertEvidence,
  type AlertsPage,
  type AlertsQuery,
  type AuditPage,
  type AuditVerification,
  type MdsAlert,
  type MdsParticipant,
  type MdsStatus,
  type ParticipantBody,
  type ReportCounts,
  type ReportsBody,
  type Replayable,
  type UploadAcknowledgement,
  type UploadStatus,
} from './types.ts';
import type { Bytes } from '../../core/bytes.ts';
import type { RenewalVerdict } from '../../core/renewal-verdict.ts';

export type * from './types.ts';

/**
 * The largest answer is a page of evidence: an alert's entries, each a signed transfer or issuance
 * of at most a few KiB, hex doubling it. Anything far larger is not an MDS answer.
 */
export const mdsAnswerBytesMax = 2 * 1024 * 1024;
/** Entries one evidence answer may list (a double spend names a handful; a long chain more). */
export const evidenceItemsMax = 1024;
/** Audit entries one page may hold. */
export const auditPageMax = 1024;

export interface MdsClientOptions extends JsonCallerOptions {
  /** e.g. http://127.0.0.1:4500 */
  readonly baseUrl: string;
  /** Every route but /healthz needs a participant's key. */
  readonly apiKey?: string;
}

/** A refusal from the MDS: `code` from its catalogue or the generic service codes; `status` the HTTP status. */
export class MdsRefusal extends catalogueRefusal<MdsAnswerCode>(mdsAnswers.definition) {}

const mdsCallErrors = catalogueCallErrors(mdsAnswers.isCode, MdsRefusal, {
  unavailable: (detail) => mdsError('mdsUnavailable', detail),
  answerInvalid: (detail) => mdsError('mdsAnswerInvalid', detail),
});

/** What a DCP posts for one sealed upload: the SE's signed claim and the sealed bytes it binds. */
export interface UploadBody {
  /** The claim envelope (canonical CBOR) as the SE signed it. */
  readonly claim: Bytes;
  readonly sealed: Bytes;
}

export class MdsClient {
  private readonly caller: JsonCaller;

  constructor(options: MdsClientOptions) {
    this.caller = new JsonCaller(options, mdsCallErrors, mdsAnswerBytesMax);
  }

  /** The caller's own participant (any role): how a tool learns which role its key has. */
  async whoAmI(): Promise<MdsParticipant> {
    const answer = await this.call({ method: 'GET', path: '/v1/participants/me' });
    return decodeParticipant(field(answer.body, 'participant'));
  }

  /** Stores the pair at the MDS (202 once durable); the same pair again answers its current state. */
  async postUpload(idempotencyKey: string, upload: UploadBody): Promise<Replayable<UploadAcknowledgement>> {
    const answer = await this.call({
      method: 'POST',
      path: '/v1/uploads',
      body: pairBody(upload),
      idempotencyKey,
    });
    return { value: decodeAcknowledgement(answer.body), replayed: answer.replayed };
  }

  /**
   * A renewal check (docs/mds.md, "Renewal check"): the MDS stores and ingests the pair, then answers
   * a verdict signed by its key. Idempotent by content, so it carries no idempotency key and may be
   * retried. The caller verifies the verdict's signature and that it answers this claim.
   */
  async checkRenewal(upload: UploadBody): Promise<RenewalVerdict> {
    const answer = await this.call({
      method: 'POST',
      path: '/v1/renewal-checks',
      body: pairBody(upload),
    });
    return decodeRenewalCheck(answer.body);
  }

  async uploadStatus(digest: string): Promise<UploadStatus> {
    const answer = await this.call({ method: 'GET', path: `/v1/uploads/${encodeURIComponent(digest)}` });
    return decodeUploadStatus(answer.body);
  }

  /** The DCP's own records in cleartext, at most `reportItemsMax` of each kind per call. */
  async postReports(idempotencyKey: string, reports: ReportsBody): Promise<Replayable<ReportCounts>> {
    const credits = reports.credits ?? [];
    const mints = reports.mints ?? [];
    for (const [name, items] of [
      ['issuances', reports.issuances.length],
      ['retirements', reports.retirements.length],
      ['credits', credits.length],
      ['mints', mints.length],
    ] as const) {
      if (items > reportItemsMax)
        throw mdsError('reportItemsLimitExceeded', `${items} ${name}, at most ${reportItemsMax}`);
    }
    const body = {
      issuances: reports.issuances.map((issuance) => toHex(issuance)),
      retirements: reports.retirements.map((retirement) => ({
        ...retirement,
        value: retirement.value.toString(),
      })),
      // Sent only when given, so a report of issuances and retirements alone reads as it always did.
      ...(reports.credits === undefined
        ? {}
        : { credits: credits.map((credit) => ({ ...credit, value: credit.value.toString() })) }),
      ...(reports.mints === undefined ? {} : { mints }),
    };
    const answer = await this.call({ method: 'POST', path: '/v1/reports', body, idempotencyKey });
    return { value: decodeReportCounts(answer.body), replayed: answer.replayed };
  }

  async listAlerts(query: AlertsQuery = {}): Promise<AlertsPage> {
    const filters = { kind: query.kind, status: query.status };
    const { path, limit } = pageQuery('/v1/alerts', query, alertsPageMax, filters);
    const answer = await this.call({ method: 'GET', path });
    return decodeAlertsPage(answer.body, limit);
  }

  /** An alert's evidence; the MDS appends an audit entry (who, which role) before it answers. */
  async evidence(alertId: string): Promise<AlertEvidence> {
    const answer = await this.call({
      method: 'GET',
      path: `/v1/alerts/${encodeURIComponent(alertId)}/evidence`,
    });
    return decodeEvidence(answer.body, evidenceItemsMax);
  }

  async confirmAlert(idempotencyKey: string, alertId: string): Promise<Replayable<MdsAlert>> {
    const answer = await this.call({
      method: 'POST',
      path: `/v1/alerts/${encodeURIComponent(alertId)}/confirm`,
      idempotencyKey,
    });
    return { value: decodeAlert(field(answer.body, 'alert'), 'answer.alert'), replayed: answer.replayed };
  }

  async audit(page: { readonly after?: string; readonly limit?: number } = {}): Promise<AuditPage> {
    const { path, limit } = pageQuery('/v1/audit', page, auditPageMax);
    const answer = await this.call({ method: 'GET', path });
    return decodeAuditPage(answer.body, limit);
  }

  async auditVerify(): Promise<AuditVerification> {
    const answer = await this.call({ method: 'GET', path: '/v1/audit/verify' });
    return decodeAuditVerification(answer.body);
  }

  async status(): Promise<MdsStatus> {
    const answer = await this.call({ method: 'GET', path: '/v1/status' });
    return decodeStatus(answer.body);
  }

  async createParticipant(
    idempotencyKey: string,
    request: ParticipantBody,
  ): Promise<Replayable<MdsParticipant>> {
    const answer = await this.call({
      method: 'POST',
      path: '/v1/participants',
      body: { ...request },
      idempotencyKey,
    });
    return { value: decodeParticipant(field(answer.body, 'participant')), replayed: answer.replayed };
  }

  /** Role dcp: the refunds this DCP has still to execute, oldest first, after the cursor `after`. */
  async refunds(page: { readonly after?: string; readonly limit?: number } = {}): Promise<RefundsPage> {
    const { path, limit } = pageQuery('/v1/refunds', page, refundsPageMax);
    const answer = await this.call({ method: 'GET', path });
    return decodeRefundsPage(answer.body, limit);
  }

  /** Role dcp: the refund was executed; idempotent by the decision id (a replay answers the first time). */
  async refundExecuted(decisionId: string): Promise<RefundExecution> {
    const answer = await this.call({
      method: 'POST',
      path: `/v1/refunds/${encodeURIComponent(decisionId)}/executed`,
    });
    return decodeRefundExecution(answer.body);
  }

  /** Roles operator, analyst: value in flight and refunds decided and executed. */
  async recoveries(): Promise<RecoveriesView> {
    const answer = await this.call({ method: 'GET', path: '/v1/recoveries' });
    return decodeRecoveries(answer.body);
  }

  /** The supply per DCP and in total, with each pool as the ledger has it (operator, analyst). */
  async supply(): Promise<SupplyReport> {
    const answer = await this.call({ method: 'GET', path: '/v1/supply' });
    return decodeSupplyReport(answer.body);
  }

  /** Names the ledger account settlement pays a DCP's pool from and to (operator). */
  async setSettlementPool(dcpId: string, accountId: string): Promise<void> {
    await this.call({
      method: 'PUT',
      path: `/v1/settlement-pools/${encodeURIComponent(dcpId)}`,
      body: { accountId },
    });
  }

  /** The settlement run of `period`: planned or continued, and carried out (operator). */
  async settle(period: string): Promise<SettlementRun> {
    const answer = await this.call({ method: 'POST', path: '/v1/settlements', body: { period } });
    return decodeSettlementRun(field(answer.body, 'run'));
  }

  /** Indicators per bucket of ingest time, cells over fewer than k SEs suppressed (economist, operator). */
  async indicators(query: IndicatorsQuery): Promise<IndicatorsReport> {
    const search = new URLSearchParams({
      fromMs: String(query.fromMs),
      toMs: String(query.toMs),
      bucketMs: String(query.bucketMs),
    });
    const answer = await this.call({ method: 'GET', path: `/v1/indicators?${search.toString()}` });
    return decodeIndicatorsReport(answer.body);
  }

  /** Settlement runs, newest first (operator, analyst): what each moved between the pools. */
  async settlements(
    page: { readonly after?: string; readonly limit?: number } = {},
  ): Promise<SettlementsPage> {
    const { path, limit } = pageQuery('/v1/settlements', page, settlementsPageMax);
    const answer = await this.call({ method: 'GET', path });
    const runs = field(answer.body, 'runs');
    if (!Array.isArray(runs) || runs.length > limit)
      throw mdsError('mdsAnswerInvalid', `answer.runs is not a list of at most ${limit}`);
    const next = field(answer.body, 'next');
    if (next !== null && typeof next !== 'string')
      throw mdsError('mdsAnswerInvalid', 'answer.next is not a cursor');
    return { runs: runs.map((run, index) => decodeSettlementRun(run, `answer.runs[${index}]`)), next };
  }

  private call(call: JsonCall) {
    return this.caller.call(call);
  }
}

/** One page's path: the filters given, `limit` (checked against its bound) and the cursor `after`. */
function pageQuery(
  path: string,
  page: { readonly after?: string; readonly limit?: number },
  limitMax: number,
  filters: Readonly<Record<string, string | undefined>> = {},
): { readonly path: string; readonly limit: number } {
  const limit = page.limit ?? limitMax;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > limitMax)
    throw new RangeError(`limit must be 1..${limitMax}`);
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) search.set(name, value);
  search.set('limit', String(limit));
  if (page.after !== undefined) search.set('after', page.after);
  return { path: `${path}?${search.toString()}`, limit };
}

/** A claim and its sealed upload as both routes take them, refused here when over the MDS's bounds. */
function pairBody(upload: UploadBody): { readonly claim: string; readonly sealed: string } {
  if (upload.sealed.length > sealedUploadBytesMax)
    throw mdsError('uploadBytesLimitExceeded', `sealed upload of ${upload.sealed.length} bytes`);
  if (upload.claim.length > claimBytesMax)
    throw mdsError('uploadBytesLimitExceeded', `claim of ${upload.claim.length} bytes`);
  return { claim: toHex(upload.claim), sealed: toHex(upload.sealed) };
}
