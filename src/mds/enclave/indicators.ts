// Indicators per time bucket (docs/mds.md, "Indicators"), computed inside the enclave so that no
// figure over fewer than k distinct SEs ever leaves it: such a cell crosses as `{suppressed: true}`,
// never as a zero. Buckets are by MDS ingest time: offline clocks are advisory, so an SE's own times
// order nothing. What falls in a bucket:
//
//   - a sync: an upload ingested in it (its SE, its claimed balance, its device kind read from the
//     certificate in the opened upload, the time since the SE's previous ingested sync);
//   - a payment: a transfer, in the bucket of the first ingested upload of its payer whose counter is
//     past the transfer's (the sync that reported it); its SEs are the payers;
//   - offline value outstanding at the bucket's end: the balance each SE claimed at its latest sync
//     ingested before then, summed over those SEs;
//   - fraud: alerts first raised in it, over the SEs they blame. Refunds are recovery's (docs/mds.md,
//     "Recovery of value in flight"): over the graph alone there are none, a cell over no SE.
//
// The loading is SQL over the enclave's tables; `bucketIndicators` is pure.
import { assert } from '../../core/assert.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import { tokenIdOf } from '../../core/ids.ts';
import type { Executor } from '../../storage/database.ts';
import { columnBigint, columnSafeInteger, columnText } from '../../storage/decode.ts';
import type { IndicatorBin, IndicatorBucket, IndicatorCell, IndicatorsRequest } from '../channel/protocol.ts';
import { checkIndicatorsRange } from '../channel/indicator-range.ts';
import { decodeClaim, openUpload, type EnclaveCrypto } from './open-upload.ts';
import type { EnclaveTables } from './store.ts';

/** Histogram bins: generations (hops), intervals between syncs (ms) and claimed balances (minor units). */
export const generationBins: readonly bigint[] = [1n, 2n, 4n, 8n, 16n];
export const renewalIntervalBinsMs: readonly bigint[] = [
  3_600_000n,
  86_400_000n,
  604_800_000n,
  2_592_000_000n,
];
export const balanceBins: readonly bigint[] = [1_000n, 10_000n, 100_000n, 1_000_000n];

export interface Sync {
  readonly seId: string;
  readonly counter: number;
  readonly atMs: number;
  readonly balance: bigint;
  readonly kind: 'card' | 'phone';
}

export interface Payment {
  readonly payerId: string;
  readonly atMs: number;
  readonly value: bigint;
  readonly generation: number;
}

export interface Alert {
  readonly seId: string;
  readonly atMs: number;
  readonly value: bigint;
}

export interface IndicatorFacts {
  /** Every ingested sync before the range's end, oldest first. */
  readonly syncs: readonly Sync[];
  readonly payments: readonly Payment[];
  readonly alerts: readonly Alert[];
}

/** A figure over `seIds`: shown when they are at least k, else suppressed. */
function cell(value: bigint, seIds: ReadonlySet<string>, k: number): IndicatorCell {
  return seIds.size >= k ? { suppressed: false, value } : { suppressed: true };
}

function bins<T>(
  items: readonly T[],
  edges: readonly bigint[],
  measure: (item: T) => bigint,
  seOf: (item: T) => string,
  k: number,
): IndicatorBin[] {
  const uppers: (bigint | null)[] = [...edges, null];
  return uppers.map((upTo, index) => {
    const lower = index === 0 ? null : (edges[index - 1] ?? null);
    const inside = items.filter((item) => {
      const value = measure(item);
      return (lower === null || value > lower) && (upTo === null || value <= upTo);
    });
    return { upTo, count: cell(BigInt(inside.length), new Set(inside.map(seOf)), k) };
  });
}

/** The buckets of `request` over `facts`, every cell over fewer than k SEs suppressed. */
export function bucketIndicators(facts: IndicatorFacts, request: IndicatorsRequest): IndicatorBucket[] {
  return Array.from({ length: checkIndicatorsRange(request) }, (_, index) => {
    const startMs = request.fromMs + index * request.bucketMs;
    return oneBucket(facts, startMs, startMs + request.bucketMs, request.secureElementsMin);
  });
}

/** The balance each SE claimed at its latest sync before `endMs`. */
function heldAt(facts: IndicatorFacts, endMs: number): Map<string, bigint> {
  const latest = new Map<string, bigint>();
  for (const sync of facts.syncs) if (sync.atMs < endMs) latest.set(sync.seId, sync.balance);
  return latest;
}

/** The time since each sync's previous sync of the same SE (none for an SE's first). */
function intervalsOf(facts: IndicatorFacts, syncs: readonly Sync[]): { seId: string; ms: bigint }[] {
  return syncs.flatMap((sync) => {
    const before = facts.syncs.filter((other) => other.seId === sync.seId && other.atMs < sync.atMs).at(-1);
    return before === undefined ? [] : [{ seId: sync.seId, ms: BigInt(sync.atMs - before.atMs) }];
  });
}

function oneBucket(facts: IndicatorFacts, startMs: number, endMs: number, k: number): IndicatorBucket {
  const within = (atMs: number) => atMs >= startMs && atMs < endMs;
  const held = heldAt(facts, endMs);
  const outstanding = [...held.values()].reduce((sum, value) => sum + value, 0n);
  const holders = new Set(held.keys());
  const payments = facts.payments.filter((payment) => within(payment.atMs));
  const payers = new Set(payments.map((payment) => payment.payerId));
  const paid = payments.reduce((sum, payment) => sum + payment.value, 0n);
  const syncs = facts.syncs.filter((sync) => within(sync.atMs));
  const kind = (wanted: Sync['kind']) => {
    const seIds = new Set(syncs.filter((sync) => sync.kind === wanted).map((sync) => sync.seId));
    return cell(BigInt(seIds.size), seIds, k);
  };
  const alerts = facts.alerts.filter((alert) => within(alert.atMs));
  const blamed = new Set(alerts.map((alert) => alert.seId));
  const velocityShown = payers.size >= k && holders.size >= k && outstanding > 0n;
  return {
    startMs,
    endMs,
    offlineValueOutstanding: cell(outstanding, holders, k),
    payments: {
      count: cell(BigInt(payments.length), payers, k),
      value: cell(paid, payers, k),
      average: payments.length === 0 ? { suppressed: true } : cell(paid / BigInt(payments.length), payers, k),
    },
    velocityPpm: velocityShown
      ? { suppressed: false, value: (paid * 1_000_000n) / outstanding }
      : { suppressed: true },
    generations: bins(
      payments,
      generationBins,
      (p) => BigInt(p.generation),
      (p) => p.payerId,
      k,
    ),
    devices: { card: kind('card'), phone: kind('phone') },
    renewalIntervalsMs: bins(
      intervalsOf(facts, syncs),
      renewalIntervalBinsMs,
      (i) => i.ms,
      (i) => i.seId,
      k,
    ),
    balances: bins(
      syncs,
      balanceBins,
      (s) => s.balance,
      (s) => s.seId,
      k,
    ),
    fraud: {
      alerts: cell(BigInt(alerts.length), blamed, k),
      value: cell(
        alerts.reduce((sum, alert) => sum + alert.value, 0n),
        blamed,
        k,
      ),
    },
    recovery: { refunds: { suppressed: true }, value: { suppressed: true } },
  };
}

/** Loads the facts before `toMs` from the enclave's tables; opens the syncs of the range for their kind. */
export async function loadIndicatorFacts(
  tx: Executor,
  tables: EnclaveTables,
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  request: IndicatorsRequest,
): Promise<IndicatorFacts> {
  const uploads = await tx.all(
    `SELECT u.digest, u.se_id, u.se_counter, u.ingested_at_ms, u.claim, u.sealed,
            (SELECT COALESCE(SUM(h.value), 0) FROM ${tables.holdings} h WHERE h.upload_digest = u.digest) AS balance
       FROM ${tables.uploads} u
      WHERE u.state = 'ingested' AND u.ingested_at_ms < ?
      ORDER BY u.ingested_at_ms, u.digest`,
    [request.toMs],
  );
  const syncs: Sync[] = uploads.map((row) => {
    const atMs = columnSafeInteger(row, 'ingested_at_ms');
    // Only syncs inside the range are counted by kind: the others need not be opened.
    const kind = atMs >= request.fromMs ? kindOf(crypto, anchors, row['claim'], row['sealed']) : 'phone';
    return {
      seId: columnText(row, 'se_id'),
      counter: columnSafeInteger(row, 'se_counter'),
      atMs,
      balance: columnBigint(row, 'balance'),
      kind,
    };
  });
  const transfers = await tx.all(
    `SELECT c.se_id, c.counter, c.transfer_id, e.paid FROM ${tables.counters} c
       JOIN ${tables.entries} e ON e.entry_id = c.transfer_id`,
  );
  const generations = new Map(
    (await tx.all(`SELECT token_id, generation FROM ${tables.tokens}`)).map((row) => [
      columnText(row, 'token_id'),
      columnSafeInteger(row, 'generation'),
    ]),
  );
  const payments: Payment[] = [];
  for (const row of transfers) {
    const seId = columnText(row, 'se_id');
    const counter = columnSafeInteger(row, 'counter');
    const reported = syncs.filter((sync) => sync.seId === seId && sync.counter > counter);
    if (reported.length === 0) continue;
    const transferId = fromHex(columnText(row, 'transfer_id'));
    assert(transferId !== undefined, 'an entry id is hex');
    payments.push({
      payerId: seId,
      atMs: Math.min(...reported.map((sync) => sync.atMs)),
      value: columnBigint(row, 'paid'),
      generation: generations.get(toHex(tokenIdOf(crypto.verifier, transferId, 0))) ?? 0,
    });
  }
  const alerts = (
    await tx.all(`SELECT se_id, raised_at_ms, value FROM ${tables.alerts} WHERE raised_at_ms < ?`, [
      request.toMs,
    ])
  ).map((row) => ({
    seId: columnText(row, 'se_id'),
    atMs: columnSafeInteger(row, 'raised_at_ms'),
    value: columnBigint(row, 'value'),
  }));
  return { syncs, payments, alerts };
}

function kindOf(
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  claim: unknown,
  sealed: unknown,
): 'card' | 'phone' {
  assert(typeof claim === 'string' && typeof sealed === 'string', 'stored uploads are hex');
  const claimBytes = fromHex(claim);
  const sealedBytes = fromHex(sealed);
  assert(claimBytes !== undefined && sealedBytes !== undefined, 'stored uploads are hex');
  // An ingested upload opened and checked once: opening it again cannot fail.
  const role = openUpload(crypto, anchors, decodeClaim(claimBytes), sealedBytes).upload.certificate.body.role;
  assert(role === 'card' || role === 'phone', 'an ingested upload is an SE certificate');
  return role;
}
