// The directory's operations. Pure orchestration over injected ports: no I/O of its own, no clock,
// no randomness. Every mutation runs in one storage transaction, so it happens entirely or not at
// all; a refusal (a thrown typed error) rolls everything back, idempotency claim included, so a
// refused request changes nothing and may be retried with the same key once the cause is gone.
import { assert } from '../../core/assert.ts';
import { ParticipantService } from '../../service-kit/participant-service.ts';
import { toHex, type Bytes } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { certificateFromCbor, isSecureElementRole, type Certificate } from '../../core/certificate.ts';
import type { Signer, Verifier } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';
import { verifySecureElementCertificate, type TrustAnchors } from '../../core/trust.ts';
import { requestFingerprint as fingerprint, type IdempotentAnswer } from '../../storage/idempotency.ts';
import { directoryError } from '../api/errors.ts';
import { denyListDelta, signDenyList } from './deny-list.ts';
import { denyListEntriesMax } from './limits.ts';
import type { DirectoryStore, DirectoryTransaction } from './ports.ts';
import {
  callerDcpId,
  checkBaseUrl,
  checkParticipantDcpId,
  checkTransition,
  isDenied,
  mayReadWallet,
  registrationOfKnown,
  requireRole,
} from './rules.ts';
import type {
  ApiKeys,
  Clock,
  DcpEndpoint,
  DenyListDelta,
  DenyListVersion,
  IdGenerator,
  Participant,
  Role,
  SecureElementRecord,
  Status,
  StoredResult,
} from './types.ts';

/** An idempotent answer: `replayed` is true when it comes from an earlier request with the same key. */
export type Answer<T> = IdempotentAnswer<T>;

export interface DirectoryDependencies {
  readonly store: DirectoryStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly apiKeys: ApiKeys;
  readonly verifier: Verifier;
  /** The root and the DCP issuers it certified (from the deployment's trust file). */
  readonly anchors: TrustAnchors;
  /** The directory's signing key (its certificate is in the trust file). */
  readonly signer: Signer;
  readonly directoryId: PrincipalId;
  /** How long an idempotency key's answer replays (default idempotencyRetentionMsDefault, 7 days). */
  readonly idempotencyRetentionMs?: number;
}

export interface SecureElementView {
  readonly record: SecureElementRecord;
  readonly walletVisible: boolean;
}

export interface StatusChangeOutcome {
  readonly secureElement: SecureElementRecord;
  readonly denyListVersion: number;
}

export interface DenyListAnswer {
  readonly current: DenyListVersion;
  readonly delta: DenyListDelta | null;
}

const everyRole: readonly Role[] = ['operator', 'dcp', 'mds'];

/** The directory's operations; authentication, the bootstrap operator and idempotency are the kit's. */
export class DirectoryService extends ParticipantService<
  Participant,
  StoredResult,
  DirectoryTransaction,
  DirectoryStore
> {
  constructor(private readonly deps: DirectoryDependencies) {
    super({
      ...deps,
      operator: (id, name, createdAtMs) => ({ id, name, role: 'operator', dcpId: null, createdAtMs }),
    });
  }

  async createParticipant(
    caller: Participant,
    key: string,
    request: { readonly name: string; readonly role: Role; readonly dcpId: string | null },
  ): Promise<Answer<{ readonly participant: Participant; readonly apiKey: string }>> {
    requireRole(caller, ['operator'], 'create participants');
    checkParticipantDcpId(request.role, request.dcpId);
    if (request.dcpId !== null && !this.deps.anchors.dcpIssuers.has(request.dcpId))
      throw directoryError('dcpIssuerUnknown', `DCP ${request.dcpId}`);
    const print = fingerprint('createParticipant', [request.name, request.role, request.dcpId]);
    const answer = await this.idempotent(caller, key, print, 'participant', async (tx, nowMs) => {
      const participant: Participant = { id: this.deps.ids.next('prt'), ...request, createdAtMs: nowMs };
      const digest = this.deps.apiKeys.digest(this.deps.apiKeys.keyFor(participant.id));
      assert(await tx.insertParticipant(participant, digest), 'derived keys of fresh ids are free');
      return { kind: 'participant', participant };
    });
    const { participant } = answer.value;
    return {
      value: { participant, apiKey: this.deps.apiKeys.keyFor(participant.id) },
      replayed: answer.replayed,
    };
  }

  /** A DCP registers the certificate of an SE it personalised, under the wallet it belongs to. */
  async registerSecureElement(
    caller: Participant,
    key: string,
    request: { readonly certificate: Bytes; readonly walletId: string },
  ): Promise<Answer<SecureElementRecord>> {
    const dcpId = callerDcpId(caller, 'register secure elements');
    const certificate = this.checkCertificate(request.certificate, dcpId);
    const print = fingerprint('registerSecureElement', [toHex(request.certificate), request.walletId]);
    const answer = await this.idempotent(caller, key, print, 'registration', async (tx, nowMs) => {
      const secureElement = await this.register(tx, caller, certificate, request, nowMs);
      return { kind: 'registration', secureElement };
    });
    return { value: answer.value.secureElement, replayed: answer.replayed };
  }

  async secureElement(caller: Participant, seId: string): Promise<SecureElementView> {
    requireRole(caller, everyRole, 'read secure elements');
    const record = await this.store.findSecureElement(seId);
    if (record === null) throw directoryError('secureElementNotRegistered', `secure element ${seId}`);
    return { record, walletVisible: mayReadWallet(caller, record) };
  }

  /** The MDS or an operator suspends, reactivates or revokes an SE; the deny list follows. */
  async changeStatus(
    caller: Participant,
    key: string,
    seId: string,
    request: { readonly status: Status; readonly reason: string },
  ): Promise<Answer<StatusChangeOutcome>> {
    requireRole(caller, ['mds', 'operator'], 'change the status of secure elements');
    const print = fingerprint('changeStatus', [seId, request.status, request.reason]);
    const answer = await this.idempotent(caller, key, print, 'statusChange', async (tx, nowMs) => {
      const record = await tx.lockSecureElement(seId);
      if (record === null) throw directoryError('secureElementNotRegistered', `secure element ${seId}`);
      checkTransition(record, request.status);
      const change = { ...request, changedBy: caller.id, changedAtMs: nowMs };
      await tx.appendStatusChange(seId, request.status, change, record.history.length + 1);
      const secureElement = { ...record, status: request.status, history: [...record.history, change] };
      let denyListVersion = await tx.lockDenyListHead();
      assert(denyListVersion >= 0, 'version 0 is published before the service answers');
      if (isDenied(record.status) !== isDenied(request.status))
        denyListVersion = (await this.publish(tx, denyListVersion, nowMs)).version;
      return { kind: 'statusChange', secureElement, denyListVersion };
    });
    const { secureElement, denyListVersion } = answer.value;
    return { value: { secureElement, denyListVersion }, replayed: answer.replayed };
  }

  /** The current signed list, and with `since` what changed from that version to it. */
  async denyList(since?: number): Promise<DenyListAnswer> {
    const current = await this.store.latestDenyList();
    assert(current !== null, 'version 0 is published before the service answers');
    if (since === undefined) return { current, delta: null };
    if (since > current.version) {
      throw directoryError('denyListVersionUnknown', `since ${since}, current version ${current.version}`);
    }
    const from = since === current.version ? current : await this.store.denyList(since);
    assert(from !== null, 'every version from 0 to the current one is kept');
    return { current, delta: denyListDelta(from, current) };
  }

  /**
   * At start: publishes version 0 if there is none, or a new version with the same set if the newest
   * was signed by another directory key (a key rotation), so `GET /deny-list` always has an answer
   * the SEs' directory certificate verifies.
   */
  async ensureDenyList(): Promise<DenyListVersion> {
    return this.store.transaction(async (tx) => {
      const head = await tx.lockDenyListHead();
      const latest = await tx.latestDenyList();
      if (latest !== null && latest.directoryId === toHex(this.deps.directoryId)) return latest;
      return this.publish(tx, head, this.clock.nowMs());
    });
  }

  async putDcpEndpoint(
    caller: Participant,
    key: string,
    dcpId: string,
    baseUrl: string,
  ): Promise<Answer<DcpEndpoint>> {
    if (callerDcpId(caller, 'set DCP endpoints') !== dcpId)
      throw directoryError('dcpIdNotCaller', `caller is DCP ${caller.dcpId ?? ''}`);
    checkBaseUrl(baseUrl);
    const print = fingerprint('putDcpEndpoint', [dcpId, baseUrl]);
    const answer = await this.idempotent(caller, key, print, 'dcpEndpoint', async (tx, nowMs) => {
      const endpoint = { dcpId, baseUrl, updatedAtMs: nowMs };
      await tx.upsertDcpEndpoint(endpoint, caller.id);
      return { kind: 'dcpEndpoint', endpoint };
    });
    return { value: answer.value.endpoint, replayed: answer.replayed };
  }

  async dcpEndpoint(caller: Participant, dcpId: string): Promise<DcpEndpoint> {
    requireRole(caller, everyRole, 'read DCP endpoints');
    const endpoint = await this.store.dcpEndpoint(dcpId);
    if (endpoint === null) throw directoryError('dcpEndpointNotFound', `DCP ${dcpId}`);
    return endpoint;
  }

  /** Decodes (strictly, core's codes) and verifies the chain; the issuer must be the caller. */
  private checkCertificate(bytes: Bytes, dcpId: string): Certificate {
    const certificate = certificateFromCbor(decodeCbor(bytes));
    const nowSeconds = Math.floor(this.clock.nowMs() / 1000);
    verifySecureElementCertificate(this.deps.verifier, this.deps.anchors, certificate, nowSeconds);
    if (toHex(certificate.body.issuerId) !== dcpId) {
      throw directoryError('certificateIssuerNotCaller', `issued by DCP ${toHex(certificate.body.issuerId)}`);
    }
    return certificate;
  }

  private async register(
    tx: DirectoryTransaction,
    caller: Participant,
    certificate: Certificate,
    request: { readonly certificate: Bytes; readonly walletId: string },
    nowMs: number,
  ): Promise<SecureElementRecord> {
    const body = certificate.body;
    assert(isSecureElementRole(body.role), 'the chain check accepts only card and phone certificates');
    const seId = toHex(body.subjectId);
    // Two attempts: on PostgreSQL a concurrent registration of the same SE under another key may
    // insert between our read and our insert; the second read then finds it.
    for (let attempt = 0; attempt < 2; attempt++) {
      const known = await tx.lockSecureElement(seId);
      if (known !== null) {
        if (
          registrationOfKnown(
            known,
            { dcpId: toHex(body.issuerId), walletId: request.walletId },
            request.certificate,
            body.validUntil,
          ) === 'unchanged'
        )
          return known;
        await tx.replaceCertificate(seId, request.certificate, body.validUntil);
        return { ...known, certificate: request.certificate, validUntil: body.validUntil };
      }
      const record: SecureElementRecord = {
        seId,
        dcpId: toHex(body.issuerId),
        kind: body.role,
        walletId: request.walletId,
        status: 'active',
        certificate: request.certificate,
        validUntil: body.validUntil,
        registeredAtMs: nowMs,
        history: [{ status: 'active', reason: 'registered', changedBy: caller.id, changedAtMs: nowMs }],
      };
      if (await tx.insertSecureElement(record)) return record;
    }
    assert(false, 'a secure element that could not be inserted is found on the second read');
  }

  /** Signs the current deny set as version `head + 1`; refuses a list longer than an SE holds. */
  private async publish(tx: DirectoryTransaction, head: number, nowMs: number): Promise<DenyListVersion> {
    const nowSeconds = Math.floor(nowMs / 1000);
    const entries = await tx.deniedSecureElements(nowSeconds, denyListEntriesMax + 1);
    if (entries.length > denyListEntriesMax) {
      throw directoryError('denyListFull', `more than ${denyListEntriesMax} secure elements would be denied`);
    }
    const list = signDenyList(this.deps.signer, this.deps.directoryId, head + 1, nowSeconds, entries);
    await tx.insertDenyList(list, nowMs);
    return list;
  }
}
