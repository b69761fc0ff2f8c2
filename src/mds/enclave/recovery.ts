// Recovery of value in flight (docs/mds.md, "Recovery of value in flight"). A payment cut after PAY
// leaves its value on neither SE: the payer logged it pending, the payee never stored it. The payee's
// next sync expires the challenge (BEGIN SYNC), after which no RECEIVE can take that transfer, so:
//
//   a transfer reported pending by its payer, whose payee reported the challenge expired, and that
//   nothing shows delivered (no upload reports the challenge received or the payment acknowledged,
//   no upload holds or spends the payment token), is undelivered for good: refund its payment.
//
// Each of those facts is a row keyed by content (recovery-facts.ts), so the condition is a function
// of the set of uploads ingested, not of their order: the payer's upload may come before or after the
// payee's, either may come twice. The decision is taken by whichever upload completes the condition,
// in its ingest transaction, after the detectors (which hold the alert sequence lock until commit,
// so of two workers merging the payer's and the payee's uploads the second sees the first). Its id
// is a digest of the transfer id: one decision per transfer, however often the condition is met.
//
// A decision is final: for honest devices an expired challenge and a delivery exclude each other, so
// no later upload can show it wrong. The payer's DCP executes it (retires the payment token and
// queues a `refund` credit) and acknowledges it here, once.
//
//   pending transfer ──payee's upload: expired──▶ refund decided ──DCP acknowledges──▶ executed
//        └──payee's upload: received / ack / token held or spent──▶ delivered (never refunded)
import type { RecoveryFigures } from './supply.ts';
import { concatBytes, fromHex, toHex, utf8 } from '../../core/bytes.ts';
import { assert } from '../../core/assert.ts';
import type { Verifier } from '../../core/crypto.ts';
import type { Engine, Executor, Row } from '../../storage/database.ts';
import { columnBigint, columnSafeInteger, columnText } from '../../storage/decode.ts';
import {
  recoveriesListMax,
  refundsPageMax,
  type EnclaveRecoveries,
  type EnclaveRefund,
  type RefundExecution,
  type RefundsChunk,
} from '../channel/protocol.ts';
import { enclaveTable } from './migrations.ts';
import { present } from './present.ts';
import type { ClosedChallengeFact, RecoveryFacts } from './recovery-facts.ts';
import { insertMany, lookupIdsMax } from './store.ts';
import { firstByKey } from './batch-facts.ts';

export class RecoveryTables {
  readonly pendingTransfers: string;
  readonly acknowledgedTransfers: string;
  readonly closedChallenges: string;
  readonly refunds: string;
  readonly holdings: string;
  readonly spends: string;
  readonly sequence: string;

  constructor(engine: Engine) {
    const t = (name: string) => enclaveTable(engine, name);
    this.pendingTransfers = t('pending_transfers');
    this.acknowledgedTransfers = t('acknowledged_transfers');
    this.closedChallenges = t('closed_challenges');
    this.refunds = t('refunds');
    this.holdings = t('holdings');
    this.spends = t('spends');
    this.sequence = t('alert_sequence');
  }
}

/** The decision id of a transfer's refund: SHA-256 of "refund", a zero byte and the transfer id. */
export function refundDecisionId(verifier: Verifier, transferId: string): string {
  const transfer = fromHex(transferId);
  assert(transfer !== undefined, 'a transfer id is hex');
  return toHex(verifier.sha256(concatBytes(utf8('refund'), Uint8Array.of(0), transfer)));
}

/** Where an upload came from: the DCP that posted it, its digest, and when it was ingested. */
export interface RecoverySource {
  readonly dcpId: string;
  readonly uploadDigest: string;
  readonly nowMs: number;
}

/** An accepted upload's recovery facts and where they came from. */
export interface RecoveryMerge {
  readonly source: RecoverySource;
  readonly facts: RecoveryFacts;
}

/**
 * Merges the recovery facts of a batch's uploads (in batch order: of two reporting one transfer
 * pending, the first is its source), then decides the refunds they complete. One statement per
 * table and chunk, however many uploads the batch holds.
 */
export async function mergeRecovery(
  tx: Executor,
  tables: RecoveryTables,
  verifier: Verifier,
  merges: readonly RecoveryMerge[],
  nowMs: number,
): Promise<number> {
  const pending = firstByKey(
    merges.flatMap(({ source, facts }) => facts.pending.map((fact) => ({ source, fact }))),
    (row) => row.fact.transferId,
  );
  await insertMany(
    tx,
    tables.pendingTransfers,
    pendingColumns,
    'transfer_id',
    pending.map(({ source, fact }) => [
      fact.transferId,
      fact.payerId,
      fact.payeeId,
      fact.challenge,
      fact.value,
      fact.tokenId,
      source.dcpId,
      source.uploadDigest,
      source.nowMs,
    ]),
  );
  const acknowledged = [...new Set(merges.flatMap(({ facts }) => facts.acknowledged))];
  await insertMany(
    tx,
    tables.acknowledgedTransfers,
    ['transfer_id'],
    'transfer_id',
    acknowledged.map((transferId) => [transferId]),
  );
  const closed = merges.flatMap(({ source, facts }) =>
    firstByKey(facts.challenges, (row) => `${row.payeeId}:${row.challenge}:${row.state}`).map((row) => [
      row.payeeId,
      row.challenge,
      row.state,
      source.uploadDigest,
    ]),
  );
  await insertMany(
    tx,
    tables.closedChallenges,
    ['payee_id', 'challenge', 'state', 'upload_digest'],
    'payee_id, challenge, state, upload_digest',
    closed,
  );
  const expired = merges.flatMap(({ facts }) => facts.challenges.filter((row) => row.state === 'expired'));
  const candidates = new Set([
    ...pending.map(({ fact }) => fact.transferId),
    ...(await pendingFor(tx, tables, expired)),
  ]);
  return decideRefunds(tx, tables, verifier, [...candidates].sort(), nowMs);
}

const pendingColumns = [
  'transfer_id',
  'payer_id',
  'payee_id',
  'challenge',
  'value',
  'token_id',
  'dcp_id',
  'upload_digest',
  'since_ms',
];

/** The pending transfers that answer any of `challenges` (payee and challenge): one query per chunk. */
async function pendingFor(
  tx: Executor,
  tables: RecoveryTables,
  challenges: readonly ClosedChallengeFact[],
): Promise<string[]> {
  const wanted = new Set(challenges.map((row) => `${row.payeeId}:${row.challenge}`));
  const found: string[] = [];
  for (let start = 0; start < challenges.length; start += lookupIdsMax) {
    const chunk = challenges.slice(start, start + lookupIdsMax);
    const list = chunk.map(() => '?').join(', ');
    // Other challenges of the same payees may come back too: only exact pairs count.
    const rows = await tx.all(
      `SELECT transfer_id, payee_id, challenge FROM ${tables.pendingTransfers}
       WHERE payee_id IN (${list}) AND challenge IN (${list})`,
      [...chunk.map((row) => row.payeeId), ...chunk.map((row) => row.challenge)],
    );
    for (const row of rows)
      if (wanted.has(`${columnText(row, 'payee_id')}:${columnText(row, 'challenge')}`))
        found.push(columnText(row, 'transfer_id'));
  }
  return found;
}

/** The condition of the header, in SQL, over pending transfers `p`: undelivered and not yet decided. */
function undeliveredCondition(tables: RecoveryTables): string {
  return `NOT EXISTS (SELECT 1 FROM ${tables.closedChallenges} c WHERE c.payee_id = p.payee_id AND c.challenge = p.challenge AND c.state = 'received')
      AND NOT EXISTS (SELECT 1 FROM ${tables.acknowledgedTransfers} a WHERE a.transfer_id = p.transfer_id)
      AND NOT EXISTS (SELECT 1 FROM ${tables.holdings} h WHERE h.token_id = p.token_id)
      AND NOT EXISTS (SELECT 1 FROM ${tables.spends} s WHERE s.token_id = p.token_id)
      AND NOT EXISTS (SELECT 1 FROM ${tables.refunds} r WHERE r.transfer_id = p.transfer_id)`;
}

function expiredCondition(tables: RecoveryTables, negate: boolean): string {
  return `${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${tables.closedChallenges} c WHERE c.payee_id = p.payee_id AND c.challenge = p.challenge AND c.state = 'expired')`;
}

async function decideRefunds(
  tx: Executor,
  tables: RecoveryTables,
  verifier: Verifier,
  transferIds: readonly string[],
  nowMs: number,
): Promise<number> {
  let decided = 0;
  for (let start = 0; start < transferIds.length; start += lookupIdsMax) {
    const chunk = transferIds.slice(start, start + lookupIdsMax);
    const rows = await tx.all(
      `SELECT p.* FROM ${tables.pendingTransfers} p
       WHERE p.transfer_id IN (${chunk.map(() => '?').join(', ')})
         AND ${expiredCondition(tables, false)} AND ${undeliveredCondition(tables)}
       ORDER BY p.transfer_id`,
      chunk,
    );
    if (rows.length === 0) continue;
    let sequence = await lockRefundSequence(tx, tables);
    for (const row of rows) {
      sequence += 1;
      const transferId = columnText(row, 'transfer_id');
      await tx.run(
        `INSERT INTO ${tables.refunds} (decision_id, transfer_id, se_id, dcp_id, value, token_id, upload_digest, payee_id, challenge, decided_at_ms, sequence, executed_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
        [
          refundDecisionId(verifier, transferId),
          transferId,
          columnText(row, 'payer_id'),
          columnText(row, 'dcp_id'),
          columnBigint(row, 'value'),
          columnText(row, 'token_id'),
          columnText(row, 'upload_digest'),
          columnText(row, 'payee_id'),
          columnText(row, 'challenge'),
          nowMs,
          sequence,
        ],
      );
      decided++;
    }
    await tx.run(`UPDATE ${tables.sequence} SET value = ? WHERE name = 'refunds'`, [sequence]);
  }
  return decided;
}

async function lockRefundSequence(tx: Executor, tables: RecoveryTables): Promise<number> {
  const lock = tx.engine === 'postgres' ? ' FOR UPDATE' : '';
  const rows = await tx.all(`SELECT value FROM ${tables.sequence} WHERE name = 'refunds'${lock}`);
  return columnSafeInteger(present(rows[0], 'the refund sequence row exists'), 'value');
}

function refundOf(row: Row): EnclaveRefund {
  return {
    decisionId: columnText(row, 'decision_id'),
    seId: columnText(row, 'se_id'),
    value: columnBigint(row, 'value'),
    tokenId: columnText(row, 'token_id'),
    uploadDigest: columnText(row, 'upload_digest'),
    sequence: columnSafeInteger(row, 'sequence'),
  };
}

/** Refunds for `dcpId`'s SEs still to execute, after the sequence `after`, oldest first. */
export async function refundsFor(
  executor: Executor,
  tables: RecoveryTables,
  dcpId: string,
  after: number,
  limit: number,
): Promise<RefundsChunk> {
  const bounded = Math.max(1, Math.min(limit, refundsPageMax));
  const rows = await executor.all(
    `SELECT * FROM ${tables.refunds} WHERE dcp_id = ? AND executed_at_ms IS NULL AND sequence > ? ORDER BY sequence LIMIT ?`,
    [dcpId, after, bounded],
  );
  const refunds = rows.map(refundOf);
  return { refunds, sequence: refunds.at(-1)?.sequence ?? after };
}

/** Records the execution once; a replay answers the first time. Undefined: not a refund of this DCP. */
export async function executeRefund(
  executor: Executor,
  tables: RecoveryTables,
  dcpId: string,
  decisionId: string,
  executedAtMs: number,
): Promise<RefundExecution | undefined> {
  await executor.run(
    `UPDATE ${tables.refunds} SET executed_at_ms = ? WHERE decision_id = ? AND dcp_id = ? AND executed_at_ms IS NULL`,
    [executedAtMs, decisionId, dcpId],
  );
  const rows = await executor.all(
    `SELECT executed_at_ms FROM ${tables.refunds} WHERE decision_id = ? AND dcp_id = ?`,
    [decisionId, dcpId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return { decisionId, executedAtMs: columnSafeInteger(row, 'executed_at_ms') };
}

/** A count and a value, per DCP and in total: what helper code (supply, indicators) reads. */
export interface RecoveryFigure {
  readonly count: number;
  readonly value: bigint;
}

export interface RecoveryTotals {
  /** Pending transfers whose payee has not shown, by an upload, whether it was delivered. */
  readonly inFlight: RecoveryFigure;
  readonly refunded: RecoveryFigure;
  readonly executed: RecoveryFigure;
  /** The same three per DCP (of the payer's upload), DCPs with none left out. */
  readonly byDcp: ReadonlyMap<string, Omit<RecoveryTotals, 'byDcp'>>;
}

const inFlightWhere = (tables: RecoveryTables) =>
  `${expiredCondition(tables, true)} AND ${undeliveredCondition(tables)}`;

/** Value in flight and refunded, per DCP and in total. */
export async function recoveryTotals(executor: Executor, tables: RecoveryTables): Promise<RecoveryTotals> {
  const zero = (): { inFlight: RecoveryFigure; refunded: RecoveryFigure; executed: RecoveryFigure } => ({
    inFlight: { count: 0, value: 0n },
    refunded: { count: 0, value: 0n },
    executed: { count: 0, value: 0n },
  });
  const total = zero();
  const byDcp = new Map<string, ReturnType<typeof zero>>();
  const add = (dcpId: string, key: keyof ReturnType<typeof zero>, row: Row) => {
    const figure = { count: columnSafeInteger(row, 'n'), value: columnBigint(row, 'total') };
    const perDcp = byDcp.get(dcpId) ?? zero();
    byDcp.set(dcpId, perDcp);
    for (const target of [perDcp, total])
      target[key] = { count: target[key].count + figure.count, value: target[key].value + figure.value };
  };
  const sum = 'COUNT(*) AS n, CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total';
  for (const row of await executor.all(
    `SELECT p.dcp_id, ${sum} FROM ${tables.pendingTransfers} p WHERE ${inFlightWhere(tables)} GROUP BY p.dcp_id`,
  ))
    add(columnText(row, 'dcp_id'), 'inFlight', row);
  for (const row of await executor.all(`SELECT dcp_id, ${sum} FROM ${tables.refunds} GROUP BY dcp_id`))
    add(columnText(row, 'dcp_id'), 'refunded', row);
  for (const row of await executor.all(
    `SELECT dcp_id, ${sum} FROM ${tables.refunds} WHERE executed_at_ms IS NOT NULL GROUP BY dcp_id`,
  ))
    add(columnText(row, 'dcp_id'), 'executed', row);
  return { ...total, byDcp };
}

/** What the supply report needs of recovery: per DCP of the payer, value in flight and refunded. */
export async function recoveryFigures(executor: Executor, tables: RecoveryTables): Promise<RecoveryFigures> {
  const totals = await recoveryTotals(executor, tables);
  const inFlight = new Map<string, bigint>();
  const refunded = new Map<string, bigint>();
  for (const [dcpId, figures] of totals.byDcp) {
    if (figures.inFlight.value > 0n) inFlight.set(dcpId, figures.inFlight.value);
    if (figures.refunded.value > 0n) refunded.set(dcpId, figures.refunded.value);
  }
  return { inFlight, refunded };
}

/** The operator's view: totals, the oldest transfers in flight and the newest decisions. */
export async function recoveries(executor: Executor, tables: RecoveryTables): Promise<EnclaveRecoveries> {
  const totals = await recoveryTotals(executor, tables);
  const inFlight = await executor.all(
    `SELECT p.transfer_id, p.payer_id, p.value, p.since_ms FROM ${tables.pendingTransfers} p
     WHERE ${inFlightWhere(tables)} ORDER BY p.since_ms, p.transfer_id LIMIT ${recoveriesListMax}`,
  );
  const decisions = await executor.all(
    `SELECT * FROM ${tables.refunds} ORDER BY sequence DESC LIMIT ${recoveriesListMax}`,
  );
  return {
    inFlight: {
      ...totals.inFlight,
      transfers: inFlight.map((row) => ({
        transferId: columnText(row, 'transfer_id'),
        payerSeId: columnText(row, 'payer_id'),
        value: columnBigint(row, 'value'),
        sinceMs: columnSafeInteger(row, 'since_ms'),
      })),
    },
    refunds: {
      ...totals.refunded,
      executedCount: totals.executed.count,
      executedValue: totals.executed.value,
      decisions: decisions.map((row) => {
        const executed = row['executed_at_ms'];
        return {
          decisionId: columnText(row, 'decision_id'),
          transferId: columnText(row, 'transfer_id'),
          payerSeId: columnText(row, 'se_id'),
          value: columnBigint(row, 'value'),
          decidedAtMs: columnSafeInteger(row, 'decided_at_ms'),
          executedAtMs: executed === null ? null : columnSafeInteger(row, 'executed_at_ms'),
        };
      }),
    },
  };
}
