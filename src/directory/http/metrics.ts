// The directory's Prometheus metrics: the HTTP metrics every service has, registrations, status
// changes and the deny list it serves.
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class DirectoryMetrics extends HttpMetrics {
  readonly registrations = this.counter(
    'registrations_total',
    'secure element registrations answered (replays not counted), by kind',
    ['kind'],
  );
  readonly statusChanges = this.counter(
    'status_changes_total',
    'secure element status changes committed (replays not counted), by new status',
    ['status'],
  );
  readonly denyListVersion = this.gauge(
    'deny_list_version',
    'the newest deny list version this instance has published or served',
  );
  readonly denyListEntries = this.gauge(
    'deny_list_entries',
    'entries in that deny list version (at most denyListEntriesMax)',
  );

  constructor(processMetrics: boolean) {
    super('directory');
    this.collectProcessMetrics(processMetrics);
  }
}
