// Offline payment throughput through APDUs against the raw signature rates of the same run.
//   crypto.p256.sign / crypto.p256.verify      ops/s of node:crypto ECDSA P-256 (cached KeyObjects)
//   offline-payment.gen1 / .gen8                complete four-exchange phone→phone payments per second
//                                               whose payment token is of generation 1 / 8, the payee
//                                               verifying the whole history; reference = the crypto bound
//                                               (the time of the payment's signatures and verifications alone)
//
// The reference is the naive crypto bound: what a payment would cost if its time were only its
// signatures, with every signature a payment involves verified, none remembered. It is
// 1 / (signs / signRate + verifies / verifyRate), the rates of node:crypto measured in this process
// just before and just after each figure's payments (their mean: a shared machine's speed drifts
// between phases). An SE that verifies less (remembered certificates, held entries) may therefore
// reach a ratio above 1: that is the point of the ratio, and no part of the bound is discounted.
//   bundle-bytes.gen1 / .gen8                   bytes of the bundle PAY returns
import { purposes } from '../src/core/crypto.ts';
import { NodeSigner, NodeVerifier } from '../src/crypto/node-crypto.ts';
import { OfflinePayment } from '../src/device/offline-payment.ts';
import { TestPki } from '../src/testing/test-pki.ts';
import { opsPerSecond, report } from './report.ts';
import type { Device } from '../src/device/device.ts';

const signer = NodeSigner.generate();
const verifier = new NodeVerifier();
const message = new Uint8Array(300).fill(1);
const signature = signer.sign(purposes.transfer, message);
const cryptoRates = (seconds: number): { sign: number; verify: number } => ({
  sign: opsPerSecond(() => signer.sign(purposes.transfer, message), seconds),
  verify: opsPerSecond(
    () => verifier.verify(signer.publicKey, purposes.transfer, message, signature),
    seconds,
  ),
});
{
  const rates = cryptoRates(1);
  report({ name: 'crypto.p256.sign', value: rates.sign, unit: 'ops/s' });
  report({ name: 'crypto.p256.verify', value: rates.verify, unit: 'ops/s' });
}

const tokenValue = 100n;
const benchLimits = {
  balanceMax: 10_000_000n,
  paymentMax: 1_000_000n,
  offlinePaymentsMax: 10_000,
  historyBytesMax: 64 * 1024,
};
/** Tokens a benchmark wallet holds: a phone's usual few, not thousands (PAY selects among them). */
const walletTokens = 20;

/**
 * Times `batches × walletTokens` payments whose payment token is of `generation`: in each batch a
 * first phone is loaded with `walletTokens` tokens that are relayed, as exact payments (no change),
 * through `generation − 1` further phones; then the last phone pays a fresh payee once per token,
 * each payment making a token of `generation`. Only those last payments are timed.
 */
function measure(generation: number, batches: number): void {
  const pki = new TestPki();
  const before = cryptoRates(0.5);
  let seconds = 0;
  let bundleBytes = 0;
  for (let batch = 0; batch < batches; batch++) {
    const phones: Device[] = [];
    for (let hop = 0; hop < generation; hop++) {
      phones.push(pki.newDevice('phone', `hop-${hop}`, { limits: benchLimits }));
    }
    const payee = pki.newDevice('phone', 'payee', { limits: benchLimits });
    for (let index = 0; index < walletTokens; index++) pki.load(phones[0]!, tokenValue);
    for (let hop = 1; hop < generation; hop++) {
      for (let index = 0; index < walletTokens; index++) pay(phones[hop - 1]!, phones[hop]!);
    }
    const payer = phones[generation - 1]!;
    // Power-up work (parsing keys and anchors into RAM) happens at a chip's first command: not timed.
    payer.client().getData();
    payee.client().getData();
    const start = performance.now();
    for (let index = 0; index < walletTokens; index++) bundleBytes = pay(payer, payee).bundleBytes;
    seconds += (performance.now() - start) / 1000;
  }
  const after = cryptoRates(0.5);
  const signRate = (before.sign + after.sign) / 2;
  const verifyRate = (before.verify + after.verify) / 2;
  const payments = batches * walletTokens;
  // Per payment: PAY signs the transfer, RECEIVE signs the receipt; PAY verifies the payee certificate;
  // RECEIVE verifies one certificate per distinct payer in the history (generation), each transfer
  // (generation) and the issuance; ACKNOWLEDGE verifies the receipt.
  const signs = 2;
  const verifies = 1 + generation + generation + 1 + 1;
  const bound = 1 / (signs / signRate + verifies / verifyRate);
  report({
    name: `offline-payment.gen${generation}`,
    value: payments / seconds,
    unit: 'payments/s',
    reference: bound,
    referenceName: `crypto bound: ${signs} signs + ${verifies} verifies per payment`,
    payments,
    walletTokens,
  });
  report({ name: `bundle-bytes.gen${generation}`, value: bundleBytes, unit: 'bytes' });
}

function pay(payer: Device, payee: Device): { bundleBytes: number } {
  const payment = new OfflinePayment(payer, payee, tokenValue);
  const outcome = payment.tap();
  if (outcome.outcome !== 'completed') throw new Error('benchmark payment interrupted');
  return { bundleBytes: payment.bundleBytes };
}

measure(1, 20);
measure(8, 6);
