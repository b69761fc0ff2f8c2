// What every directory routes file is given: the app, the domain service, the metrics and the caller
// of an authenticated route.
import type { FastifyRequest } from 'fastify';
import type { ServiceApp } from '../../../service-kit/app.ts';
import type { DirectoryService } from '../../domain/service.ts';
import type { Participant } from '../../domain/types.ts';
import type { DirectoryMetrics } from '../metrics.ts';

export interface DirectoryRoutes {
  readonly app: ServiceApp;
  readonly service: DirectoryService;
  readonly metrics: DirectoryMetrics;
  /** The participant of an authenticated route (authenticated in onRequest). */
  readonly caller: (request: FastifyRequest) => Participant;
}

/** OpenAPI: the routes that are not public take an API key. */
export const security = [{ apiKey: [] }];
