// Entry point of the `cbdc` command (bin/cbdc.mjs imports this file).
import { buildProgram } from './program.ts';

await buildProgram().parseAsync(process.argv);
