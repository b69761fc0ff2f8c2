// Prometheus metrics, one registry per app (several DCPs may live in one test process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class DcpMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'dcp_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'dcp_http_request_duration_seconds',
    help: 'HTTP request duration, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'dcp_operations_total',
    help: 'operations answered (replays included), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
