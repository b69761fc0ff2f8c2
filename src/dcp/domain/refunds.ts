// Refunds of value in flight (docs/dcp.md, "Refunds"; docs/mds.md, "Recovery of value in flight").
// The MDS decides that a payment cut after PAY never reached its payee; the payer's DCP is told only
// "refund SE X amount Y, retiring token T (decision D)". Run after each MDS forwarding pass, beside
// the operations (never in a request), this pass executes each order in one commit:
//
//   order --retire T (value Y) + queue a `refund` credit of Y for X--> executed --MDS told--> gone
//
// Retiring Y and queueing Y keep the pool invariant (invariant.ts: issued − retired is unchanged, so
// the pool's balance still equals it; no ledger movement). The credit is minted and delivered at the
// SE's next renewal exactly as queued credits are (settle.ts, `mintCredits`), and the retirement is
// reported to the MDS like any other (forwarding.ts). Both rows are keyed by the decision
// (`refund-<decision id>`), so an order executed again (the MDS not yet told, a crash, a second DCP
// process) writes nothing: the commit sees both rows present and only tells the MDS again.
import { isCbdcError } from '../../core/errors.ts';
import { dcpError } from '../api/errors.ts';
import { refundsPerPassMax } from './limits.ts';
import type { Clock, DcpStore, MdsRefundsPort, RefundOrder } from './ports.ts';

export interface RefundReport {
  /** Orders executed by this pass (retired and queued now). */
  readonly executed: number;
  /** Orders found executed before (a replay): only the MDS was told again. */
  readonly replayed: number;
  /** Orders refused here (kept unexecuted at the MDS, logged). */
  readonly refused: number;
  /** The MDS did not answer the read or an acknowledgement. */
  readonly unavailable: boolean;
}

export interface RefundExecutorOptions {
  readonly store: DcpStore;
  readonly mds: MdsRefundsPort;
  readonly clock: Clock;
  readonly log?: (error: unknown, what: string) => void;
}

/** The rows a refund writes are named by its decision: one credit, one retirement per decision. */
export function refundRowId(decisionId: string): string {
  return `refund-${decisionId}`;
}

export class RefundExecutor {
  readonly #options: RefundExecutorOptions;

  constructor(options: RefundExecutorOptions) {
    this.#options = options;
  }

  /** One bounded pass: reads the MDS's open orders and executes each. Never throws for the MDS's sake. */
  async pass(): Promise<RefundReport> {
    const tally = { executed: 0, replayed: 0, refused: 0, unavailable: false };
    let orders: readonly RefundOrder[];
    try {
      orders = await this.#options.mds.refunds(refundsPerPassMax);
    } catch (error) {
      this.#options.log?.(error, 'refund orders not read from the MDS');
      return { ...tally, unavailable: true };
    }
    for (const order of orders) {
      let outcome: 'executed' | 'replayed';
      try {
        outcome = await this.execute(order);
      } catch (error) {
        if (!isCbdcError(error)) throw error;
        this.#options.log?.(error, `refund ${order.decisionId} refused`);
        tally.refused++;
        continue;
      }
      tally[outcome]++;
      try {
        await this.#options.mds.refundExecuted(order.decisionId);
      } catch (error) {
        // Executed here already: the next pass reads it again, finds it done and tells the MDS then.
        this.#options.log?.(error, `refund ${order.decisionId} not acknowledged by the MDS`);
        return { ...tally, unavailable: true };
      }
    }
    return tally;
  }

  /** Retires the token and queues the refund in one commit; `replayed` when both were done before. */
  execute(order: RefundOrder): Promise<'executed' | 'replayed'> {
    const nowMs = this.#options.clock.nowMs();
    const rowId = refundRowId(order.decisionId);
    return this.#options.store.transaction(async (tx) => {
      const device = await tx.findDevice(order.seId, true);
      if (device === null)
        throw dcpError('refundSecureElementUnknown', `refund ${order.decisionId} to SE ${order.seId}`);
      const { tokenId, seId, value, uploadDigest } = order;
      const retired = await tx.retireToken({ tokenId, seId, value, operationId: rowId, uploadDigest }, nowMs);
      const queued = await tx.queueCredit(rowId, seId, 'refund', value, nowMs);
      // Both or neither: they commit together, so one without the other means the token was retired
      // by something else (a claim over it: the payee held it after all). Rolled back, not executed.
      if (retired !== queued)
        throw dcpError('refundTokenRetired', `refund ${order.decisionId}: token ${tokenId}`);
      return retired ? 'executed' : 'replayed';
    });
  }
}
