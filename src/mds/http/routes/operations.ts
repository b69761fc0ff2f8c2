// `GET /v1/audit`, `GET /v1/audit/verify` (auditors) and `GET /v1/status` (operators).
import { auditListLimitDefault, auditListLimitMax } from '../../domain/limits.ts';
import { AuditQuery, responses } from '../schemas.ts';
import { auditEntryWire, statusWire } from '../wire.ts';
import { cursorAfter, nextCursor, pageLimit, security, type MdsRoutes } from './routes.ts';

export function operationsRoutes({ app, service, caller }: MdsRoutes): void {
  app.get(
    '/v1/audit',
    { schema: { security, querystring: AuditQuery, response: responses.audit } },
    async (request) => {
      const limit = pageLimit(request.query.limit, auditListLimitDefault, auditListLimitMax);
      const entries = await service.auditEntries(caller(request), cursorAfter(request.query.after), limit);
      return {
        entries: entries.map(auditEntryWire),
        next: nextCursor(entries.at(-1)?.sequence, entries.length, limit),
      };
    },
  );

  app.get('/v1/audit/verify', { schema: { security, response: responses.auditVerdict } }, (request) =>
    service.verifyAudit(caller(request)),
  );

  app.get('/v1/status', { schema: { security, response: responses.status } }, async (request) =>
    statusWire(await service.status(caller(request))),
  );
}
