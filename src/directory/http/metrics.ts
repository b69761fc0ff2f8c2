// The directory's Prometheus metrics: the HTTP metrics every service has, registrations, status
// changes and the deny list it serves.
import { Counter, Gauge } from 'prom-client';
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class DirectoryMetrics extends HttpMetrics {
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
    super('directory');
    this.collectProcessMetrics(processMetrics);
  }
}
