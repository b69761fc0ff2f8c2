// The directory's HTTP API (fastify). Routes decode their input through schemas, authenticate the
// participant, call the service and encode the answer, one file per resource under routes/; all rules
// live in the domain. The app itself (strict decoding, error envelope, metrics, operations routes,
// maintenance) is the shared service kit's.
import { assert } from '../../core/assert.ts';
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { Signer, Verifier } from '../../core/crypto.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import type { ServiceProcessOptions } from '../../service-kit/app.ts';
import { createParticipantApp } from '../../service-kit/participant-app.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';
import type { DirectoryStore } from '../domain/ports.ts';
import { DirectoryService } from '../domain/service.ts';
import type { ApiKeys, Clock, IdGenerator } from '../domain/types.ts';
import { directoryAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { DirectoryMetrics } from './metrics.ts';
import { dcpRoutes } from './routes/dcps.ts';
import { participantRoutes } from './routes/participants.ts';
import { publishedPaths, publishedRoutes } from './routes/published.ts';
import type { DirectoryRoutes } from './routes/routes.ts';
import { secureElementRoutes } from './routes/secure-elements.ts';

/** What the directory publishes and trusts: the deployment's trust file, verified at start. */
export interface DirectoryTrust {
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
  readonly anchors: TrustAnchors;
}

export interface DirectoryAppOptions extends ServiceProcessOptions {
  readonly store: DirectoryStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly apiKeys: ApiKeys;
  readonly verifier: Verifier;
  readonly trust: DirectoryTrust;
  /** The directory's signing key: the key of `trust.directory`. */
  readonly signer: Signer;
}

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
  const metrics = new DirectoryMetrics(options.processMetrics ?? false);
  const { app, caller } = await createParticipantApp(options, service, metrics, {
    title: 'CBDC directory',
    requestBodyBytesMax,
    docs: 'docs/directory.md',
    errorAnswer,
    authenticator: directoryAuthenticator((digest) => service.authenticate(digest)),
    publicRoutes: publishedPaths,
  });

  const routes: DirectoryRoutes = { app, service, metrics, caller };
  publishedRoutes(routes, options.trust);
  for (const register of [participantRoutes, secureElementRoutes, dcpRoutes]) register(routes);
  return app;
}

export type DirectoryApp = Awaited<ReturnType<typeof buildDirectoryApp>>;
