// `GET /v1/alerts`, `GET /v1/alerts/{id}/evidence`, `POST /v1/alerts/{id}/confirm` (docs/mds.md,
// "Alerts and evidence"). Reading evidence appends an audit entry before the enclave is asked.
import { markReplayed } from '../../../service-kit/app.ts';
import { alertListLimitDefault, alertListLimitMax } from '../../domain/limits.ts';
import { AlertParams, AlertsQuery, IdempotencyHeaders, responses } from '../schemas.ts';
import { alertWire, evidenceWire } from '../wire.ts';
import { cursorAfter, nextCursor, pageLimit, security, type MdsRoutes } from './routes.ts';

export function alertRoutes({ app, service, metrics, caller }: MdsRoutes): void {
  app.get(
    '/v1/alerts',
    { schema: { security, querystring: AlertsQuery, response: responses.alerts } },
    async (request) => {
      const { kind, status } = request.query;
      const limit = pageLimit(request.query.limit, alertListLimitDefault, alertListLimitMax);
      const alerts = await service.alerts(caller(request), {
        afterPosition: cursorAfter(request.query.after),
        limit,
        ...(kind === undefined ? {} : { kind }),
        ...(status === undefined ? {} : { status }),
      });
      return {
        alerts: alerts.map(alertWire),
        next: nextCursor(alerts.at(-1)?.position, alerts.length, limit),
      };
    },
  );

  app.get(
    '/v1/alerts/:alertId/evidence',
    { schema: { security, params: AlertParams, response: responses.evidence } },
    async (request) => {
      const answer = await service.evidence(caller(request), request.params.alertId);
      metrics.evidenceReads.inc();
      return {
        alert: alertWire(answer.alert),
        evidence: answer.evidence.map(evidenceWire),
        auditSequence: answer.auditSequence,
      };
    },
  );

  app.post(
    '/v1/alerts/:alertId/confirm',
    { schema: { security, headers: IdempotencyHeaders, params: AlertParams, response: responses.alert } },
    async (request, reply) => {
      const answer = await service.confirm(
        caller(request),
        request.headers['idempotency-key'],
        request.params.alertId,
      );
      markReplayed(reply, answer);
      return { alert: alertWire(answer.value) };
    },
  );
}
