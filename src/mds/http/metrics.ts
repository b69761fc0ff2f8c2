// The MDS API process's Prometheus metrics: the HTTP metrics every service has, uploads relayed,
// renewal checks, evidence reads, confirmations and revocations.
import { Counter } from 'prom-client';
import { HttpMetrics } from '../../service-kit/metrics.ts';

export class MdsMetrics extends HttpMetrics {
  readonly uploadsStored = new Counter({
    name: 'mds_uploads_stored_total',
    help: 'sealed uploads handed to the enclave and acknowledged (replays not counted)',
    registers: [this.registry],
  });
  readonly renewalChecks = new Counter({
    name: 'mds_renewal_checks_total',
    help: 'renewal checks answered with a signed verdict',
    registers: [this.registry],
  });
  readonly evidenceReads = new Counter({
    name: 'mds_evidence_reads_total',
    help: 'reads of alert evidence, each written to the audit log first',
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'mds_revocations_total',
    help: 'revocations asked of the directory, by outcome (revoked, refused, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(processMetrics: boolean) {
    super('mds');
    this.collectProcessMetrics(processMetrics);
  }
}
