// Prometheus metrics, one registry per app (several apps may live in one test process). Every
// service counts its HTTP requests and their durations the same way, under its own prefix
// (`ledger_http_requests_total`, `directory_http_request_duration_seconds`); a service's own
// metrics are fields of a subclass, declared with `counter` and `gauge` (same prefix, same registry).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** From 0.5 ms (a cached read) to 1 s (a slow database): where the services' requests fall. */
export const requestDurationBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly #service: string;

  /** `service` prefixes every metric name: lowercase, e.g. `ledger`. */
  constructor(service: string) {
    this.#service = service;
    this.requests = new Counter({
      name: `${service}_http_requests_total`,
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: `${service}_http_request_duration_seconds`,
      help: 'HTTP request duration, by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: requestDurationBucketsSeconds,
      registers: [this.registry],
    });
  }

  /** A counter of the service, `<service>_<name>` (e.g. `ledger_payments_total`), in this registry. */
  protected counter<const Label extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Label[] = [],
  ): Counter<Label> {
    return new Counter({ name: `${this.#service}_${name}`, help, labelNames, registers: [this.registry] });
  }

  /** A gauge of the service, `<service>_<name>`; `collect` refreshes it at every scrape. */
  protected gauge<const Label extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Label[] = [],
    collect?: () => Promise<void>,
  ): Gauge<Label> {
    return new Gauge({
      name: `${this.#service}_${name}`,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect === undefined ? {} : { collect }),
    });
  }

  /**
   * Process metrics (CPU, memory, event loop): on in a server process, off in tests. A subclass calls
   * it at the end of its constructor, after its own metrics, so /metrics lists the service first.
   */
  protected collectProcessMetrics(enabled: boolean): void {
    if (!enabled) return;
    const own = new Set(this.registry.getMetricsAsArray().map((metric) => metric.name));
    collectDefaultMetrics({ register: this.registry });
    // prom-client's default collectors name three gauges `*_total` (nodejs_active_handles_total,
    // nodejs_active_requests_total, nodejs_active_resources_total), a suffix Prometheus keeps for
    // counters: `promtool check metrics` refuses them. Each is only the sum of the gauge of the same
    // name without the suffix, by `type` (nodejs_active_handles{type="TCPWrap"}...), so they are
    // left out: `sum(nodejs_active_handles)` is the total. Any such default a later prom-client
    // adds goes the same way; a service's own metric is never touched (promtool's test sees it).
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!own.has(metric.name) && !(metric instanceof Counter) && metric.name.endsWith('_total'))
        this.registry.removeSingleMetric(metric.name);
    }
  }
}
