// The DCP's HTTP API (fastify). Device routes are authenticated by the SE's signatures (a claim or a
// device request over a DCP nonce), administrative routes by an API key (operator, agent). Routes
// decode, call the domain and encode; the rules live in the domain. See docs/dcp.md.
import type { FastifyServerOptions } from 'fastify';
import { toHex } from '../../core/bytes.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import { encodeSigned } from '../../core/signed.ts';
import { authenticatedCallers, createServiceApp } from '../../service-kit/app.ts';
import type { DcpContext } from '../domain/context.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';
import { acceptCredit, settle, type SettleAnswer } from '../domain/settle.ts';
import { createParticipant, createWallet, load, makeNonce, personalise, supply } from '../domain/service.ts';
import { dcpError } from '../api/errors.ts';
import { dcpAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { DcpMetrics } from './metrics.ts';
import {
  CreditBody,
  IdempotencyHeaders,
  LoadBody,
  NonceBody,
  ParticipantBody,
  PersonaliseBody,
  RenewalBody,
  SeIdParams,
  TransferBody,
  UnloadBody,
  WalletBody,
  WalletParams,
} from './schemas.ts';

export interface DcpAppOptions {
  readonly context: DcpContext;
  readonly logger?: FastifyServerOptions['logger'];
  readonly processMetrics?: boolean;
}

const security = [{ apiKey: [] }];
const adminPrefixes = ['/v1/participants', '/v1/wallets', '/v1/supply'];

export async function buildDcpApp(options: DcpAppOptions) {
  const context = options.context;
  const metrics = new DcpMetrics(options.processMetrics ?? false);
  const updates = updatesOf(context);
  const app = await createServiceApp({
    title: 'CBDC DCP',
    description: 'See docs/dcp.md',
    requestBodyBytesMax,
    logger: options.logger,
    errorAnswer,
    routeNotFound: (detail) => dcpError('dcpRouteNotFound', detail),
    metrics,
    ping: () => context.store.ping(),
  });

  const auth = dcpAuthenticator((digest) => context.store.reader.findParticipantByKeyDigest(digest));
  const caller = authenticatedCallers(app, {
    protects: (request) => adminPrefixes.some((prefix) => request.url.startsWith(prefix)),
    authenticate: (authorization) => auth.authenticate(authorization),
  });
  const settled = async (answer: SettleAnswer) => {
    metrics.operations.inc({ kind: answer.kind });
    return { ...answer, ...(await updates(undefined)) };
  };

  app.get('/v1/dcp', () => ({
    dcpId: toHex(context.dcpId),
    certificate: toHex(encodeSigned(context.certificate)),
    poolAccountId: context.poolAccountId,
    renewalCheck: context.renewalCheck.mode,
  }));

  app.post(
    '/v1/participants',
    { schema: { security, headers: IdempotencyHeaders, body: ParticipantBody } },
    async (request, reply) => {
      const participant = await createParticipant(
        context,
        caller(request),
        request.headers['idempotency-key'],
        request.body,
      );
      return reply.status(201).send({ participant });
    },
  );

  app.post(
    '/v1/wallets',
    { schema: { security, headers: IdempotencyHeaders, body: WalletBody } },
    async (request, reply) => {
      const body = request.body;
      const wallet = await createWallet(context, caller(request), request.headers['idempotency-key'], {
        name: body.name,
        ...(body.accountId === undefined ? {} : { accountId: body.accountId }),
      });
      return reply
        .status(201)
        .send({ wallet: { id: wallet.id, name: wallet.name, accountId: wallet.accountId } });
    },
  );

  app.get('/v1/wallets/:walletId', { schema: { security, params: WalletParams } }, async (request) => {
    const wallet = await context.store.reader.findWallet(request.params.walletId);
    if (wallet === null) throw dcpError('walletNotFound');
    const account = await context.ledger.account(wallet.accountId);
    return {
      wallet: {
        id: wallet.id,
        name: wallet.name,
        accountId: wallet.accountId,
        balance: account.balance.toString(),
        available: account.available.toString(),
      },
    };
  });

  app.post(
    '/v1/wallets/:walletId/devices',
    { schema: { security, headers: IdempotencyHeaders, params: WalletParams, body: PersonaliseBody } },
    async (request, reply) => {
      const personalisation = await personalise(
        context,
        caller(request),
        request.headers['idempotency-key'],
        request.params.walletId,
        request.body,
      );
      return reply.status(201).send({ personalisation });
    },
  );

  app.get('/v1/supply', { schema: { security } }, async () => {
    const figures = await supply(context);
    return Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, value.toString()]));
  });

  app.post('/v1/nonces', { schema: { body: NonceBody } }, async (request, reply) =>
    reply.status(201).send(await makeNonce(context, request.body.seId)),
  );

  app.post(
    '/v1/loads',
    { schema: { headers: IdempotencyHeaders, body: LoadBody } },
    async (request, reply) => {
      const body = request.body;
      const answer = await load(context, request.headers['idempotency-key'], {
        seId: body.seId,
        amount: BigInt(body.amount),
        balance: BigInt(body.balance),
        deviceRequest: body.deviceRequest,
      });
      metrics.operations.inc({ kind: 'load' });
      return reply.status(201).send(answer);
    },
  );

  app.post(
    '/v1/renewals',
    { schema: { headers: IdempotencyHeaders, body: RenewalBody } },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await settled(await settle(context, 'renewal', request.headers['idempotency-key'], request.body)),
        ),
  );

  app.post(
    '/v1/unloads',
    { schema: { headers: IdempotencyHeaders, body: UnloadBody } },
    async (request, reply) => {
      const body = request.body;
      const answer = await settle(context, 'unload', request.headers['idempotency-key'], {
        ...body,
        amount: BigInt(body.amount),
      });
      return reply.status(201).send(await settled(answer));
    },
  );

  app.post(
    '/v1/transfers',
    { schema: { headers: IdempotencyHeaders, body: TransferBody } },
    async (request, reply) => {
      const body = request.body;
      const answer = await settle(context, 'transfer', request.headers['idempotency-key'], {
        ...body,
        amount: BigInt(body.amount),
      });
      return reply.status(201).send(await settled(answer));
    },
  );

  app.post('/v1/credits', { schema: { body: CreditBody } }, async (request, reply) => {
    const credit = await acceptCredit(context, request.body.paymentId);
    return reply.status(201).send({ seId: credit.seId, amount: credit.amount.toString() });
  });

  app.get('/v1/devices/:seId/updates', { schema: { params: SeIdParams } }, async (request) => {
    const device = await context.device(request.params.seId);
    return updates(device.kind);
  });

  return app;
}

/**
 * The signed limits for a kind (both kinds when none is given) and the newest full deny list, as hex.
 * Every settlement answers them: the limits are fixed for the process and each deny list is encoded
 * once, not once per answer.
 */
function updatesOf(context: DcpContext) {
  const limits = {
    card: toHex(encodeSigned(context.limitsByKind.card)),
    phone: toHex(encodeSigned(context.limitsByKind.phone)),
  };
  let encoded: { readonly list: SignedDenyList; readonly hex: string } | undefined;
  return async (kind: 'card' | 'phone' | undefined) => {
    const list = await context.denyList();
    if (encoded?.list !== list) encoded = { list, hex: toHex(encodeSigned(list)) };
    return { limits: kind === undefined ? limits : limits[kind], denyList: encoded.hex };
  };
}

export type DcpApp = Awaited<ReturnType<typeof buildDcpApp>>;
