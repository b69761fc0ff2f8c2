// The `cbdc` command. Each service adds its subcommand under `serve` (and its migration set to
// `migrationSets`) from its own file in src/cli/; this file only assembles them.
import { Command } from 'commander';
import { registerCard } from './card.ts';
import { registerMds } from './mds.ts';
import { registerMigrate } from './migrate.ts';
import { registerPki } from './pki.ts';
import { registerServeDcp } from './serve-dcp.ts';
import { registerServeDirectory } from './serve-directory.ts';
import { registerServeLedger } from './serve-ledger.ts';
import { registerServeMds } from './serve-mds.ts';
import { registerSimulate } from './simulate.ts';
import { registerStart } from './start.ts';
import { registerTerminal } from './terminal.ts';

export function buildProgram(): Command {
  const program = new Command('cbdc').description('Offline CBDC platform');
  // Bad usage (an unknown option, a bad value) exits 2 with commander's one-line message; help and
  // version exit 0. Subcommands inherit this, so it is set before any is added.
  program.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
  registerStart(program);
  registerSimulate(program);
  const serve = program.command('serve').description('run one service in the foreground');
  registerServeLedger(serve);
  registerServeDcp(serve);
  registerServeDirectory(serve);
  registerServeMds(serve);
  registerMigrate(program);
  registerPki(program);
  registerCard(program);
  registerTerminal(program);
  registerMds(program);
  return program;
}
