// `GET /v1/supply` (operators, analysts; docs/mds.md, "Supply and settlement"): per DCP and in total,
// what was issued, retired, observed offline, in flight and refunded, the retired value each DCP's
// issuances back, and each pool as the ledger has it.
import { supplyResponses, supplyWire } from '../supply-schemas.ts';
import { security, type MdsRoutes } from './routes.ts';

export function supplyRoutes({ app, settlements, caller }: MdsRoutes): void {
  app.get('/v1/supply', { schema: { security, response: supplyResponses.supply } }, async (request) =>
    supplyWire(await settlements.supply(caller(request))),
  );
}
