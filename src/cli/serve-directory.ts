// `cbdc serve directory`: runs the directory until SIGTERM or SIGINT, then stops cleanly (answers
// the requests in flight, closes the database) and exits 0.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { startDirectoryServer } from '../directory/server.ts';
import { defaultDatabaseUrl, parseLogLevel, parsePort, type CliLogLevel } from './options.ts';

export const directoryOperatorKeyEnvironment = 'CBDC_DIRECTORY_OPERATOR_KEY';

interface ServeDirectoryOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly pki: string;
  readonly bootstrapKeyFile?: string;
  readonly logLevel: CliLogLevel;
}

export function registerServeDirectory(serve: Command): void {
  serve
    .command('directory')
    .description('the directory: secure elements, their status, signed deny lists, trust anchors')
    .option('--port <port>', 'TCP port (0: any free port)', parsePort, 4200)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--db <url>', 'postgres://... or sqlite:PATH', defaultDatabaseUrl('directory'))
    .requiredOption('--pki <dir>', 'deployment PKI folder (trust.json, directory.json)')
    .option(
      '--bootstrap-key-file <path>',
      `file holding an operator API key to register (or set ${directoryOperatorKeyEnvironment})`,
    )
    .option('--log-level <level>', 'pino level, or silent', parseLogLevel, 'info')
    .action(async (options: ServeDirectoryOptions) => {
      const operatorKey =
        options.bootstrapKeyFile === undefined
          ? process.env[directoryOperatorKeyEnvironment]
          : readFileSync(options.bootstrapKeyFile, 'utf8').trim();
      const server = await startDirectoryServer({
        databaseUrl: options.db,
        host: options.host,
        port: options.port,
        pkiDir: options.pki,
        logLevel: options.logLevel,
        ...(operatorKey === undefined || operatorKey === '' ? {} : { operatorKey }),
      });
      // The one line a parent process (tests, the demo) waits for.
      process.stdout.write(`directory listening on ${server.url}\n`);
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
