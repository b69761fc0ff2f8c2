// `POST /v1/uploads`, `POST /v1/renewal-checks`, `GET /v1/uploads/{digest}`, `POST /v1/reports`: what a
// DCP relays, asks and reports (docs/mds.md, "Ingest", "Renewal check"). These routes take bodies
// larger than the service's default limit: a sealed upload is up to 16 MiB, a report up to 256
// signed issuances.
import type { Static } from '@sinclair/typebox';
import { checkAmount } from '../../../core/amount.ts';
import { fromHex, toHex } from '../../../core/bytes.ts';
import { assert } from '../../../core/assert.ts';
import { markReplayed } from '../../../service-kit/app.ts';
import { reportRequestBodyBytesMax, uploadRequestBodyBytesMax } from '../../domain/limits.ts';
import { DigestParams, IdempotencyHeaders, ReportsBody, UploadBody, responses } from '../schemas.ts';
import { security, type MdsRoutes } from './routes.ts';

export function ingestRoutes({ app, service, metrics, caller }: MdsRoutes): void {
  app.post(
    '/v1/uploads',
    {
      bodyLimit: uploadRequestBodyBytesMax,
      schema: { security, headers: IdempotencyHeaders, body: UploadBody, response: responses.uploadStored },
    },
    async (request, reply) => {
      const answer = await service.storeUpload(
        caller(request),
        request.headers['idempotency-key'],
        request.body,
      );
      if (!answer.replayed) metrics.uploadsStored.inc();
      markReplayed(reply, answer);
      return reply.status(202).send({ digest: answer.value.digest, state: answer.value.state });
    },
  );

  // A renewal check carries the same pair as an upload (docs/mds.md, "Renewal check"); it is
  // idempotent by content and takes no idempotency key.
  app.post(
    '/v1/renewal-checks',
    {
      bodyLimit: uploadRequestBodyBytesMax,
      schema: { security, body: UploadBody, response: responses.renewalCheck },
    },
    async (request) => {
      const verdict = await service.checkRenewal(caller(request), request.body);
      metrics.renewalChecks.inc();
      return { verdict: toHex(verdict) };
    },
  );

  app.get(
    '/v1/uploads/:digest',
    { schema: { security, params: DigestParams, response: responses.upload } },
    async (request) => {
      const status = await service.uploadStatus(caller(request), request.params.digest);
      return { digest: status.digest, state: status.state, refusal: status.refusal };
    },
  );

  app.post(
    '/v1/reports',
    {
      bodyLimit: reportRequestBodyBytesMax,
      schema: { security, headers: IdempotencyHeaders, body: ReportsBody, response: responses.reports },
    },
    async (request, reply) => {
      const answer = await service.recordReports(
        caller(request),
        request.headers['idempotency-key'],
        reportsOf(request.body),
      );
      markReplayed(reply, answer);
      return answer.value;
    },
  );
}

/** A report's body as the domain takes it: bytes for hex, bigint amounts named by their field. */
function reportsOf(body: Static<typeof ReportsBody>) {
  const amounts = <T extends { readonly value: string }>(items: readonly T[], field: string) =>
    items.map((item, index) => ({
      ...item,
      value: checkAmount(BigInt(item.value), `${field}[${index}].value`),
    }));
  return {
    issuances: body.issuances.map((hex) => {
      const bytes = fromHex(hex);
      assert(bytes !== undefined, 'the schema admits only lowercase hex of whole bytes');
      return bytes;
    }),
    retirements: amounts(body.retirements, 'retirements'),
    credits: amounts(body.credits ?? [], 'credits'),
    mints: body.mints ?? [],
  };
}
