// `cbdc serve ledger`: runs the core ledger until SIGTERM or SIGINT, then stops cleanly (answers
// the requests in flight, closes the database) and exits 0.
import type { Command } from 'commander';
import { startLedgerServer } from '../ledger/server.ts';
import { serveUntilSignalled } from '../service-kit/serve.ts';
import { listenOptions, operatorOptions, serverOptionsFrom, type ServeOptions } from './options.ts';

export const operatorKeyEnvironment = 'CBDC_LEDGER_OPERATOR_KEY';

export function registerServeLedger(serve: Command): void {
  const command = serve.command('ledger').description('the core ledger: accounts, issuance, payments, holds');
  listenOptions(command, 'ledger', 4100);
  operatorOptions(command, operatorKeyEnvironment).action(async (options: ServeOptions) => {
    const server = await startLedgerServer(serverOptionsFrom(options, operatorKeyEnvironment));
    serveUntilSignalled('ledger', server);
  });
}
