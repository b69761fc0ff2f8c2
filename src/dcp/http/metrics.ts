// The DCP's Prometheus metrics: the HTTP metrics every service has (service-kit/metrics.ts), and the
// operations it answers. One registry per app (several DCPs may live in one test process).
import { Counter } from 'prom-client';
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class DcpMetrics extends HttpMetrics {
  readonly operations = new Counter({
    name: 'dcp_operations_total',
    help: 'operations answered (replays included), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    super('dcp');
    this.collectProcessMetrics(processMetrics);
  }
}
