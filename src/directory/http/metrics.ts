// Prometheus metrics, one registry per app (several apps may live in one test process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class DirectoryMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'directory_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'directory_http_request_duration_seconds',
    help: 'HTTP request duration, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly registrations = new Counter({
    name: 'directory_registrations_total',
    help: 'secure element registrations answered (replays not counted), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly statusChanges = new Counter({
    name: 'directory_status_changes_total',
    help: 'secure element status changes committed (replays not counted), by new status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly denyListVersion = new Gauge({
    name: 'directory_deny_list_version',
    help: 'the newest deny list version this instance has published or served',
    registers: [this.registry],
  });
  readonly denyListEntries = new Gauge({
    name: 'directory_deny_list_entries',
    help: 'entries in that deny list version (at most denyListEntriesMax)',
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
