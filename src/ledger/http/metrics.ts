// The ledger's Prometheus metrics: the HTTP metrics every service has, and the money it moves.
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class LedgerMetrics extends HttpMetrics {
  readonly moved = this.counter('payments_total', 'payments committed (replays not counted), by kind', [
    'kind',
  ]);

  constructor(processMetrics: boolean) {
    super('ledger');
    this.collectProcessMetrics(processMetrics);
  }
}
