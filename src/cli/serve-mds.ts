// `cbdc serve mds`: runs the MDS API process, which starts the enclave process, until SIGTERM or
// SIGINT, then stops cleanly (the API first, then the enclave) and exits 0. Secrets come from files
// or the environment, never from the command line: the MDS's directory API key
// (CBDC_MDS_DIRECTORY_KEY) and an operator key to register at start (CBDC_MDS_OPERATOR_KEY). The
// PKI folder is handed to the enclave, which alone opens mds.json; this process reads trust.json.
import { Option, type Command } from 'commander';
import { startEnclave } from '../mds/channel/enclave-client.ts';
import { startMdsServer } from '../mds/server.ts';
import { serveUntilSignalled } from '../service-kit/serve.ts';
import { defaultDatabaseUrl, parseLogLevel, parsePort, secretFrom, type CliLogLevel } from './options.ts';

export const mdsOperatorKeyEnvironment = 'CBDC_MDS_OPERATOR_KEY';
export const mdsDirectoryKeyEnvironment = 'CBDC_MDS_DIRECTORY_KEY';

interface ServeMdsOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly enclaveDb: string;
  readonly pki: string;
  readonly directory: string;
  readonly directoryKeyFile?: string;
  readonly bootstrapKeyFile?: string;
  readonly logLevel: CliLogLevel;
  readonly doubleSpendPolicy: 'honour' | 'refuse';
}

export function registerServeMds(serve: Command): void {
  serve
    .command('mds')
    .description('the Monitoring and Detection System: API process and its enclave process')
    .option('--port <port>', 'TCP port (0: any free port)', parsePort, 4500)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--db <url>',
      "the API process's database: postgres://... or sqlite:PATH",
      defaultDatabaseUrl('mds'),
    )
    .option(
      '--enclave-db <url>',
      "the enclave's own database: postgres://... or sqlite:PATH (another file)",
      defaultDatabaseUrl('mds-enclave'),
    )
    .requiredOption(
      '--pki <dir>',
      'deployment PKI folder (trust.json; mds.json is read by the enclave alone)',
    )
    .requiredOption('--directory <url>', 'the directory, e.g. http://127.0.0.1:4200')
    .option(
      '--directory-key-file <path>',
      `file with the directory API key (or ${mdsDirectoryKeyEnvironment})`,
    )
    .option(
      '--bootstrap-key-file <path>',
      `file with an operator API key to register (or ${mdsOperatorKeyEnvironment})`,
    )
    .addOption(
      new Option(
        '--double-spend-policy <policy>',
        'what a renewal check answers an honest payee of double-spent value',
      )
        .choices(['honour', 'refuse'])
        .default('honour'),
    )
    .option('--log-level <level>', 'pino level, or silent', parseLogLevel, 'info')
    .action(async (options: ServeMdsOptions) => {
      const directoryKey = secretFrom(options.directoryKeyFile, mdsDirectoryKeyEnvironment);
      if (directoryKey === undefined)
        throw new Error(
          `a directory API key is required (--directory-key-file or ${mdsDirectoryKeyEnvironment})`,
        );
      if (options.enclaveDb === options.db)
        throw new Error('--enclave-db must not be the API process database (--db)');
      const operatorKey = secretFrom(options.bootstrapKeyFile, mdsOperatorKeyEnvironment);
      const server = await startMdsServer({
        databaseUrl: options.db,
        enclaveDatabaseUrl: options.enclaveDb,
        host: options.host,
        port: options.port,
        pkiDir: options.pki,
        startEnclave,
        doubleSpendPolicy: options.doubleSpendPolicy,
        directoryUrl: options.directory,
        directoryKey,
        logLevel: options.logLevel,
        ...(operatorKey === undefined ? {} : { operatorKey }),
      });
      serveUntilSignalled('mds', server);
    });
}
