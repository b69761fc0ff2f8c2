// `cbdc serve dcp`: runs a DCP until SIGTERM or SIGINT, then stops cleanly and exits 0. Secrets come
// from files or the environment, never from the command line: the DCP's ledger API key
// (CBDC_DCP_LEDGER_KEY), its directory API key (CBDC_DCP_DIRECTORY_KEY), its MDS API key
// (CBDC_DCP_MDS_KEY, with --mds) and an operator key to register at start (CBDC_DCP_OPERATOR_KEY).
// Without --mds the sealed uploads and reports wait in the DCP's outbox until one is configured, and
// an unload or transfer of value the DCP did not mint to that SE is refused (the unload gate).
import { Option, type Command } from 'commander';
import { startDcpServer } from '../dcp/server.ts';
import { serveUntilSignalled } from '../service-kit/serve.ts';
import {
  defaultDatabaseUrl,
  parseLimitsOption,
  parseLogLevel,
  addressOptions,
  secretFrom,
  verifyPolicies,
  withVerification,
  type CliLogLevel,
  type LimitsOption,
  type VerifyPolicy,
} from './options.ts';

interface ServeDcpOptions {
  readonly port: number;
  readonly host: string;
  readonly db?: string;
  readonly ledger: string;
  readonly directory: string;
  readonly mds?: string;
  readonly mdsKeyFile?: string;
  readonly pki: string;
  readonly name: string;
  readonly publicUrl?: string;
  readonly ledgerKeyFile?: string;
  readonly directoryKeyFile?: string;
  readonly bootstrapKeyFile?: string;
  readonly logLevel: CliLogLevel;
  readonly renewalCheck: 'async' | 'sync';
  readonly limits?: LimitsOption;
  readonly verify?: VerifyPolicy;
}

const renewalCheckOption = new Option(
  '--renewal-check <mode>',
  'async: renew at once, the MDS judges later; sync: ask the MDS before every renewal (needs --mds)',
)
  .choices(['async', 'sync'])
  .default('async');
const verifyOption = new Option(
  '--verify <policy>',
  'what a payee SE verifies: every signature, or the paying transfer only',
).choices(verifyPolicies);

export function registerServeDcp(serve: Command): void {
  addressOptions(
    serve
      .command('dcp')
      .description('a Digital Currency Provider: wallets, devices, load, renewal, unload, transfers'),
    4300,
  )
    .option('--db <url>', 'postgres://... or sqlite:PATH (default: sqlite:.data/dcp-<name>.sqlite)')
    .requiredOption('--ledger <url>', 'the core ledger, e.g. http://127.0.0.1:4100')
    .requiredOption('--directory <url>', 'the directory, e.g. http://127.0.0.1:4200')
    .option('--mds <url>', 'the MDS to forward sealed uploads and reports to, e.g. http://127.0.0.1:4500')
    .option('--mds-key-file <path>', 'file with the MDS API key (or CBDC_DCP_MDS_KEY)')
    .addOption(renewalCheckOption)
    .requiredOption('--pki <dir>', 'deployment PKI folder (trust.json, dcp-<name>.json)')
    .requiredOption('--name <name>', 'the DCP name in the PKI folder')
    .option('--public-url <url>', 'the URL other DCPs reach this one at (default: the listening address)')
    .option('--ledger-key-file <path>', 'file with the ledger API key (or CBDC_DCP_LEDGER_KEY)')
    .option('--directory-key-file <path>', 'file with the directory API key (or CBDC_DCP_DIRECTORY_KEY)')
    .option(
      '--bootstrap-key-file <path>',
      'file with an operator API key to register (or CBDC_DCP_OPERATOR_KEY)',
    )
    .option(
      '--limits <file>',
      'the limits it signs and pushes, per device kind (docs/dcp.md)',
      parseLimitsOption,
    )
    .addOption(verifyOption)
    .option('--log-level <level>', 'pino level, or silent', parseLogLevel, 'info')
    .action(async (options: ServeDcpOptions) => {
      const ledgerKey = secretFrom(options.ledgerKeyFile, 'CBDC_DCP_LEDGER_KEY');
      if (ledgerKey === undefined)
        throw new Error('a ledger API key is required (--ledger-key-file or CBDC_DCP_LEDGER_KEY)');
      const directoryKey = secretFrom(options.directoryKeyFile, 'CBDC_DCP_DIRECTORY_KEY');
      const operatorKey = secretFrom(options.bootstrapKeyFile, 'CBDC_DCP_OPERATOR_KEY');
      const mdsKey =
        options.mds === undefined ? undefined : secretFrom(options.mdsKeyFile, 'CBDC_DCP_MDS_KEY');
      if (options.renewalCheck === 'sync' && options.mds === undefined)
        throw new Error('--renewal-check sync needs --mds');
      if (options.mds !== undefined && mdsKey === undefined)
        throw new Error('--mds needs an MDS API key (--mds-key-file or CBDC_DCP_MDS_KEY)');
      const server = await startDcpServer({
        databaseUrl: options.db ?? defaultDatabaseUrl(`dcp-${options.name}`),
        host: options.host,
        port: options.port,
        pkiDir: options.pki,
        name: options.name,
        ledgerUrl: options.ledger,
        ledgerKey,
        directoryUrl: options.directory,
        logLevel: options.logLevel,
        renewalCheck: options.renewalCheck,
        ...(directoryKey === undefined ? {} : { directoryKey }),
        ...(operatorKey === undefined ? {} : { operatorKey }),
        ...(options.mds === undefined || mdsKey === undefined ? {} : { mdsUrl: options.mds, mdsKey }),
        ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
        ...withLimits(withVerification(options.limits?.limits, options.verify)),
      });
      serveUntilSignalled('dcp', server);
    });
}

function withLimits(limits: ReturnType<typeof withVerification>) {
  return limits === undefined ? {} : { limits };
}
