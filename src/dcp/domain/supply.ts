// The DCP's supply figures (`GET /v1/supply`) and the figures of its pool invariant (invariant.ts).
import type { DcpContext } from './context.ts';
import type { PoolFigures } from './invariant.ts';
import { ledgerCall } from './refusals.ts';

/** Open operations `supply` sums for `inFlight`: more would mean the outbox is far behind anyway. */
const inFlightOperationsMax = 1_000;

export interface SupplyFigures extends PoolFigures {
  readonly minted: bigint;
  readonly queued: bigint;
  readonly outstanding: bigint;
  /** Value retired by unloads and transfers whose ledger payment is not yet made. */
  readonly inFlight: bigint;
}

/** The pool balance on the ledger and what the DCP's books say it issued and retired. */
export async function poolFigures(
  context: DcpContext,
): Promise<PoolFigures & { readonly minted: bigint; readonly queued: bigint }> {
  const figures = await context.store.supply();
  const pool = await ledgerCall('other', () => context.ledger.account(context.poolAccountId));
  return {
    minted: figures.minted,
    queued: figures.queued,
    issued: figures.minted + figures.queued,
    retired: figures.retired,
    poolBalance: pool.balance,
    settled: pool.settled,
  };
}

export async function supply(context: DcpContext): Promise<SupplyFigures> {
  const figures = await poolFigures(context);
  const inFlight = (await context.store.openOperations(inFlightOperationsMax))
    .filter((operation) => operation.kind !== 'load')
    .reduce((sum, operation) => sum + (operation.state === 'pending' ? operation.amount : 0n), 0n);
  return { ...figures, outstanding: figures.issued - figures.retired, inFlight };
}
