// `npm run demo:offline`: the offline payment protocol alone, through APDUs and without any server —
// a card pays a phone, a phone pays a card, a phone pays a phone — with one tap broken mid-payment
// and resumed, printing balances after each step.
import { OfflinePayment } from '../device/offline-payment.ts';
import { TestPki } from '../testing/test-pki.ts';
import type { Device } from '../device/device.ts';
import { formatAmount } from './format.ts';

function balances(devices: readonly Device[]): string {
  return devices
    .map((device) => `${device.name} ${formatAmount(device.client().getData().balance)}`)
    .join(' | ');
}

function pay(
  payer: Device,
  payee: Device,
  amount: bigint,
  devices: readonly Device[],
  cutAfterBytes?: number,
): void {
  const payment = new OfflinePayment(payer, payee, amount);
  let tap = payment.tap(cutAfterBytes === undefined ? {} : { cutAfterBytes });
  let taps = 1;
  while (tap.outcome === 'interrupted') {
    console.log(`  link broke during ${tap.step} after ${cutAfterBytes} bytes; re-tapping`);
    tap = payment.tap();
    taps++;
  }
  const bytes = payment.lastLink?.bytesTransferred ?? 0;
  console.log(
    `${payment.direction.padEnd(12)} ${formatAmount(amount).padStart(10)}  ${taps} tap(s), ${bytes} bytes on the last link`,
  );
  console.log(`  ${balances(devices)}`);
}

const pki = new TestPki();
const alice = pki.newDevice('card', 'alice-card');
const bob = pki.newDevice('phone', 'bob-phone');
const shop = pki.newDevice('phone', 'shop-phone');
const devices = [alice, bob, shop];
pki.load(alice, 20_000n);
pki.load(bob, 50_000n);
console.log('loaded by the DCP (issuances signed by the test DCP)');
console.log(`  ${balances(devices)}`);
pay(alice, shop, 1_250n, devices);
pay(bob, alice, 3_000n, devices);
pay(bob, shop, 4_599n, devices);
pay(shop, bob, 1_000n, devices, 700);
pay(alice, bob, 500n, devices);
const total = devices.reduce((sum, device) => sum + device.client().getData().balance, 0n);
console.log(`total ${formatAmount(total)} (loaded ${formatAmount(70_000n)}): value conserved`);
