// The ledger's Prometheus metrics: the HTTP metrics every service has, and the money it moves.
import { Counter } from 'prom-client';
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class LedgerMetrics extends HttpMetrics {
  readonly moved = new Counter({
    name: 'ledger_payments_total',
    help: 'payments committed (replays not counted), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    super('ledger');
    this.collectProcessMetrics(processMetrics);
  }
}
