// `POST /v1/wallets`, `GET /v1/wallets/{id}`: wallets linked to core-ledger accounts.
import { dcpError } from '../../api/errors.ts';
import { createWallet } from '../../domain/participants.ts';
import { ledgerCall } from '../../domain/refusals.ts';
import { IdempotencyHeaders, responses, WalletBody, WalletParams } from '../schemas.ts';
import { security, type DcpRoutes } from './routes.ts';

export function walletRoutes({ app, context, caller }: DcpRoutes): void {
  app.post(
    '/v1/wallets',
    {
      schema: { security, headers: IdempotencyHeaders, body: WalletBody, response: responses.walletCreated },
    },
    async (request, reply) => {
      const { name, accountId } = request.body;
      const wallet = await createWallet(context, caller(request), request.headers['idempotency-key'], {
        name,
        ...(accountId === undefined ? {} : { accountId }),
      });
      return reply
        .status(201)
        .send({ wallet: { id: wallet.id, name: wallet.name, accountId: wallet.accountId } });
    },
  );

  app.get(
    '/v1/wallets/:walletId',
    { schema: { security, params: WalletParams, response: responses.wallet } },
    async (request) => {
      const wallet = await context.store.reader.findWallet(request.params.walletId);
      if (wallet === null) throw dcpError('walletNotFound');
      // Checked when the wallet was created; a wallet kept before that check may name an account
      // the ledger does not show this DCP, which is answered with the wallet account's code.
      const account = await ledgerCall('walletAccount', () => context.ledger.account(wallet.accountId));
      return {
        wallet: {
          id: wallet.id,
          name: wallet.name,
          accountId: wallet.accountId,
          balance: account.balance.toString(),
          available: account.available.toString(),
        },
      };
    },
  );
}
