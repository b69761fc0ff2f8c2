// The MDS's `SettlementLedger` over the ledger's typed client (src/ledger/api/, docs/ledger.md,
// "Settlement"), under the MDS's `settlement` participant: it reads DCP pools and pays pool to pool.
// Whatever the ledger answers other than the value — no answer after the client's retries, or a
// refusal (a pool short of money, a key or role a deployment got wrong) — is
// `settlementLedgerUnavailable` with the ledger's code in the message: the run stays pending and
// the next request continues it under the same idempotency keys.
import { isCbdcError } from '../../core/errors.ts';
import type { LedgerClient } from '../../ledger/api/client.ts';
import { mdsError } from '../api/errors.ts';
import type { PoolFigures, SettlementLedger } from '../domain/settlement.ts';

export class LedgerSettlement implements SettlementLedger {
  constructor(private readonly client: LedgerClient) {}

  async pool(accountId: string): Promise<PoolFigures> {
    const account = await unavailableOnFailure(() => this.client.account(accountId));
    return { balance: account.balance, settled: account.settled };
  }

  async pay(
    payerAccountId: string,
    payeeAccountId: string,
    amount: bigint,
    key: string,
    reference: string,
  ): Promise<string> {
    const payment = await unavailableOnFailure(() =>
      this.client.pay(key, { payerAccountId, payeeAccountId, amount, reference }),
    );
    return payment.value.id;
  }
}

async function unavailableOnFailure<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isCbdcError(error))
      throw mdsError('settlementLedgerUnavailable', `the ledger answered ${error.code}: ${error.message}`);
    throw error;
  }
}
