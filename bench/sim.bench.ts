// The simulator end to end (docs/simulator.md): a seeded honest economy over the real services (the
// ledger, the directory, the MDS and two DCPs as processes on loopback, SQLite), every payment an
// APDU exchange between emulated SEs, renewals and unloads through the DCPs, the MDS ingesting every
// upload before each day ends.
//   sim.payments      offline payments stored by their payees per second of the whole run's wall
//                     time (world building included), reference = the single-core crypto bound of
//                     those payments: 1 / (signs / signRate + verifies / verifyRate), the rates of
//                     node:crypto measured in this process before and after the run (their mean)
//   sim.peak-rss-mb   the simulator process's peak resident memory: every chip lives in it; the
//                     services are processes of their own and not counted
// The crypto counted per payment is the least each one needs: PAY signs the transfer and RECEIVE
// the receipt (2 signs); the payer verifies the payee's certificate, the payee the payer's
// certificate, the transfer and at least the issuance its history starts from, the payer the
// receipt, and the MDS the transfer once at ingest (6 verifies). Renewals' claims and issuances are
// left out, so the bound is above what the run can reach, never below.
// Scenario: `CBDC_BENCH_SIM_DEVICES` consumers (default 200, not the 10,000: a run of that
// size ran 20 minutes on this shared two-core machine under a load of 12–15 and then failed on a
// DCP that did not answer a transfer within its retries (peak RSS 1.4 GB); the
// simulator takes up to 100,000, its chips beyond `chipsPoweredMax` at rest), a tenth as many
// merchants, 3 days.
import { purposes } from '../src/core/crypto.ts';
import { NodeSigner, NodeVerifier } from '../src/crypto/node-crypto.ts';
import { runSimulation } from '../src/sim/run.ts';
import { defaultScenario } from '../src/sim/scenario.ts';
import { opsPerSecond, report } from './report.ts';

const devices = Number(process.env['CBDC_BENCH_SIM_DEVICES'] ?? '200');
const signer = NodeSigner.generate();
const verifier = new NodeVerifier();
const message = new Uint8Array(300).fill(1);
const signature = signer.sign(purposes.transfer, message);
const cryptoRates = (): { sign: number; verify: number } => ({
  sign: opsPerSecond(() => signer.sign(purposes.transfer, message), 0.5),
  verify: opsPerSecond(() => verifier.verify(signer.publicKey, purposes.transfer, message, signature), 0.5),
});

const before = cryptoRates();
const start = performance.now();
const simulated = await runSimulation({
  ...defaultScenario,
  seed: 1,
  devices,
  merchants: Math.max(1, Math.floor(devices / 10)),
  days: 3,
  interruptRatePerMille: 0,
});
const seconds = (performance.now() - start) / 1000;
const after = cryptoRates();
const payments = Object.values(simulated.payments).reduce((total, figure) => total + figure.count, 0);
const signs = 2;
const verifies = 6;
const signRate = (before.sign + after.sign) / 2;
const verifyRate = (before.verify + after.verify) / 2;
report({
  name: 'sim.payments',
  value: payments / seconds,
  unit: 'payments/s',
  reference: 1 / (signs / signRate + verifies / verifyRate),
  referenceName: 'single-core crypto bound of the same payments',
  devices,
  payments,
  renewals: simulated.renewals.total,
  unloads: simulated.unloads.count,
  seconds: Math.round(seconds * 10) / 10,
  invariantsHold: simulated.invariantsHold,
});
report({ name: 'sim.peak-rss-mb', value: process.resourceUsage().maxRSS / 1024, unit: 'MB', devices });
