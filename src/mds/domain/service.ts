// The MDS API process's operations (docs/mds.md). Pure orchestration over injected ports: its own
// store, the enclave and the directory; no I/O of its own, no clock, no randomness. A refusal is a
// thrown typed error and changes nothing: checks come before any write and before any enclave call.
import { assert } from '../../core/assert.ts';
import { toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { requestFingerprint as fingerprint } from '../../core/request-digests.ts';
import { ParticipantService } from '../../service-kit/participant-service.ts';
import type {
  EnclavePort,
  EnclaveStatus,
  EvidenceItem,
  RecordReportsRequest,
  ReportCounts,
  UploadStatus,
} from '../channel/protocol.ts';
import { serviceError } from '../../service-kit/service-errors.ts';
import { mdsError } from '../api/errors.ts';
import { verifyAuditChain, type AuditVerdict } from './audit.ts';
import { auditVerifyPageEntriesMax } from './limits.ts';
import type {
  AlertCounts,
  AlertQuery,
  DenyListPort,
  MdsStore,
  MdsTransaction,
  RevocationPort,
} from './ports.ts';
import { AlertResponse, appendAudit, type RevocationFailure } from './response.ts';
import {
  callerDcpId,
  checkParticipantDcpId,
  checkReportSize,
  decodePostedUpload,
  defaultResponsePolicy,
  requireRole,
  type ResponsePolicy,
} from './rules.ts';
import { Transactions, type Answer } from './transactions.ts';
import { Recoveries } from './recoveries.ts';
import type {
  AlertRecord,
  AuditEntry,
  Clock,
  Hasher,
  IdGenerator,
  Participant,
  Role,
  StoredResult,
} from './types.ts';

export type { Answer } from './transactions.ts';

export interface MdsDependencies {
  readonly store: MdsStore;
  readonly enclave: EnclavePort;
  readonly revocations: RevocationPort;
  readonly denyLists?: DenyListPort;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly hasher: Hasher;
  /** The DCP issuers of the deployment's trust file (hex ids): what a dcp participant may be bound to. */
  readonly dcpIssuers: ReadonlySet<string>;
  readonly policy?: ResponsePolicy;
  /** How long an idempotency key's answer replays (default idempotencyRetentionMsDefault, 7 days). */
  readonly idempotencyRetentionMs?: number;
}

export interface EvidenceAnswer {
  readonly alert: AlertRecord;
  readonly evidence: readonly EvidenceItem[];
  /** The audit entry that recorded this read, appended before the evidence was fetched. */
  readonly auditSequence: number;
}

export interface MdsStatus {
  readonly enclave: EnclaveStatus;
  readonly alerts: AlertCounts;
  readonly lastRevocationFailure: RevocationFailure | null;
}

/** The MDS API process's operations; authentication, the bootstrap operator and expiry are the kit's. */
export class MdsService extends ParticipantService<Participant, StoredResult, MdsTransaction, MdsStore> {
  readonly response: AlertResponse;
  /** Refund orders for the DCPs and the recoveries view (recoveries.ts). */
  readonly recoveries: Recoveries;
  private readonly enclave: EnclavePort;
  private readonly transactions: Transactions;

  constructor(private readonly deps: MdsDependencies) {
    super({
      ...deps,
      operator: (id, name, createdAtMs) => ({ id, name, role: 'operator', dcpId: null, createdAtMs }),
    });
    this.enclave = deps.enclave;
    this.transactions = new Transactions(deps.store, deps.clock, this.keys);
    this.response = new AlertResponse({ ...deps, policy: deps.policy ?? defaultResponsePolicy });
    this.recoveries = new Recoveries(deps.enclave, deps.clock);
  }

  /** An operator adds a participant; the participant made its key and gives only its digest. */
  async createParticipant(
    caller: Participant,
    key: string,
    request: {
      readonly name: string;
      readonly role: Role;
      readonly dcpId: string | null;
      readonly apiKeySha256: string;
    },
  ): Promise<Answer<Participant>> {
    requireRole(caller, ['operator'], 'create participants');
    checkParticipantDcpId(request.role, request.dcpId, this.deps.dcpIssuers);
    const { name, role, dcpId, apiKeySha256 } = request;
    const print = fingerprint('createParticipant', [name, role, dcpId, apiKeySha256]);
    const answer = await this.transactions.idempotent(
      { caller, key, fingerprint: print, kind: 'participant' },
      async (tx, nowMs) => {
        const participant = { id: this.deps.ids.next('prt'), name, role, dcpId, createdAtMs: nowMs };
        if (!(await tx.insertParticipant(participant, apiKeySha256)))
          throw serviceError('apiKeyAlreadyRegistered');
        return { kind: 'participant', participant };
      },
    );
    return { value: answer.value.participant, replayed: answer.replayed };
  }

  /** A DCP posts a claim and the sealed upload it binds; the enclave stores the pair durably. */
  async storeUpload(
    caller: Participant,
    key: string,
    request: { readonly claim: string; readonly sealed: string },
  ): Promise<Answer<UploadStatus>> {
    const dcpId = callerDcpId(caller, 'post uploads');
    const posted = decodePostedUpload(this.deps.hasher, request.claim, request.sealed);
    const claimDigest = toHex(this.deps.hasher.sha256(posted.claim));
    const print = fingerprint('storeUpload', [posted.digest, claimDigest]);
    const answer = await this.transactions.relayed(
      { caller, key, fingerprint: print, kind: 'upload' },
      async (nowMs) => {
        const upload = await this.enclave.storeUpload({
          dcpId,
          claim: posted.claim,
          sealed: posted.sealed,
          receivedAtMs: nowMs,
        });
        assert(upload.digest === posted.digest, 'the enclave names the upload by the digest of its bytes');
        return { kind: 'upload', upload };
      },
      (tx, _result, nowMs) => tx.recordRelayedUpload(dcpId, posted.digest, nowMs),
    );
    return { value: answer.value.upload, replayed: answer.replayed };
  }

  /**
   * A DCP's renewal check (docs/mds.md, "Renewal check"): the enclave stores and ingests the pair,
   * then answers a verdict signed by the MDS key, which passes through unread. Idempotent by content
   * (the upload is stored once), so it takes no idempotency key; the relayed upload is recorded as
   * `POST /v1/uploads` records it, so the DCP may read its state and forward it later.
   */
  async checkRenewal(
    caller: Participant,
    request: { readonly claim: string; readonly sealed: string },
  ): Promise<Bytes> {
    const dcpId = callerDcpId(caller, 'check renewals');
    const posted = decodePostedUpload(this.deps.hasher, request.claim, request.sealed);
    const receivedAtMs = this.deps.clock.nowMs();
    const answer = await this.enclave.checkRenewal({
      dcpId,
      claim: posted.claim,
      sealed: posted.sealed,
      receivedAtMs,
    });
    await this.store.transaction((tx) => tx.recordRelayedUpload(dcpId, posted.digest, receivedAtMs));
    return answer.verdict;
  }

  /** The state of an upload this DCP posted; `uploadUnknown` for any other digest. */
  async uploadStatus(caller: Participant, digest: string): Promise<UploadStatus> {
    const dcpId = callerDcpId(caller, 'read uploads');
    const unknown = () => mdsError('uploadUnknown', `no upload ${digest} posted by DCP ${dcpId}`);
    if (!(await this.store.isRelayedUpload(dcpId, digest))) throw unknown();
    const status = await this.enclave.uploadStatus(dcpId, digest);
    if (status === undefined) throw unknown();
    return status;
  }

  /**
   * A DCP reports the issuances it signed, the tokens it retired and the credits it queued (with the
   * issuances that minted them); the enclave records them.
   */
  async recordReports(
    caller: Participant,
    key: string,
    request: Omit<RecordReportsRequest, 'dcpId'>,
  ): Promise<Answer<ReportCounts>> {
    const dcpId = callerDcpId(caller, 'report issuances and retirements');
    checkReportSize({
      issuances: request.issuances.length,
      retirements: request.retirements.length,
      credits: request.credits?.length ?? 0,
      mints: request.mints?.length ?? 0,
    });
    const print = fingerprint('recordReports', [
      toHex(this.deps.hasher.sha256(utf8(reportContent(request)))),
    ]);
    const answer = await this.transactions.relayed(
      { caller, key, fingerprint: print, kind: 'reports' },
      async () => ({ kind: 'reports', counts: await this.enclave.recordReports({ dcpId, ...request }) }),
    );
    return { value: answer.value.counts, replayed: answer.replayed };
  }

  alerts(caller: Participant, query: AlertQuery): Promise<readonly AlertRecord[]> {
    requireRole(caller, ['analyst', 'operator'], 'list alerts');
    return this.store.alerts(query);
  }

  /** The evidence of an alert, to an analyst; the read is audited before the enclave is asked. */
  async evidence(caller: Participant, alertId: string): Promise<EvidenceAnswer> {
    requireRole(caller, ['analyst'], 'read evidence');
    const alert = await this.findAlert(alertId);
    const event = {
      participantId: caller.id,
      role: caller.role,
      action: 'evidenceRead',
      subject: alertId,
    } as const;
    const entry = await this.store.transaction((tx) =>
      appendAudit(tx, this.deps.hasher, event, this.deps.clock.nowMs()),
    );
    const evidence = await this.enclave.evidence(alertId);
    if (evidence === undefined) throw mdsError('alertUnknown', `the enclave has no alert ${alertId}`);
    return { alert, evidence, auditSequence: entry.sequence };
  }

  /**
   * An analyst confirms an open alert; the directory is then asked to revoke the blamed SE. Answers
   * the alert as it stands after that request (revoked, or still confirmed if the directory did not
   * answer); a replay asks again for a revocation still pending and answers the same way.
   */
  async confirm(caller: Participant, key: string, alertId: string): Promise<Answer<AlertRecord>> {
    requireRole(caller, ['analyst'], 'confirm alerts');
    const print = fingerprint('confirmAlert', [alertId]);
    const answer = await this.transactions.idempotent(
      { caller, key, fingerprint: print, kind: 'confirm' },
      async (tx, nowMs) => {
        const alert = await tx.lockAlert(alertId);
        if (alert === null) throw mdsError('alertUnknown', `no alert ${alertId}`);
        if (alert.status !== 'open') throw mdsError('alertNotOpen', `alert ${alertId} is ${alert.status}`);
        await this.response.confirmIn(tx, alertId, { participantId: caller.id, role: caller.role }, nowMs);
        return { kind: 'confirm', alertId };
      },
    );
    const confirmed = await this.findAlert(answer.value.alertId);
    if (confirmed.status === 'confirmed' && confirmed.revocationRefusal === null)
      await this.response.revoke(confirmed);
    return { value: await this.findAlert(alertId), replayed: answer.replayed };
  }

  async auditEntries(
    caller: Participant,
    afterSequence: number,
    limit: number,
  ): Promise<readonly AuditEntry[]> {
    requireRole(caller, ['auditor'], 'read the audit log');
    return this.store.auditEntries(afterSequence, limit);
  }

  async verifyAudit(caller: Participant): Promise<AuditVerdict> {
    requireRole(caller, ['auditor'], 'verify the audit log');
    return verifyMdsAudit(this.store, this.deps.hasher);
  }

  async status(caller: Participant): Promise<MdsStatus> {
    requireRole(caller, ['operator'], 'read the status');
    const [enclave, alerts] = await Promise.all([this.enclave.status(), this.store.alertCounts()]);
    return { enclave, alerts, lastRevocationFailure: this.response.lastRevocationFailure };
  }

  private async findAlert(alertId: string): Promise<AlertRecord> {
    const alert = await this.store.findAlert(alertId);
    if (alert === null) throw mdsError('alertUnknown', `no alert ${alertId}`);
    return alert;
  }
}

/** Checks the whole audit chain from the store (the route and `cbdc mds audit verify`). */
export async function verifyMdsAudit(store: MdsStore, hasher: Hasher): Promise<AuditVerdict> {
  return verifyAuditChain(hasher, await store.auditHead(), (after) =>
    store.auditEntries(after, auditVerifyPageEntriesMax),
  );
}

/** A report's content as its fingerprint reads it: the same items, the same fingerprint. */
function reportContent(request: Omit<RecordReportsRequest, 'dcpId'>): string {
  const retirements = request.retirements.map((item) => [
    item.tokenId,
    `${item.value}`,
    item.seId,
    item.uploadDigest,
    item.retiredAtMs,
  ]);
  const credits = (request.credits ?? []).map((item) => [
    item.creditId,
    item.seId,
    item.kind,
    `${item.value}`,
    item.queuedAtMs,
  ]);
  const mints = (request.mints ?? []).map((item) => [item.creditId, item.issuanceId]);
  // A report without credits reads as before they existed, so its fingerprint is unchanged.
  const parts: unknown[] = [request.issuances.map(toHex), retirements];
  if (credits.length > 0 || mints.length > 0) parts.push(credits, mints);
  return JSON.stringify(parts);
}
