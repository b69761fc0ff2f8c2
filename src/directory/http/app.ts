// The directory's HTTP API (fastify). Routes decode their input through schemas, authenticate the
// participant, call the service and encode the answer; all rules live in the domain. The app itself
// (strict decoding, error envelope, metrics, operations routes) is the shared service kit's.
import type { FastifyServerOptions } from 'fastify';
import { assert } from '../../core/assert.ts';
import { bytesEqual, toHex, type Bytes } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { Signer, Verifier } from '../../core/crypto.ts';
import { encodeSigned } from '../../core/signed.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import { authenticatedCallers, createServiceApp, markReplayed } from '../../service-kit/app.ts';
import { scheduleMaintenance } from '../../service-kit/maintenance.ts';
import { certificateBytesMax, requestBodyBytesMax } from '../domain/limits.ts';
import type { DirectoryStore } from '../domain/ports.ts';
import { decodeHexField, decodeId } from '../domain/rules.ts';
import { DirectoryService } from '../domain/service.ts';
import type { ApiKeys, Clock, IdGenerator } from '../domain/types.ts';
import { directoryAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { DirectoryMetrics } from './metrics.ts';
import {
  CreateParticipantBody,
  DcpParams,
  DenyListQuery,
  EndpointBody,
  IdempotencyHeaders,
  RegisterBody,
  SecureElementParams,
  StatusBody,
  responses,
} from './schemas.ts';
import { dcpEndpointWire, denyListWire, participantWire, secureElementWire } from './wire.ts';

/** What the directory publishes and trusts: the deployment's trust file, verified at start. */
export interface DirectoryTrust {
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
  readonly anchors: TrustAnchors;
}

export interface DirectoryAppOptions {
  readonly store: DirectoryStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly apiKeys: ApiKeys;
  readonly verifier: Verifier;
  readonly trust: DirectoryTrust;
  /** The directory's signing key: the key of `trust.directory`. */
  readonly signer: Signer;
  /** pino options, or false for no logs (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests. */
  readonly processMetrics?: boolean;
  /** How long an idempotency key's answer replays (default 7 days, storage/idempotency.ts). */
  readonly idempotencyRetentionMs?: number;
  /** How often expired answers are dropped; left out (tests), never: expiry itself stays exact. */
  readonly idempotencyExpiryIntervalMs?: number;
}

const security = [{ apiKey: [] }];
/** Routes anyone may read: what every device and party needs without an account. */
const publicRoutes = new Set(['/v1/trust-anchors', '/v1/deny-list']);

export function directoryService(options: DirectoryAppOptions): DirectoryService {
  assert(
    bytesEqual(options.signer.publicKey, options.trust.directory.body.publicKey),
    'the directory signs with the key of its certificate',
  );
  return new DirectoryService({
    store: options.store,
    clock: options.clock,
    ids: options.ids,
    apiKeys: options.apiKeys,
    verifier: options.verifier,
    anchors: options.trust.anchors,
    signer: options.signer,
    directoryId: options.trust.directory.body.subjectId,
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
  });
}

export async function buildDirectoryApp(options: DirectoryAppOptions) {
  const service = directoryService(options);
  const auth = directoryAuthenticator((digest) => service.authenticate(digest));
  const metrics = new DirectoryMetrics(options.processMetrics ?? false);
  const trustWire = {
    rootPublicKey: toHex(options.trust.rootPublicKey),
    dcpIssuers: options.trust.dcpIssuers.map((certificate) => toHex(encodeSigned(certificate))),
    directory: toHex(encodeSigned(options.trust.directory)),
    mds: toHex(encodeSigned(options.trust.mds)),
  };
  const app = await createServiceApp({
    title: 'CBDC directory',
    description: 'See docs/directory.md',
    apiKeyDescription: 'participant API key',
    requestBodyBytesMax,
    logger: options.logger,
    errorAnswer,
    metrics,
    ping: () => options.store.ping(),
  });

  if (options.idempotencyExpiryIntervalMs !== undefined) {
    scheduleMaintenance(app, {
      name: 'idempotency expiry',
      intervalMs: options.idempotencyExpiryIntervalMs,
      run: () => service.expireIdempotencyAnswers(),
    });
  }

  const caller = authenticatedCallers(app, {
    protects: (request) =>
      request.url.startsWith('/v1/') && !publicRoutes.has(request.routeOptions.url ?? ''),
    authenticate: (authorization) => auth.authenticate(authorization),
  });

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

  app.get('/v1/participants/me', { schema: { security, response: responses.participant } }, (request) => ({
    participant: participantWire(caller(request)),
  }));

  app.post(
    '/v1/participants',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: CreateParticipantBody,
        response: responses.participantCreated,
      },
    },
    async (request, reply) => {
      const { name, role, dcpId } = request.body;
      const answer = await service.createParticipant(caller(request), request.headers['idempotency-key'], {
        name,
        role,
        dcpId: dcpId === undefined ? null : decodeId(dcpId, 'dcpId'),
      });
      markReplayed(reply, answer);
      return reply
        .status(201)
        .send({ participant: participantWire(answer.value.participant), apiKey: answer.value.apiKey });
    },
  );

  app.post(
    '/v1/secure-elements',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: RegisterBody,
        response: responses.secureElementCreated,
      },
    },
    async (request, reply) => {
      const certificate = decodeHexField(request.body.certificate, 'certificate', {
        bytesMax: certificateBytesMax,
      });
      const answer = await service.registerSecureElement(
        caller(request),
        request.headers['idempotency-key'],
        {
          certificate,
          walletId: request.body.walletId,
        },
      );
      if (!answer.replayed) metrics.registrations.inc({ kind: answer.value.kind });
      markReplayed(reply, answer);
      return reply
        .status(201)
        .send({ secureElement: secureElementWire({ record: answer.value, walletVisible: true }) });
    },
  );

  app.get(
    '/v1/secure-elements/:seId',
    { schema: { security, params: SecureElementParams, response: responses.secureElement } },
    async (request) => {
      const view = await service.secureElement(caller(request), decodeId(request.params.seId, 'seId'));
      return { secureElement: secureElementWire(view) };
    },
  );

  app.post(
    '/v1/secure-elements/:seId/status',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        params: SecureElementParams,
        body: StatusBody,
        response: responses.statusChanged,
      },
    },
    async (request, reply) => {
      const who = caller(request);
      const seId = decodeId(request.params.seId, 'seId');
      const answer = await service.changeStatus(who, request.headers['idempotency-key'], seId, request.body);
      if (!answer.replayed) metrics.statusChanges.inc({ status: request.body.status });
      metrics.denyListVersion.set(answer.value.denyListVersion);
      markReplayed(reply, answer);
      const record = answer.value.secureElement;
      return {
        secureElement: secureElementWire({ record, walletVisible: who.role === 'operator' }),
        denyListVersion: answer.value.denyListVersion,
      };
    },
  );

  app.put(
    '/v1/dcps/:dcpId',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        params: DcpParams,
        body: EndpointBody,
        response: responses.dcpEndpoint,
      },
    },
    async (request, reply) => {
      const dcpId = decodeId(request.params.dcpId, 'dcpId');
      const answer = await service.putDcpEndpoint(
        caller(request),
        request.headers['idempotency-key'],
        dcpId,
        request.body.baseUrl,
      );
      markReplayed(reply, answer);
      return { dcp: dcpEndpointWire(answer.value) };
    },
  );

  app.get(
    '/v1/dcps/:dcpId',
    { schema: { security, params: DcpParams, response: responses.dcpEndpoint } },
    async (request) => ({
      dcp: dcpEndpointWire(
        await service.dcpEndpoint(caller(request), decodeId(request.params.dcpId, 'dcpId')),
      ),
    }),
  );

  return app;
}

export type DirectoryApp = Awaited<ReturnType<typeof buildDirectoryApp>>;
