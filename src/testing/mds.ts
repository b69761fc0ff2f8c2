// Test support for the MDS API process: a double of the *enclave interface* (`EnclavePort`) for
// HTTP-layer tests only — it keeps uploads, reports, alerts and evidence in memory exactly as the
// channel's contract states them, so the API process's own rules (roles, decoding, idempotency, the
// audit log, the response) are tested through `inject`; the system tests use the real enclave. Also
// a fixture: a migrated scratch database on either engine, the app on a manual clock, participants
// of every role, and posted claims that bind their sealed bytes.
import { randomBytes } from 'node:crypto';
import { toHex, type Bytes } from '../core/bytes.ts';
import { claimBodyToCbor } from '../core/claim.ts';
import { purposes } from '../core/crypto.ts';
import { principalIdOf } from '../core/ids.ts';
import { encodeSigned, signBody } from '../core/signed.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import { mdsError } from '../mds/api/errors.ts';
import type {
  EnclaveRecoveries,
  EnclaveRefund,
  RefundExecution,
  RefundsChunk,
  AlertKind,
  AlertsPage,
  DenyListCounts,
  EnclaveAlert,
  EnclavePort,
  EnclaveStatus,
  EnclaveSupply,
  IndicatorBucket,
  IndicatorsRequest,
  EvidenceItem,
  RecordReportsRequest,
  RenewalCheckAnswer,
  RenewalCheckRequest,
  ReportCounts,
  StoreUploadRequest,
  UploadStatus,
} from '../mds/channel/protocol.ts';
import type { RevocationPort } from '../mds/domain/ports.ts';
import type { ResponsePolicy } from '../mds/domain/rules.ts';
import type { MdsService } from '../mds/domain/service.ts';
import { buildMdsApp, type MdsApp } from '../mds/http/app.ts';
import { prepareMdsDatabase } from '../mds/server.ts';
import { SqlMdsStore } from '../mds/store/sql-store.ts';
import type { Database, Engine } from '../storage/database.ts';
import { openDatabase } from '../storage/open.ts';
import { apiKeyDigest } from '../service-kit/api-key.ts';
import { dcpIdOf, testPki } from './directory.ts';
import { createScratchDatabase } from './scratch.ts';
import { freePort } from './service-process.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { DirectoryRevocations } from '../mds/adapters/directory.ts';
import { call, countingIds, freshKey, ManualClock, newApiKey } from './service-kit.ts';
import { SqlSettlementStore } from '../mds/store/settlement-store.ts';
import type { PoolFigures, SettlementLedger } from '../mds/domain/settlement.ts';

export * from './service-kit.ts';

const verifier = new NodeVerifier();

interface StoredPair {
  readonly dcpId: string;
  readonly claim: string;
  status: UploadStatus;
}

/** The enclave interface in memory. `available = false` makes every call fail as a dead enclave does. */
export class EnclaveDouble implements EnclavePort {
  available = true;
  readonly uploads = new Map<string, StoredPair>();
  readonly issuances = new Set<string>();
  readonly retirements = new Map<string, string>();
  readonly evidenceOf = new Map<string, readonly EvidenceItem[]>();
  /** Every call by method name, in order (what a refused request must not have reached). */
  readonly calls: string[] = [];
  /** Runs before `evidence` answers: the test reads the audit log as the enclave is asked. */
  beforeEvidence: (alertId: string) => Promise<void> = async () => {};
  /** What `supply` answers. */
  supplyFigures: EnclaveSupply = {
    dcps: [],
    unbackedObservedOffline: 0n,
    unbackedRetired: 0n,
    createdByFraud: 0n,
  };
  private alerts: EnclaveAlert[] = [];
  private sequence = 0;

  storeUpload(request: StoreUploadRequest): Promise<UploadStatus> {
    return this.answer('storeUpload', () => {
      const digest = toHex(verifier.sha256(request.sealed));
      const claim = toHex(request.claim);
      const known = this.uploads.get(digest);
      if (known !== undefined && (known.claim !== claim || known.dcpId !== request.dcpId))
        throw mdsError('uploadConflict', `upload ${digest} was posted with another claim or DCP`);
      if (known !== undefined) return known.status;
      const status: UploadStatus = { digest, state: 'stored', refusal: null };
      this.uploads.set(digest, { dcpId: request.dcpId, claim, status });
      return status;
    });
  }

  uploadStatus(dcpId: string, digest: string): Promise<UploadStatus | undefined> {
    return this.answer('uploadStatus', () => {
      const known = this.uploads.get(digest);
      return known?.dcpId === dcpId ? known.status : undefined;
    });
  }

  /** What ingest would do later: the upload's state moves on. */
  setUploadState(digest: string, status: Omit<UploadStatus, 'digest'>): void {
    const known = this.uploads.get(digest);
    if (known === undefined) throw new RangeError(`no upload ${digest}`);
    known.status = { digest, ...status };
  }

  recordReports(request: RecordReportsRequest): Promise<ReportCounts> {
    return this.answer('recordReports', () => {
      let issuances = 0;
      let retirements = 0;
      for (const issuance of request.issuances) {
        const hex = toHex(issuance);
        if (!this.issuances.has(hex)) issuances++;
        this.issuances.add(hex);
      }
      for (const item of request.retirements) {
        const content = `${item.value}/${item.seId}/${item.uploadDigest}/${item.retiredAtMs}`;
        const known = this.retirements.get(item.tokenId);
        if (known !== undefined && known !== content)
          throw mdsError('reportConflict', `token ${item.tokenId} was retired with other content`);
        if (known === undefined) retirements++;
        this.retirements.set(item.tokenId, content);
      }
      return { issuances, retirements };
    });
  }

  supply(): Promise<EnclaveSupply> {
    return this.answer('supply', () => this.supplyFigures);
  }

  /** What `indicators` answers; the last request asked. */
  indicatorBuckets: readonly IndicatorBucket[] = [];
  indicatorsAsked: IndicatorsRequest | null = null;

  indicators(request: IndicatorsRequest): Promise<readonly IndicatorBucket[]> {
    return this.answer('indicators', () => {
      this.indicatorsAsked = request;
      return this.indicatorBuckets;
    });
  }

  /** Raises (or, for a known id, updates) an alert with the next sequence, as ingest does. */
  raise(alert: Omit<EnclaveAlert, 'sequence'>, evidence: readonly EvidenceItem[] = []): EnclaveAlert {
    const raised = { ...alert, sequence: ++this.sequence };
    this.alerts = [...this.alerts.filter((known) => known.id !== alert.id), raised];
    this.evidenceOf.set(alert.id, evidence);
    return raised;
  }

  alertsAfter(after: number, limit: number): Promise<AlertsPage> {
    return this.answer('alertsAfter', () => {
      const alerts = this.alerts.filter((alert) => alert.sequence > after).slice(0, limit);
      return { alerts, sequence: alerts.at(-1)?.sequence ?? after };
    });
  }

  async evidence(alertId: string): Promise<readonly EvidenceItem[] | undefined> {
    if (this.available) await this.beforeEvidence(alertId);
    return this.answer('evidence', () => this.evidenceOf.get(alertId));
  }

  status(): Promise<EnclaveStatus> {
    return this.answer('status', () => {
      const uploads = { stored: 0, ingested: 0, refused: 0 };
      for (const pair of this.uploads.values()) uploads[pair.status.state]++;
      const alerts: Record<AlertKind, number> = {
        doubleSpend: 0,
        fakeFunding: 0,
        counterReuse: 0,
        unknownSigner: 0,
        revokedSigner: 0,
      };
      for (const alert of this.alerts) alerts[alert.kind]++;
      return { uploads, alerts };
    });
  }

  /** Refund decisions as ingest would record them, by DCP; `executedAtMs` set once acknowledged. */
  readonly refunds: {
    dcpId: string;
    transferId: string;
    refund: EnclaveRefund;
    decidedAtMs: number;
    executedAtMs: number | null;
  }[] = [];

  refundsFor(dcpId: string, after: number, limit: number): Promise<RefundsChunk> {
    return this.answer('refundsFor', () => {
      const refunds = this.refunds
        .filter((held) => held.dcpId === dcpId && held.executedAtMs === null && held.refund.sequence > after)
        .slice(0, limit)
        .map((held) => held.refund);
      return { refunds, sequence: refunds.at(-1)?.sequence ?? after };
    });
  }

  executeRefund(
    dcpId: string,
    decisionId: string,
    executedAtMs: number,
  ): Promise<RefundExecution | undefined> {
    return this.answer('executeRefund', () => {
      const held = this.refunds.find((item) => item.dcpId === dcpId && item.refund.decisionId === decisionId);
      if (held === undefined) return undefined;
      held.executedAtMs ??= executedAtMs;
      return { decisionId, executedAtMs: held.executedAtMs };
    });
  }

  recoveries(): Promise<EnclaveRecoveries> {
    return this.answer('recoveries', () => {
      const executed = this.refunds.filter((held) => held.executedAtMs !== null);
      const total = (items: typeof this.refunds) => items.reduce((sum, held) => sum + held.refund.value, 0n);
      return {
        inFlight: { count: 0, value: 0n, transfers: [] },
        refunds: {
          count: this.refunds.length,
          value: total(this.refunds),
          executedCount: executed.length,
          executedValue: total(executed),
          decisions: this.refunds.map((held) => ({
            decisionId: held.refund.decisionId,
            transferId: held.transferId,
            payerSeId: held.refund.seId,
            value: held.refund.value,
            decidedAtMs: held.decidedAtMs,
            executedAtMs: held.executedAtMs,
          })),
        },
      };
    });
  }

  /** Deny lists handed over, as their bytes in hex (the double checks no signature). */
  readonly denyLists: string[] = [];

  recordDenyList(list: Bytes): Promise<DenyListCounts> {
    return this.answer('recordDenyList', () => {
      const fresh = !this.denyLists.includes(toHex(list));
      if (fresh) this.denyLists.push(toHex(list));
      return { version: this.denyLists.length, denied: fresh ? 1 : 0 };
    });
  }

  // Async, so what `body` throws is a rejection, as a refusal crossing the channel is.
  /** What `checkRenewal` answers (a signed verdict envelope); unset, the check is unavailable. */
  verdictFor: ((request: RenewalCheckRequest) => Bytes) | undefined;

  /** Stores the pair as `storeUpload` does, then answers `verdictFor`'s verdict. */
  async checkRenewal(request: RenewalCheckRequest): Promise<RenewalCheckAnswer> {
    await this.storeUpload(request);
    return this.answer('checkRenewal', () => {
      if (this.verdictFor === undefined) throw mdsError('mdsEnclaveUnavailable', 'no verdict configured');
      return { verdict: this.verdictFor(request) };
    });
  }

  private async answer<T>(method: string, body: () => T): Promise<T> {
    this.calls.push(method);
    await Promise.resolve();
    if (!this.available) throw mdsError('mdsEnclaveUnavailable', 'the enclave process is not running');
    return body();
  }
}

/** A claim by a fresh SE that binds `sealed` by its digest, as the DCP relays it; both in hex. */
export function postedUpload(sealed: Bytes = randomBytes(300)): {
  readonly claim: string;
  readonly sealed: string;
  readonly digest: string;
} {
  const signer = NodeSigner.generate();
  const digest = verifier.sha256(sealed);
  const claim = signBody(
    signer,
    purposes.claim,
    {
      seId: principalIdOf(verifier, signer.publicKey),
      counter: 1,
      tokens: [{ tokenId: verifier.sha256(randomBytes(8)), value: 500n }],
      dcpNonce: randomBytes(16),
      uploadDigest: digest,
      lastSyncTime: 0,
    },
    claimBodyToCbor,
  );
  return { claim: toHex(encodeSigned(claim)), sealed: toHex(sealed), digest: toHex(digest) };
}

/** A deterministic-looking alert id (64 hex digits) from a label. */
/** Revocations through a directory that is not listening: confirmations stay `confirmed`. */
export async function unreachableRevocations(): Promise<DirectoryRevocations> {
  return new DirectoryRevocations(
    new DirectoryClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      apiKey: 'x'.repeat(32),
      attemptsMax: 1,
    }),
  );
}

export function alertIdOf(label: string): string {
  return toHex(verifier.sha256(new TextEncoder().encode(label)));
}

export interface MdsFixture {
  readonly app: MdsApp;
  readonly service: MdsService;
  readonly db: Database;
  readonly enclave: EnclaveDouble;
  readonly clock: ManualClock;
  readonly dcpAId: string;
  readonly dcpBId: string;
  readonly operatorKey: string;
  readonly keys: Readonly<Record<'dcpA' | 'dcpB' | 'analyst' | 'economist' | 'auditor', string>>;
  close(): Promise<void>;
}

export interface MdsFixtureOptions {
  readonly revocations: RevocationPort;
  readonly policy?: ResponsePolicy;
  readonly idempotencyRetentionMs?: number;
  /** A ledger for settlement runs (their store is the fixture's database); none: no settlement. */
  readonly settlementLedger?: SettlementLedger;
}

/** The ledger as settlement sees it, in memory: pools, settlement payments by key, a failure on demand. */
export class LedgerDouble implements SettlementLedger {
  readonly pools = new Map<string, PoolFigures>();
  readonly payments = new Map<string, { payer: string; payee: string; amount: bigint }>();
  /** Payments refused from now on (the ledger unreachable), until set back to false. */
  failing = false;

  pool(accountId: string): Promise<PoolFigures> {
    const pool = this.pools.get(accountId);
    if (this.failing || pool === undefined)
      return Promise.reject(mdsError('settlementLedgerUnavailable', `no pool ${accountId}`));
    return Promise.resolve(pool);
  }

  pay(payer: string, payee: string, amount: bigint, key: string): Promise<string> {
    if (this.failing) return Promise.reject(mdsError('settlementLedgerUnavailable', 'the ledger is down'));
    const known = this.payments.get(key);
    if (known === undefined) {
      const from = this.pools.get(payer);
      const to = this.pools.get(payee);
      if (from === undefined || to === undefined || from.balance < amount)
        return Promise.reject(mdsError('settlementLedgerUnavailable', 'refused'));
      this.pools.set(payer, { balance: from.balance - amount, settled: from.settled - amount });
      this.pools.set(payee, { balance: to.balance + amount, settled: to.settled + amount });
      this.payments.set(key, { payer, payee, amount });
    }
    return Promise.resolve(`payment-${key}`);
  }
}

export async function mdsFixture(engine: Engine, options: MdsFixtureOptions): Promise<MdsFixture> {
  const { pki, remove } = testPki();
  const scratch = await createScratchDatabase(engine);
  const db = openDatabase(scratch.url);
  const clock = new ManualClock();
  const enclave = new EnclaveDouble();
  const dcpAId = dcpIdOf(pki, 'bank-a');
  const dcpBId = dcpIdOf(pki, 'bank-b');
  const appOptions = {
    store: new SqlMdsStore(db),
    enclave,
    revocations: options.revocations,
    clock,
    ids: countingIds(),
    hasher: verifier,
    dcpIssuers: new Set([dcpAId, dcpBId]),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
    ...(options.settlementLedger === undefined
      ? {}
      : { settlement: { store: new SqlSettlementStore(db), ledger: options.settlementLedger } }),
  };
  const operatorKey = newApiKey();
  await prepareMdsDatabase(db, appOptions, operatorKey);
  const { app, service } = await buildMdsApp(appOptions);
  const participant = async (name: string, role: string, dcpId?: string): Promise<string> => {
    const apiKey = newApiKey();
    const body = {
      name,
      role,
      apiKeySha256: apiKeyDigest(apiKey),
      ...(dcpId === undefined ? {} : { dcpId }),
    };
    const created = await call(app, operatorKey, 'POST', '/v1/participants', { key: freshKey(), body });
    if (created.status !== 201) throw new Error(`participant: ${JSON.stringify(created.body)}`);
    return apiKey;
  };
  const keys = {
    dcpA: await participant('Bank A', 'dcp', dcpAId),
    dcpB: await participant('Bank B', 'dcp', dcpBId),
    analyst: await participant('Fraud analyst', 'analyst'),
    economist: await participant('Economist', 'economist'),
    auditor: await participant('Auditor', 'auditor'),
  };
  return {
    app,
    service,
    db,
    enclave,
    clock,
    dcpAId,
    dcpBId,
    operatorKey,
    keys,
    close: async () => {
      await app.close();
      await db.close();
      await scratch.drop();
      remove();
    },
  };
}
