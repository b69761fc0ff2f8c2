// `cbdc serve mds`: runs the MDS API process, which starts the enclave process, until SIGTERM or
// SIGINT, then stops cleanly (the API first, then the enclave) and exits 0. Secrets come from files
// or the environment, never from the command line: the MDS's directory API key
// (CBDC_MDS_DIRECTORY_KEY) and an operator key to register at start (CBDC_MDS_OPERATOR_KEY). The
// PKI folder is handed to the enclave, which alone opens mds.json; this process reads trust.json.
import { Option, type Command } from 'commander';
import { startEnclave } from '../mds/channel/enclave-client.ts';
import { startMdsServer } from '../mds/server.ts';
import { serveUntilSignalled } from '../service-kit/serve.ts';
import {
  addressOptions,
  defaultDatabaseUrl,
  parseLogLevel,
  secretFrom,
  type CliLogLevel,
} from './options.ts';

export const mdsOperatorKeyEnvironment = 'CBDC_MDS_OPERATOR_KEY';
export const mdsDirectoryKeyEnvironment = 'CBDC_MDS_DIRECTORY_KEY';
export const mdsLedgerKeyEnvironment = 'CBDC_MDS_LEDGER_KEY';

interface ServeMdsOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly enclaveDb: string;
  readonly pki: string;
  readonly directory: string;
  readonly directoryKeyFile?: string;
  readonly bootstrapKeyFile?: string;
  readonly ledger?: string;
  readonly ledgerKeyFile?: string;
  readonly settlementIntervalMs?: number;
  readonly indicatorK?: number;
  readonly logLevel: CliLogLevel;
  readonly doubleSpendPolicy: 'honour' | 'refuse';
}

export function registerServeMds(serve: Command): void {
  const command = serve
    .command('mds')
    .description('the Monitoring and Detection System: API process and its enclave process');
  addressOptions(command, 4500)
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
    .option('--ledger <url>', 'the core ledger, for settlement between DCP pools (role settlement)')
    .option('--ledger-key-file <path>', `file with the ledger API key (or ${mdsLedgerKeyEnvironment})`)
    .option('--settlement-interval-ms <ms>', 'run a settlement this often (needs --ledger)', parseInterval)
    .option('--indicator-k <n>', 'suppress indicator cells over fewer SEs (default 10)', parseK)
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
      const settlement = settlementOptions(options);
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
        ...(settlement === undefined ? {} : { settlement }),
        ...(options.indicatorK === undefined ? {} : { indicatorSecureElementsMin: options.indicatorK }),
      });
      serveUntilSignalled('mds', server);
    });
}

function parseInterval(text: string): number {
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || ms < 1_000) throw new Error('--settlement-interval-ms: an integer ≥ 1000');
  return ms;
}

/** The ledger for settlement, when `--ledger` is given: its key is then required. */
function settlementOptions(
  options: ServeMdsOptions,
): { ledgerUrl: string; ledgerKey: string; intervalMs?: number } | undefined {
  if (options.ledger === undefined) {
    if (options.settlementIntervalMs !== undefined)
      throw new Error('--settlement-interval-ms needs --ledger');
    return undefined;
  }
  const ledgerKey = secretFrom(options.ledgerKeyFile, mdsLedgerKeyEnvironment);
  if (ledgerKey === undefined)
    throw new Error(
      `a ledger API key is required with --ledger (--ledger-key-file or ${mdsLedgerKeyEnvironment})`,
    );
  return {
    ledgerUrl: options.ledger,
    ledgerKey,
    ...(options.settlementIntervalMs === undefined ? {} : { intervalMs: options.settlementIntervalMs }),
  };
}

function parseK(text: string): number {
  const k = Number(text);
  if (!Number.isSafeInteger(k) || k < 1) throw new Error('--indicator-k: an integer ≥ 1');
  return k;
}
