// `npm run bench`: runs every `bench/*.bench.ts` in its own process, one after the other (so runs do
// not compete for the two cores), and passes through their JSON lines on stdout. A bench file prints
// one JSON object per line: { name, value, unit, reference?, ratio?, ...details }.
// `npm run bench -- ledger` runs only the files whose name contains "ledger".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();
let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    failed++;
    console.error(`bench ${file} failed with status ${String(result.status)}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
