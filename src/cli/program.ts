// The `cbdc` command. Each service adds its subcommand under `serve` (and its migration set to
// `migrationSets`) from its own file in src/cli/; this file only assembles them.
import { Command } from 'commander';
import { registerCard } from './card.ts';
import { registerTerminal } from './terminal.ts';
import { registerMigrate } from './migrate.ts';
import { registerPki } from './pki.ts';
import { registerServeDcp } from './serve-dcp.ts';
import { registerServeDirectory } from './serve-directory.ts';
import { registerServeLedger } from './serve-ledger.ts';

export function buildProgram(): Command {
  const program = new Command('cbdc').description('Offline CBDC platform').showHelpAfterError();
  const serve = program.command('serve').description('run one service in the foreground');
  registerServeLedger(serve);
  registerServeDcp(serve);
  registerServeDirectory(serve);
  registerMigrate(program);
  registerPki(program);
  registerCard(program);
  registerTerminal(program);
  return program;
}
