// What every ledger routes file is given: the app, the domain service, the metrics and the caller of
// a route (every /v1 route is authenticated: nothing of the ledger is public).
import type { FastifyRequest } from 'fastify';
import type { ServiceApp } from '../../../service-kit/app.ts';
import type { LedgerService } from '../../domain/service.ts';
import type { Participant } from '../../domain/types.ts';
import type { LedgerMetrics } from '../metrics.ts';

export interface LedgerRoutes {
  readonly app: ServiceApp;
  readonly service: LedgerService;
  readonly metrics: LedgerMetrics;
  /** The participant of the request (authenticated in onRequest). */
  readonly caller: (request: FastifyRequest) => Participant;
}

/** OpenAPI: every route takes an API key. */
export const security = [{ apiKey: [] }];

/** An optional reference on the wire is null in the domain. */
export const reference = (value: string | undefined): string | null => value ?? null;
