// `GET /v1/supply`: what the DCP issued and retired, its pool on the ledger, and what is in flight.
import { supply } from '../../domain/supply.ts';
import { responses } from '../schemas.ts';
import { security, type DcpRoutes } from './routes.ts';

export function supplyRoutes({ app, context }: DcpRoutes): void {
  app.get('/v1/supply', { schema: { security, response: responses.supply } }, async () => {
    const figures = await supply(context);
    return {
      minted: figures.minted.toString(),
      queued: figures.queued.toString(),
      issued: figures.issued.toString(),
      retired: figures.retired.toString(),
      outstanding: figures.outstanding.toString(),
      poolBalance: figures.poolBalance.toString(),
      settled: figures.settled.toString(),
      inFlight: figures.inFlight.toString(),
    };
  });
}
