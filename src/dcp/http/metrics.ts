// The DCP's Prometheus metrics: the HTTP metrics every service has (service-kit/metrics.ts), the
// operations it answers, and its pool invariant. One registry per app (several DCPs may live in one
// test process).
import { HttpMetrics } from '../../service-kit/metrics.ts';
import type { ForwardingFigures } from '../domain/ports.ts';

export class DcpMetrics extends HttpMetrics {
  readonly operations = this.counter('operations_total', 'operations answered (replays included), by kind', [
    'kind',
  ]);

  /**
   * pool balance − (issued − retired) after the last reconcile pass (src/dcp/domain/invariant.ts):
   * zero when every operation is done; anything else is money in flight or a broken invariant.
   */
  readonly poolDifference = this.gauge(
    'pool_difference_minor_units',
    'pool balance on the ledger minus (issued - retired), after the last reconcile pass',
  );

  /** Sealed uploads not delivered to the MDS, by state, read from the store at every scrape. */
  readonly mdsUploads = this.gauge(
    'mds_uploads',
    'sealed uploads not delivered to the MDS, by state (pending, refused, unforwardable)',
    ['state'],
    () => this.#refreshForwarding(),
  );

  /** Issuances, retired tokens and queued credits not reported to the MDS, by kind and state, read at every scrape. */
  readonly mdsReports = this.gauge(
    'mds_reports',
    'issuances, retired tokens and queued credits not reported to the MDS, by kind and state (pending, refused, unreportable)',
    ['kind', 'state'],
    () => this.#refreshForwarding(),
  );

  #readForwarding: (() => Promise<ForwardingFigures>) | undefined;

  /** Where the two gauges above read their figures (the DCP's store). */
  watchForwarding(read: () => Promise<ForwardingFigures>): void {
    this.#readForwarding = read;
  }

  /** The figures now; a store that does not answer leaves the last ones (the scrape still answers). */
  async #refreshForwarding(): Promise<void> {
    if (this.#readForwarding === undefined) return;
    let figures: ForwardingFigures;
    try {
      figures = await this.#readForwarding();
    } catch {
      return;
    }
    for (const [state, count] of Object.entries(figures.uploads)) this.mdsUploads.set({ state }, count);
    for (const [state, count] of Object.entries(figures.issuances))
      this.mdsReports.set({ kind: 'issuance', state }, count);
    for (const [state, count] of Object.entries(figures.retirements))
      this.mdsReports.set({ kind: 'retirement', state }, count);
    for (const [state, count] of Object.entries(figures.credits))
      this.mdsReports.set({ kind: 'credit', state }, count);
  }

  constructor(processMetrics: boolean) {
    super('dcp');
    this.collectProcessMetrics(processMetrics);
  }
}
