// Settlement runs in the MDS API process's database (docs/mds.md, "Supply and settlement"): the
// `SettlementStore` of src/mds/domain/settlement.ts over the shared storage layer, both engines.
// A run and its plan are inserted in one transaction, so a run is never seen without its payments.
import { assert } from '../../core/assert.ts';
import type { Database, Executor, Row } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import type { SettlementRun, SettlementStore, SettlementTransfer } from '../domain/settlement.ts';

const runStates = ['pending', 'completed'] as const;

export class SqlSettlementStore implements SettlementStore {
  constructor(private readonly db: Database) {}

  insertRun(
    period: string,
    startedAtMs: number,
    transfers: readonly SettlementTransfer[],
  ): Promise<SettlementRun> {
    return this.db.transaction(async (tx) => {
      const known = await findRun(tx, period);
      if (known !== null) return known;
      // Serialises positions: on PostgreSQL two planners of different periods both read the last
      // position, and the UNIQUE constraint refuses the second, which its caller's retry redoes.
      const [last] = await tx.all('SELECT COALESCE(MAX(position), 0) AS position FROM mds_settlements');
      assert(last !== undefined, 'MAX answers one row');
      await tx.run(
        "INSERT INTO mds_settlements (period, position, state, started_at_ms) VALUES (?, ?, 'pending', ?) ON CONFLICT (period) DO NOTHING",
        [period, columnSafeInteger(last, 'position') + 1, startedAtMs],
      );
      for (const transfer of transfers)
        await tx.run(
          'INSERT INTO mds_settlement_transfers (period, payer_dcp_id, payee_dcp_id, amount) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
          [period, transfer.payerDcpId, transfer.payeeDcpId, transfer.amount],
        );
      const stored = await findRun(tx, period);
      assert(stored !== null, 'the run was just inserted');
      return stored;
    });
  }

  findRun(period: string): Promise<SettlementRun | null> {
    return findRun(this.db, period);
  }

  async pendingRun(): Promise<SettlementRun | null> {
    const [row] = await this.db.all(
      "SELECT period FROM mds_settlements WHERE state = 'pending' ORDER BY position LIMIT 1",
    );
    return row === undefined ? null : findRun(this.db, columnText(row, 'period'));
  }

  async recordPayment(
    period: string,
    payerDcpId: string,
    payeeDcpId: string,
    ledgerPaymentId: string,
  ): Promise<void> {
    await this.db.run(
      'UPDATE mds_settlement_transfers SET ledger_payment_id = ? WHERE period = ? AND payer_dcp_id = ? AND payee_dcp_id = ?',
      [ledgerPaymentId, period, payerDcpId, payeeDcpId],
    );
  }

  async completeRun(period: string, completedAtMs: number): Promise<void> {
    await this.db.run(
      "UPDATE mds_settlements SET state = 'completed', completed_at_ms = ? WHERE period = ? AND state = 'pending'",
      [completedAtMs, period],
    );
  }

  async pools(): Promise<ReadonlyMap<string, string>> {
    const rows = await this.db.all('SELECT dcp_id, account_id FROM mds_settlement_pools');
    return new Map(rows.map((row) => [columnText(row, 'dcp_id'), columnText(row, 'account_id')]));
  }

  async setPool(dcpId: string, accountId: string): Promise<void> {
    await this.db.run(
      'INSERT INTO mds_settlement_pools (dcp_id, account_id) VALUES (?, ?) ON CONFLICT (dcp_id) DO UPDATE SET account_id = excluded.account_id',
      [dcpId, accountId],
    );
  }

  async runs(beforePosition: number | null, limit: number): Promise<readonly SettlementRun[]> {
    const rows = await this.db.all(
      `SELECT period FROM mds_settlements ${beforePosition === null ? '' : 'WHERE position < ?'} ORDER BY position DESC LIMIT ?`,
      beforePosition === null ? [limit] : [beforePosition, limit],
    );
    const runs: SettlementRun[] = [];
    for (const row of rows) {
      const run = await findRun(this.db, columnText(row, 'period'));
      assert(run !== null, 'a listed run exists');
      runs.push(run);
    }
    return runs;
  }
}

async function findRun(tx: Executor, period: string): Promise<SettlementRun | null> {
  const [row] = await tx.all(
    'SELECT period, position, state, started_at_ms, completed_at_ms FROM mds_settlements WHERE period = ?',
    [period],
  );
  if (row === undefined) return null;
  const transfers = await tx.all(
    'SELECT payer_dcp_id, payee_dcp_id, amount, ledger_payment_id FROM mds_settlement_transfers WHERE period = ? ORDER BY payer_dcp_id, payee_dcp_id',
    [period],
  );
  return runFromRows(row, transfers);
}

function runFromRows(row: Row, transfers: readonly Row[]): SettlementRun {
  const completed = row['completed_at_ms'];
  return {
    period: columnText(row, 'period'),
    position: columnSafeInteger(row, 'position'),
    state: columnOneOf(row, 'state', runStates),
    startedAtMs: columnSafeInteger(row, 'started_at_ms'),
    completedAtMs: completed === null ? null : columnSafeInteger(row, 'completed_at_ms'),
    transfers: transfers.map((transfer) => ({
      payerDcpId: columnText(transfer, 'payer_dcp_id'),
      payeeDcpId: columnText(transfer, 'payee_dcp_id'),
      amount: columnBigint(transfer, 'amount'),
      ledgerPaymentId: columnTextOrNull(transfer, 'ledger_payment_id'),
    })),
  };
}
