// `cbdc pki init`: creates a deployment PKI (root, DCP issuers, directory, MDS) for a test or demo
// deployment; the services load it with `--pki DIR`. A real deployment keeps the root offline.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createDeploymentPki } from '../pki/deployment-pki.ts';

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('deployment keys and certificates');
  pki
    .command('init')
    .description('create a root, DCP issuers, a directory and an MDS key in a new folder')
    .requiredOption('--dir <dir>', 'folder to create them in (must not hold a PKI already)')
    .option('--dcp <name...>', 'DCP names (lowercase letters, digits, hyphens)', ['bank-a'])
    .action((options: { dir: string; dcp: string[] }) => {
      if (existsSync(join(options.dir, 'trust.json'))) throw new Error(`${options.dir} already holds a PKI`);
      createDeploymentPki(options.dir, options.dcp, Math.floor(Date.now() / 1000));
      process.stdout.write(`created a PKI for DCPs ${options.dcp.join(', ')} in ${options.dir}\n`);
    });
}
