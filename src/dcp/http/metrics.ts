// The DCP's Prometheus metrics: the HTTP metrics every service has (service-kit/metrics.ts), the
// operations it answers, and its pool invariant. One registry per app (several DCPs may live in one
// test process).
import { Counter, Gauge } from 'prom-client';
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class DcpMetrics extends HttpMetrics {
  readonly operations = new Counter({
    name: 'dcp_operations_total',
    help: 'operations answered (replays included), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /**
   * pool balance − (issued − retired) after the last reconcile pass (src/dcp/domain/invariant.ts):
   * zero when every operation is done; anything else is money in flight or a broken invariant.
   */
  readonly poolDifference = new Gauge({
    name: 'dcp_pool_difference_minor_units',
    help: 'pool balance on the ledger minus (issued - retired), after the last reconcile pass',
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    super('dcp');
    this.collectProcessMetrics(processMetrics);
  }
}
