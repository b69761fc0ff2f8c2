// Recovery of value in flight, as the API process serves it (docs/mds.md, "Recovery of value in
// flight"): the enclave decides refunds; a DCP reads only the orders for its own SEs ("refund this SE
// this amount") and says when it executed one; operators and analysts see totals and lists. The API
// process keeps nothing of it: every answer is the enclave's.
import type { EnclavePort, EnclaveRecoveries, EnclaveRefund, RefundExecution } from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { callerDcpId, requireRole } from './rules.ts';
import type { Clock, Participant } from './types.ts';

export class Recoveries {
  constructor(
    private readonly enclave: EnclavePort,
    private readonly clock: Clock,
  ) {}

  /** The refunds the caller's DCP has still to execute, after the cursor `after`, oldest first. */
  async refunds(caller: Participant, after: number, limit: number): Promise<readonly EnclaveRefund[]> {
    const dcpId = callerDcpId(caller, 'read refund orders');
    return (await this.enclave.refundsFor(dcpId, after, limit)).refunds;
  }

  /**
   * The caller's DCP executed a refund (retired the token, queued the refund credit). Idempotent by
   * the decision id, which is the key: a replay answers the first execution's time.
   */
  async executed(caller: Participant, decisionId: string): Promise<RefundExecution> {
    const dcpId = callerDcpId(caller, 'execute refunds');
    const execution = await this.enclave.executeRefund(dcpId, decisionId, this.clock.nowMs());
    if (execution === undefined)
      throw mdsError('refundUnknown', `no refund decision ${decisionId} for DCP ${dcpId}`);
    return execution;
  }

  view(caller: Participant): Promise<EnclaveRecoveries> {
    requireRole(caller, ['operator', 'analyst'], 'read recoveries');
    return this.enclave.recoveries();
  }
}
