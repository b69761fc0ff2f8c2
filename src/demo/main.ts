// `npm start`: the whole online side on SQLite (core ledger, directory, two DCPs, each its own
// process) with a demo economy of a card and phones paying offline and syncing online. Data goes to
// a fresh folder under .data/; `npm run demo:offline` shows the offline protocol alone.
import { join } from 'node:path';
import { startSystem } from '../system/launcher.ts';
import { runEconomy } from './economy.ts';

const dataDirectory = join('.data', `demo-${new Date().toISOString().replaceAll(/[:.]/g, '-')}`);
console.log(`starting ledger, directory and DCPs bank-a and bank-b (SQLite under ${dataDirectory})`);
const system = await startSystem({ dataDirectory, dcpNames: ['bank-a', 'bank-b'] });
console.log(
  `ledger ${system.ledgerUrl}, directory ${system.directoryUrl}, ${[...system.dcps.values()].map((dcp) => `${dcp.name} ${dcp.url}`).join(', ')}`,
);
try {
  await runEconomy(system);
} finally {
  await system.stop();
}
console.log('\nall services stopped cleanly');
