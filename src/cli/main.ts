// Entry point of the `cbdc` command (bin/cbdc.mjs imports this file). An error that reaches here is
// reported as one line and exit code 1, not a stack trace.
import { buildProgram } from './program.ts';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`cbdc: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
