// `POST /v1/settlements` (operators) and `GET /v1/settlements` (operators, analysts): settlement runs
// between DCP pools (docs/mds.md, "Supply and settlement"). A run is idempotent by its period, the
// body, so the route takes no Idempotency-Key: asking again answers the run as it stands, continuing
// a pending one.
import { settlementsPageMax } from '../../api/types.ts';
import {
  SettlementBody,
  SettlementPoolBody,
  SettlementPoolParams,
  SettlementsQuery,
  settlementRunWire,
  supplyResponses,
} from '../supply-schemas.ts';
import { nextCursor, pageLimit, security, type MdsRoutes } from './routes.ts';

const settlementsPageDefault = 20;

export function settlementRoutes({ app, settlements, caller }: MdsRoutes): void {
  app.post(
    '/v1/settlements',
    { schema: { security, body: SettlementBody, response: supplyResponses.settlement } },
    async (request) => ({
      run: settlementRunWire(await settlements.run(caller(request), request.body.period)),
    }),
  );

  app.put(
    '/v1/settlement-pools/:dcpId',
    {
      schema: {
        security,
        params: SettlementPoolParams,
        body: SettlementPoolBody,
        response: supplyResponses.pool,
      },
    },
    async (request) => {
      await settlements.setPool(caller(request), request.params.dcpId, request.body.accountId);
      return { dcpId: request.params.dcpId, accountId: request.body.accountId };
    },
  );

  app.get(
    '/v1/settlements',
    { schema: { security, querystring: SettlementsQuery, response: supplyResponses.settlements } },
    async (request) => {
      const limit = pageLimit(request.query.limit, settlementsPageDefault, settlementsPageMax);
      const before = request.query.after === undefined ? null : Number(request.query.after);
      const runs = await settlements.runs(caller(request), before, limit);
      return {
        runs: runs.map(settlementRunWire),
        next: nextCursor(runs.at(-1)?.position, runs.length, limit),
      };
    },
  );
}
