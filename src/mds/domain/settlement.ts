// Supply and settlement between DCP pools (docs/mds.md, "Supply and settlement"). Pure orchestration
// over injected ports: the enclave's supply figures, the ledger (read-only for pools, pool-to-pool
// payments with its `settlement` role) and the store of settlement runs.
//
// A run for a period moves, per DCP d, target(d) − settled(d), where
//   target(d)  = retired(d) − retiredBacked(d)   (the enclave: value retired at d minus the retired
//                                                 value d's issuances back, by attribution)
//   settled(d) = the ledger's figure of d's pool  (what settlement payments moved so far)
// so that afterwards pool(d) = issued(d) − retired(d) + settled(d) = attributed outstanding(d).
// Both sum to zero over the DCPs, so the moves net out; they are paired greedily, debtors and
// creditors each in DCP id order, into at most (DCPs − 1) payments.
//
//   run:  (none) ──plan──▶ pending ──every payment made──▶ completed
//                             └── a ledger failure: stays pending; the next request continues it
//
// A run is idempotent per period: asked again, a completed run answers as it is and a pending one
// continues with the same plan. Every payment's ledger idempotency key derives from the period and
// the pair, so a retry after a crash is a replay at the ledger. A new period is planned only once
// no run is pending, so no plan is made from figures that a half-done run would still change.
import { assert } from '../../core/assert.ts';
import { mdsError } from '../api/errors.ts';
import {
  settlementsPageMax,
  type DcpSupply,
  type SettlementRun as ApiSettlementRun,
  type SettlementTransfer,
} from '../api/types.ts';
import type { EnclavePort, EnclaveSupply } from '../channel/protocol.ts';
import { requireRole } from './rules.ts';
import type { Clock, Participant } from './types.ts';

export type { SettlementTransfer } from '../api/types.ts';

/** A run as stored: the API's, with its place in the list (runs are listed newest first). */
export interface SettlementRun extends ApiSettlementRun {
  readonly position: number;
}

export interface PoolFigures {
  readonly balance: bigint;
  readonly settled: bigint;
}

/** The core ledger, with the MDS's `settlement` participant (src/mds/adapters/ledger.ts). */
export interface SettlementLedger {
  pool(accountId: string): Promise<PoolFigures>;
  /** Pays pool to pool as a settlement; the key makes a retry a replay. Answers the payment id. */
  pay(
    payerAccountId: string,
    payeeAccountId: string,
    amount: bigint,
    key: string,
    reference: string,
  ): Promise<string>;
}

export interface SettlementStore {
  /** Inserts the run as pending with its plan unless the period has one; answers the run as stored. */
  insertRun(
    period: string,
    startedAtMs: number,
    transfers: readonly SettlementTransfer[],
  ): Promise<SettlementRun>;
  findRun(period: string): Promise<SettlementRun | null>;
  pendingRun(): Promise<SettlementRun | null>;
  recordPayment(
    period: string,
    payerDcpId: string,
    payeeDcpId: string,
    ledgerPaymentId: string,
  ): Promise<void>;
  completeRun(period: string, completedAtMs: number): Promise<void>;
  /** Runs before `beforePosition` (all when null), newest first, at most `limit`. */
  runs(beforePosition: number | null, limit: number): Promise<readonly SettlementRun[]>;
  /** The pool account of each DCP (hex DCP id → ledger account id), as operators set them. */
  pools(): Promise<ReadonlyMap<string, string>>;
  setPool(dcpId: string, accountId: string): Promise<void>;
}

export interface SettlementDependencies {
  readonly enclave: EnclavePort;
  readonly clock: Clock;
  /**
   * Absent when the deployment gives the MDS no ledger: the supply shows no pools, and runs are
   * refused (`settlementLedgerUnavailable`).
   */
  readonly settlement?: {
    readonly store: SettlementStore;
    readonly ledger: SettlementLedger;
  };
}

/** One DCP's figures: the enclave's, its attributed outstanding, and its pool as the ledger has it. */
export type DcpSupplyFigures = DcpSupply;

export interface SupplyFigures {
  readonly atMs: number;
  readonly dcps: readonly DcpSupplyFigures[];
  readonly enclave: EnclaveSupply;
}

/** The ledger key of one settlement payment: a retry of the same run is a replay at the ledger. */
export function settlementKey(period: string, payerDcpId: string, payeeDcpId: string): string {
  const key = `settlement-${period}-${payerDcpId}-${payeeDcpId}`;
  assert(key.length <= 128, 'a period is at most 40 characters');
  return key;
}

/**
 * The payments that move each DCP by `moves` (positive: into its pool), which sum to zero: the
 * debtors in DCP id order pay the creditors in DCP id order, each as much as both still need.
 */
export function pairMoves(moves: ReadonlyMap<string, bigint>): SettlementTransfer[] {
  const total = [...moves.values()].reduce((sum, move) => sum + move, 0n);
  assert(total === 0n, 'settlement moves sum to zero');
  const ids = [...moves.keys()].sort();
  const debtors = ids
    .filter((id) => (moves.get(id) ?? 0n) < 0n)
    .map((id) => ({ id, left: -(moves.get(id) ?? 0n) }));
  const creditors = ids
    .filter((id) => (moves.get(id) ?? 0n) > 0n)
    .map((id) => ({ id, left: moves.get(id) ?? 0n }));
  const transfers: SettlementTransfer[] = [];
  let d = 0;
  let c = 0;
  while (d < debtors.length && c < creditors.length) {
    const debtor = debtors[d] as { id: string; left: bigint };
    const creditor = creditors[c] as { id: string; left: bigint };
    const amount = debtor.left < creditor.left ? debtor.left : creditor.left;
    transfers.push({ payerDcpId: debtor.id, payeeDcpId: creditor.id, amount, ledgerPaymentId: null });
    debtor.left -= amount;
    creditor.left -= amount;
    if (debtor.left === 0n) d++;
    if (creditor.left === 0n) c++;
  }
  assert(d === debtors.length && c === creditors.length, 'every move is paired');
  return transfers;
}

type Configured = NonNullable<SettlementDependencies['settlement']>;

export class Settlements {
  constructor(private readonly deps: SettlementDependencies) {}

  /** `GET /v1/supply`: the enclave's figures per DCP, with each pool as the ledger has it. */
  async supply(caller: Participant): Promise<SupplyFigures> {
    requireRole(caller, ['operator', 'analyst'], 'read the supply');
    const enclave = await this.deps.enclave.supply();
    const pools = (await this.deps.settlement?.store.pools()) ?? new Map<string, string>();
    const dcps: DcpSupplyFigures[] = [];
    for (const dcp of enclave.dcps) {
      const accountId = pools.get(dcp.dcpId);
      const pool = accountId === undefined ? null : await this.configured().ledger.pool(accountId);
      dcps.push({
        ...dcp,
        attributedOutstanding: dcp.issued - dcp.retiredBacked,
        settled: pool?.settled ?? 0n,
        poolBalance: pool?.balance ?? null,
      });
    }
    return { atMs: this.deps.clock.nowMs(), dcps, enclave };
  }

  /** `POST /v1/settlements`: the run of `period`, planned or continued, and carried out. */
  async run(caller: Participant, period: string): Promise<SettlementRun> {
    requireRole(caller, ['operator'], 'run a settlement');
    return this.settle(period);
  }

  /**
   * The run of `period`, for the process's own schedule (`settlementIntervalMs`): the period is
   * named by the schedule's step, `periodic-<start ms>`, so a restart within a step continues it.
   */
  async settle(period: string): Promise<SettlementRun> {
    const settlement = this.configured();
    const known = await settlement.store.findRun(period);
    if (known?.state === 'completed') return known;
    const pools = await settlement.store.pools();
    const pending = await settlement.store.pendingRun();
    if (pending !== null && pending.period !== period) await this.carryOut(settlement, pools, pending);
    const run = known ?? (await this.plan(settlement, pools, period));
    return this.carryOut(settlement, pools, run);
  }

  /** `PUT /v1/settlement-pools/{dcpId}`: the ledger account settlement pays that DCP's pool from and to. */
  async setPool(caller: Participant, dcpId: string, accountId: string): Promise<void> {
    requireRole(caller, ['operator'], 'configure settlement pools');
    await this.configured().store.setPool(dcpId, accountId);
  }

  async runs(
    caller: Participant,
    beforePosition: number | null,
    limit: number,
  ): Promise<readonly SettlementRun[]> {
    requireRole(caller, ['operator', 'analyst'], 'list settlement runs');
    return this.configured().store.runs(beforePosition, Math.min(limit, settlementsPageMax));
  }

  private async plan(
    settlement: Configured,
    pools: ReadonlyMap<string, string>,
    period: string,
  ): Promise<SettlementRun> {
    const enclave = await this.deps.enclave.supply();
    const moves = new Map<string, bigint>();
    for (const dcp of enclave.dcps) {
      const target = dcp.retired - dcp.retiredBacked;
      const accountId = pools.get(dcp.dcpId);
      if (accountId === undefined) {
        if (target !== 0n) throw mdsError('settlementPoolUnknown', `DCP ${dcp.dcpId} has no pool configured`);
        continue;
      }
      const pool = await settlement.ledger.pool(accountId);
      if (target !== pool.settled) moves.set(dcp.dcpId, target - pool.settled);
    }
    return settlement.store.insertRun(period, this.deps.clock.nowMs(), pairMoves(moves));
  }

  private async carryOut(
    settlement: Configured,
    pools: ReadonlyMap<string, string>,
    run: SettlementRun,
  ): Promise<SettlementRun> {
    for (const transfer of run.transfers) {
      if (transfer.ledgerPaymentId !== null) continue;
      const payer = pools.get(transfer.payerDcpId);
      const payee = pools.get(transfer.payeeDcpId);
      if (payer === undefined || payee === undefined)
        throw mdsError('settlementPoolUnknown', `a pool of run ${run.period} is no longer configured`);
      const key = settlementKey(run.period, transfer.payerDcpId, transfer.payeeDcpId);
      const paymentId = await settlement.ledger.pay(
        payer,
        payee,
        transfer.amount,
        key,
        `settlement ${run.period}`,
      );
      await settlement.store.recordPayment(run.period, transfer.payerDcpId, transfer.payeeDcpId, paymentId);
    }
    await settlement.store.completeRun(run.period, this.deps.clock.nowMs());
    const done = await settlement.store.findRun(run.period);
    assert(done !== null, 'a run carried out is stored');
    return done;
  }

  private configured(): Configured {
    if (this.deps.settlement === undefined)
      throw mdsError('settlementLedgerUnavailable', 'this MDS is deployed without a ledger');
    return this.deps.settlement;
  }
}
