// `cbdc serve directory`: runs the directory until SIGTERM or SIGINT, then stops cleanly (answers
// the requests in flight, closes the database) and exits 0.
import type { Command } from 'commander';
import { startDirectoryServer } from '../directory/server.ts';
import { serveUntilSignalled } from '../service-kit/serve.ts';
import { listenOptions, operatorOptions, serverOptionsFrom, type ServeOptions } from './options.ts';

export const directoryOperatorKeyEnvironment = 'CBDC_DIRECTORY_OPERATOR_KEY';

interface ServeDirectoryOptions extends ServeOptions {
  readonly pki: string;
}

export function registerServeDirectory(serve: Command): void {
  const command = serve
    .command('directory')
    .description('the directory: secure elements, their status, signed deny lists, trust anchors');
  listenOptions(command, 'directory', 4200).requiredOption(
    '--pki <dir>',
    'deployment PKI folder (trust.json, directory.json)',
  );
  operatorOptions(command, directoryOperatorKeyEnvironment).action(async (options: ServeDirectoryOptions) => {
    const server = await startDirectoryServer({
      ...serverOptionsFrom(options, directoryOperatorKeyEnvironment),
      pkiDir: options.pki,
    });
    serveUntilSignalled('directory', server);
  });
}
