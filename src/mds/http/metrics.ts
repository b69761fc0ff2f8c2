// The MDS API process's Prometheus metrics: the HTTP metrics every service has, uploads relayed,
// renewal checks, evidence reads, confirmations and revocations.
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class MdsMetrics extends HttpMetrics {
  readonly uploadsStored = this.counter(
    'uploads_stored_total',
    'sealed uploads handed to the enclave and acknowledged (replays not counted)',
  );
  readonly renewalChecks = this.counter(
    'renewal_checks_total',
    'renewal checks answered with a signed verdict',
  );
  readonly evidenceReads = this.counter(
    'evidence_reads_total',
    'reads of alert evidence, each written to the audit log first',
  );
  readonly revocations = this.counter(
    'revocations_total',
    'revocations asked of the directory, by outcome (revoked, refused, unavailable)',
    ['outcome'],
  );

  constructor(processMetrics: boolean) {
    super('mds');
    this.collectProcessMetrics(processMetrics);
  }
}
