// What every MDS routes file is given: the app, the domain service, the metrics and the caller of a
// route (every /v1 route is authenticated: nothing of the MDS is public).
import type { FastifyRequest } from 'fastify';
import type { ServiceApp } from '../../../service-kit/app.ts';
import { serviceError } from '../../../service-kit/service-errors.ts';
import type { MdsService } from '../../domain/service.ts';
import type { Settlements } from '../../domain/settlement.ts';
import type { Indicators } from '../../domain/indicators.ts';
import type { Participant } from '../../domain/types.ts';
import type { MdsMetrics } from '../metrics.ts';

export interface MdsRoutes {
  readonly app: ServiceApp;
  readonly service: MdsService;
  /** Supply and settlement runs (src/mds/domain/settlement.ts). */
  readonly settlements: Settlements;
  /** Indicators for economists (src/mds/domain/indicators.ts). */
  readonly indicators: Indicators;
  readonly metrics: MdsMetrics;
  /** The participant of the request (authenticated in onRequest). */
  readonly caller: (request: FastifyRequest) => Participant;
}

/** OpenAPI: every route takes an API key. */
export const security = [{ apiKey: [] }];

/** A page size from the query (the schema made it 1..9999): the default, or at most `max`. */
export function pageLimit(text: string | undefined, defaultLimit: number, max: number): number {
  if (text === undefined) return defaultLimit;
  const limit = Number(text);
  if (limit > max) throw serviceError('requestInvalid', `querystring/limit must be at most ${max}`);
  return limit;
}

/** A cursor from the query (the schema made it a decimal integer): where the page starts. */
export function cursorAfter(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

/** The next page's cursor: the last item's, when the page is full; null at the end. */
export function nextCursor(last: number | undefined, count: number, limit: number): string | null {
  return last === undefined || count < limit ? null : String(last);
}
