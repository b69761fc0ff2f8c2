// The monitoring room's test scenario on a running system: a cloned phone double-spends across the
// two DCPs (as in test/mds/e2e.test.ts: the original pays a shop at bank-a, the clone a shop at
// bank-b, with the same token), and a payment whose tap breaks as RECEIVE starts and is never
// re-tapped, so its value is left in flight on the payer's SE. Every shop and the payer then renew,
// so the DCPs forward the sealed uploads: the MDS finds the double spend, and from the payee's
// upload (the challenge expired) decides the refund of the payment never delivered.
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/bytes.ts';
import { createBank, holderDevice, key, onboard } from '../../src/demo/economy.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import type { Device } from '../../src/device/device.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import type { RunningSystem } from '../../src/system/launcher.ts';
import { payWithCut } from '../../src/testing/cut-payments.ts';
import { copyMemory } from '../../src/testing/devices.ts';

export interface Scenario {
  /** The cloned SE: the double-spend's blamed SE. */
  readonly thiefSeId: string;
  /** The value of the token spent twice: the thief's whole load. */
  readonly doubleSpentValue: bigint;
  /** What the clone paid under the counter the original had used (the counter reuse's value). */
  readonly clonePaidValue: bigint;
  /** The payer whose payment was left in flight, and that payment's value. */
  readonly stuckPayerSeId: string;
  readonly stuckValue: bigint;
}

export const loadValue = 5_000n;
export const stuckValue = 1_200n;
export const clonePayment = 3_000n;

function seIdOf(device: Device): string {
  return toHex(device.client().getData().seId);
}

export async function playScenario(system: RunningSystem): Promise<Scenario> {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  const thiefMedium = new MemoryMedium();
  const media = (name: string) => (name === 'Thief' ? thiefMedium : new MemoryMedium());
  const thief = await onboard(system, bank, media, 'Thief', 'phone', 'bank-a', 10_000n);
  const shopA = await onboard(system, bank, media, 'ShopA', 'phone', 'bank-a', 0n);
  const shopB = await onboard(system, bank, media, 'ShopB', 'phone', 'bank-b', 0n);
  const payer = await onboard(system, bank, media, 'Payer', 'phone', 'bank-a', 10_000n);
  await thief.app.load(thief.device.client(), loadValue, key());
  await payer.app.load(payer.device.client(), loadValue, key());
  const clone = holderDevice('Thief', 'phone', copyMemory(thiefMedium));
  assert.deepEqual(new OfflinePayment(thief.device, shopA.device, clonePayment).tap(), {
    outcome: 'completed',
  });
  assert.deepEqual(new OfflinePayment(clone, shopB.device, clonePayment).tap(), { outcome: 'completed' });
  payWithCut(payer.device, shopB.device, stuckValue, 'undelivered');
  assert.equal(payer.device.client().getData().balance, loadValue - stuckValue, 'the payer was debited');
  for (const holder of [shopA, shopB, payer]) await holder.app.renew(holder.device.client(), key());
  return {
    thiefSeId: seIdOf(thief.device),
    doubleSpentValue: loadValue,
    clonePaidValue: clonePayment,
    stuckPayerSeId: seIdOf(payer.device),
    stuckValue,
  };
}
