// The world of the extracted-key end-to-end tests (e2e-extracted-double-spend.test.ts,
// e2e-extracted-counter-reuse.test.ts, e2e-extracted-fake-funding.test.ts), on the whole system as real processes: a thief whose phone
// is a real chip of bank-a, a shop at bank-a, a shop at bank-b, and an honest phone of bank-b that
// pays both shops around the fraud. Test support code opens the thief's chip (Forge.extract) and
// signs with its key what the chip never would; every honest SE is driven through its APDUs.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { toHex, type Bytes } from '../../src/core/bytes.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import { createBank, key, onboard, type Holder } from '../../src/demo/economy.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import type { AlertKind, MdsAlert } from '../../src/mds/api/types.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import { readChip } from '../../src/sim/chip-memory.ts';
import type { RunningSystem, SystemOptions } from '../../src/system/launcher.ts';
import { eventually } from '../../src/testing/eventually.ts';
import {
  assertRefusedWithoutChange,
  finalTransfer,
  Forge,
  type ExtractedSecureElement,
} from '../../src/testing/forge.ts';
import { ingested, mdsParticipant, seIdOf, startScratchSystem } from '../../src/testing/system-e2e.ts';
import { TestPki } from '../../src/testing/test-pki.ts';

const verifier = new NodeVerifier();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What the honest phone pays shop A before the fraud, and shop B after it. */
export const honestPayments = { shopA: 400n, shopB: 300n } as const;

export interface World {
  readonly system: RunningSystem;
  readonly thief: Holder;
  readonly shopA: Holder;
  readonly shopB: Holder;
  readonly honest: Holder;
  /** Renewals so far: each forwards one sealed upload to the MDS. */
  renewals: number;
}

/**
 * The system started for test `t` (stopped after it) with `options`, everyone onboarded, the honest
 * phone loaded and shop A paid by it. The thief has loaded nothing yet.
 */
export async function startWorld(
  t: TestContext,
  label: string,
  options: Partial<SystemOptions> = {},
): Promise<World> {
  const { system, stop } = await startScratchSystem(label, options);
  t.after(stop);
  return onboardWorld(system);
}

async function onboardWorld(system: RunningSystem): Promise<World> {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  const media = () => new MemoryMedium();
  const [thief, shopA, shopB, honest] = await Promise.all([
    onboard(system, bank, media, 'Thief', 'phone', 'bank-a', 10_000n),
    onboard(system, bank, media, 'ShopA', 'phone', 'bank-a', 0n),
    onboard(system, bank, media, 'ShopB', 'phone', 'bank-b', 0n),
    onboard(system, bank, media, 'Honest', 'phone', 'bank-b', 10_000n),
  ]);
  await honest.app.load(honest.device.client(), 1_000n, key());
  payCompleted(honest, shopA, honestPayments.shopA);
  return { system, thief, shopA, shopB, honest, renewals: 0 };
}

export function payCompleted(payer: Holder, payee: Holder, amount: bigint): void {
  assert.deepEqual(new OfflinePayment(payer.device, payee.device, amount).tap(), { outcome: 'completed' });
}

export const balanceOf = (holder: Holder): bigint => holder.device.client().getData().balance;

/** A forge for the extracted key: its own test PKI signs nothing here, it lends the forge a verifier. */
export const newForge = (): Forge => new Forge(new TestPki());

/**
 * The extracted key pays `payee` `amount` from the tokens extracted (the rest back to itself) under
 * `counter`, through the payee's own PAYMENT REQUEST and RECEIVE; returns the transfer's id.
 */
export function payWithKey(
  forge: Forge,
  extracted: ExtractedSecureElement,
  payee: Holder,
  amount: bigint,
  counter: number,
): string {
  return transferIdOf(payBundleWithKey(forge, extracted, payee, amount, counter));
}

/** `payWithKey`, returning the bundle the payee received (its outputs: `Forge.intercept`). */
export function payBundleWithKey(
  forge: Forge,
  extracted: ExtractedSecureElement,
  payee: Holder,
  amount: bigint,
  counter: number,
): Bytes {
  const request = payee.device.client().paymentRequest(amount);
  const bundle = forge.pay(extracted.key, extracted.tokens, request, { counter, time: nowSeconds() });
  payee.device.client().receive(bundle);
  return bundle;
}

export function transferIdOf(bundle: Bytes): string {
  return toHex(verifier.sha256(finalTransfer(bundle).bodyBytes));
}

/** The ids of the transfers the chip signed itself (its outgoing log). */
export function chipTransferIds(holder: Holder): string[] {
  return readChip(holder.device, (view) => view.outgoingAll().map((record) => toHex(record.transferId)));
}

export async function renew(world: World, holder: Holder): Promise<void> {
  await holder.app.renew(holder.device.client(), key());
  world.renewals++;
}

/** Honest traffic after the fraud: the honest phone pays shop B; then everyone but the thief renews. */
export async function payAndRenewAfter(world: World): Promise<void> {
  payCompleted(world.honest, world.shopB, honestPayments.shopB);
  for (const holder of [world.shopA, world.shopB, world.honest]) await renew(world, holder);
}

/**
 * The test's single alert: of `kind`, revoked by the automatic response, and the only alert once
 * every upload is ingested, its evidence exactly the transfers and issuances `expected` names.
 */
async function soleAlert(world: World, expected: Expected): Promise<MdsAlert> {
  const kind = expected.kind;
  const analyst = await mdsParticipant(world.system, 'analyst');
  await ingested(world.system, world.renewals);
  const { alerts, found } = await eventually(`the ${kind} alert revoked`, async () => {
    const listed = (await analyst.listAlerts()).alerts;
    const alert = listed.find((candidate) => candidate.kind === kind);
    return alert?.status === 'revoked' ? { alerts: listed, found: alert } : undefined;
  });
  assert.deepEqual(
    alerts.map((alert) => [alert.kind, alert.seId]),
    [[kind, seIdOf(world.thief.device)]],
    'no false alert: the shops, the honest phone and their DCPs are blamed for nothing',
  );
  const evidence = await analyst.evidence(found.id);
  assert.deepEqual(
    evidence.evidence.map((item) => [item.kind, item.entryId]).sort(),
    evidenceOf(expected).sort(),
    'the evidence: the entries the key signed or made up',
  );
  return found;
}

/**
 * The response reaches shop B: it syncs until it holds the directory's deny list naming the thief
 * (its DCP refreshes its copy on a timer), then refuses the key's next payment on RECEIVE with
 * 6982 deniedSecureElement, every byte of its memory unchanged. Its renewals raise no new alert.
 */
async function shopBRefusesTheThief(
  world: World,
  forge: Forge,
  extracted: ExtractedSecureElement,
  alert: MdsAlert,
): Promise<void> {
  const list = await new DirectoryClient({ baseUrl: world.system.directoryUrl }).denyList();
  assert.ok(
    list.signed.body.entries.some((entry) => toHex(entry) === alert.seId),
    'the deny list names it',
  );
  await eventually('shop B holding the deny list', async () => {
    await renew(world, world.shopB);
    return world.shopB.device.client().getData().denyListVersion >= list.version ? true : undefined;
  });
  const shop = world.shopB.device;
  const request = shop.client().paymentRequest(500n);
  // Any counter: shop B refuses before anything reaches an upload.
  const bundle = forge.pay(extracted.key, extracted.tokens, request, { counter: 1_000, time: nowSeconds() });
  assertRefusedWithoutChange([shop], () => shop.client().receive(bundle), {
    sw: 0x6982,
    code: 'deniedSecureElement',
  });
  await ingested(world.system, world.renewals);
  const analyst = await mdsParticipant(world.system, 'analyst');
  assert.deepEqual(
    (await analyst.listAlerts()).alerts.map((listed) => listed.id),
    [alert.id],
    'shop B syncing again raises nothing',
  );
}

/** What a case expects of the MDS: the one alert's kind and value, and its evidence. */
export interface Expected {
  readonly kind: AlertKind;
  readonly value: bigint;
  readonly transferIds: readonly string[];
  /** Issuances in the evidence too (a made-up funding token's); none by default. */
  readonly issuanceIds?: readonly string[];
}

function evidenceOf(expected: Expected): [string, string][] {
  return [
    ...expected.transferIds.map((id): [string, string] => ['transfer', id]),
    ...(expected.issuanceIds ?? []).map((id): [string, string] => ['issuance', id]),
  ];
}

/**
 * Once the traffic after the fraud is paid and renewed: exactly the one alert expected, blaming the
 * thief's SE for the value, with the transfers as evidence, and revoked; then shop B refuses the key.
 */
export async function assertBlamedAndRefused(
  world: World,
  forge: Forge,
  extracted: ExtractedSecureElement,
  expected: Expected,
): Promise<void> {
  const alert = await soleAlert(world, expected);
  assert.deepEqual(
    [alert.seId, alert.value, alert.evidenceCount],
    [seIdOf(world.thief.device), expected.value, evidenceOf(expected).length],
    `the thief's SE, for the value at stake`,
  );
  await shopBRefusesTheThief(world, forge, extracted, alert);
}
