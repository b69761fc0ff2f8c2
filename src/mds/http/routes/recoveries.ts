// `GET /v1/refunds`, `POST /v1/refunds/{decisionId}/executed` (role dcp) and `GET /v1/recoveries`
// (operator, analyst): docs/mds.md, "Recovery of value in flight". The execution takes no
// Idempotency-Key: the decision id is its key, and a replay answers the first execution.
import { refundListLimitDefault, refundsPageMax } from '../../domain/limits.ts';
import { DecisionParams, RefundsQuery, recoveryResponses } from '../recovery-schemas.ts';
import { cursorAfter, nextCursor, pageLimit, security, type MdsRoutes } from './routes.ts';

export function recoveryRoutes({ app, service, caller }: MdsRoutes): void {
  app.get(
    '/v1/refunds',
    { schema: { security, querystring: RefundsQuery, response: recoveryResponses.refunds } },
    async (request) => {
      const limit = pageLimit(request.query.limit, refundListLimitDefault, refundsPageMax);
      const refunds = await service.recoveries.refunds(
        caller(request),
        cursorAfter(request.query.after),
        limit,
      );
      return {
        refunds: refunds.map((refund) => ({
          decisionId: refund.decisionId,
          seId: refund.seId,
          value: refund.value.toString(),
          tokenId: refund.tokenId,
          uploadDigest: refund.uploadDigest,
        })),
        next: nextCursor(refunds.at(-1)?.sequence, refunds.length, limit),
      };
    },
  );

  app.post(
    '/v1/refunds/:decisionId/executed',
    { schema: { security, params: DecisionParams, response: recoveryResponses.executed } },
    async (request) => service.recoveries.executed(caller(request), request.params.decisionId),
  );

  app.get(
    '/v1/recoveries',
    { schema: { security, response: recoveryResponses.recoveries } },
    async (request) => {
      const view = await service.recoveries.view(caller(request));
      return {
        inFlight: {
          count: view.inFlight.count,
          value: view.inFlight.value.toString(),
          transfers: view.inFlight.transfers.map((transfer) => ({
            ...transfer,
            value: transfer.value.toString(),
          })),
        },
        refunds: {
          count: view.refunds.count,
          value: view.refunds.value.toString(),
          executedCount: view.refunds.executedCount,
          executedValue: view.refunds.executedValue.toString(),
          decisions: view.refunds.decisions.map((decision) => ({
            ...decision,
            value: decision.value.toString(),
          })),
        },
      };
    },
  );
}
