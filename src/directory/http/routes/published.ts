// `GET /v1/trust-anchors`, `GET /v1/deny-list`: what the directory publishes to anyone, no account
// needed (every device and party reads them).
import { toHex } from '../../../core/bytes.ts';
import { encodeSigned } from '../../../core/signed.ts';
import type { DirectoryTrust } from '../app.ts';
import { DenyListQuery, responses } from '../schemas.ts';
import { denyListWire } from '../wire.ts';
import type { DirectoryRoutes } from './routes.ts';

/** The paths of publishedRoutes: the app leaves them unauthenticated. */
export const publishedPaths: ReadonlySet<string> = new Set(['/v1/trust-anchors', '/v1/deny-list']);

export function publishedRoutes({ app, service, metrics }: DirectoryRoutes, trust: DirectoryTrust): void {
  const trustWire = {
    rootPublicKey: toHex(trust.rootPublicKey),
    dcpIssuers: trust.dcpIssuers.map((certificate) => toHex(encodeSigned(certificate))),
    directory: toHex(encodeSigned(trust.directory)),
    mds: toHex(encodeSigned(trust.mds)),
  };
  app.get('/v1/trust-anchors', { schema: { response: responses.trust } }, () => trustWire);

  app.get(
    '/v1/deny-list',
    { schema: { querystring: DenyListQuery, response: responses.denyList } },
    async (request) => {
      const since = request.query.since === undefined ? undefined : Number(request.query.since);
      const answer = await service.denyList(since);
      metrics.denyListVersion.set(answer.current.version);
      metrics.denyListEntries.set(answer.current.entries.length);
      return denyListWire(answer);
    },
  );
}
