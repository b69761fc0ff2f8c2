// `GET /v1/dcp`: who this DCP is and where its pool is (peers read it before paying it).
import { toHex } from '../../../core/bytes.ts';
import { encodeSigned } from '../../../core/signed.ts';
import { responses } from '../schemas.ts';
import type { DcpRoutes } from './routes.ts';

export function dcpRoutes({ app, context }: DcpRoutes): void {
  const description = {
    dcpId: toHex(context.dcpId),
    certificate: toHex(encodeSigned(context.certificate)),
    poolAccountId: context.poolAccountId,
    renewalCheck: context.renewalCheck.mode,
  };
  app.get('/v1/dcp', { schema: { response: responses.description } }, () => description);
}
