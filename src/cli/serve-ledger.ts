// `cbdc serve ledger`: runs the core ledger until SIGTERM or SIGINT, then stops cleanly (answers
// the requests in flight, closes the database) and exits 0.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { startLedgerServer } from '../ledger/server.ts';
import { defaultDatabaseUrl, parseLogLevel, parsePort, type CliLogLevel } from './options.ts';

export const operatorKeyEnvironment = 'CBDC_LEDGER_OPERATOR_KEY';

interface ServeLedgerOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly bootstrapKeyFile?: string;
  readonly logLevel: CliLogLevel;
}

export function registerServeLedger(serve: Command): void {
  serve
    .command('ledger')
    .description('the core ledger: accounts, issuance, payments, holds')
    .option('--port <port>', 'TCP port (0: any free port)', parsePort, 4100)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--db <url>', 'postgres://... or sqlite:PATH', defaultDatabaseUrl('ledger'))
    .option(
      '--bootstrap-key-file <path>',
      `file holding an operator API key to register (or set ${operatorKeyEnvironment})`,
    )
    .option('--log-level <level>', 'pino level, or silent', parseLogLevel, 'info')
    .action(async (options: ServeLedgerOptions) => {
      const operatorKey =
        options.bootstrapKeyFile === undefined
          ? process.env[operatorKeyEnvironment]
          : readFileSync(options.bootstrapKeyFile, 'utf8').trim();
      const server = await startLedgerServer({
        databaseUrl: options.db,
        host: options.host,
        port: options.port,
        logLevel: options.logLevel,
        ...(operatorKey === undefined || operatorKey === '' ? {} : { operatorKey }),
      });
      // The one line a parent process (tests, the demo) waits for.
      process.stdout.write(`ledger listening on ${server.url}\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
