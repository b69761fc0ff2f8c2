// The MDS end to end, through the whole system as real processes (ledger, directory, MDS API and
// enclave, two DCPs forwarding to it): a phone's chip is cloned (every block of its memory copied
// into a second chip: same key, same tokens, same counter), the original pays a shop at bank-a and
// the clone pays a shop at bank-b with the same token, offline, each payee accepting in good faith.
// The shops renew; their DCPs forward the sealed uploads; the enclave finds the token spent twice and
// the counter signed twice, blames the cloned SE for the value, the response revokes it in the
// directory, and after their next sync honest SEs refuse its payments. Honest value stays whole.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { createBank, holderDevice, key, onboard } from '../../src/demo/economy.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import type { MdsAlert } from '../../src/mds/api/types.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import { copyMemory } from '../../src/sim/chip-memory.ts';
import type { RunningSystem } from '../../src/system/launcher.ts';
import { eventually } from '../../src/testing/eventually.ts';
import {
  mdsParticipant,
  seIdOf,
  startScratchSystem,
  type ScratchSystem,
} from '../../src/testing/system-e2e.ts';

let scratch: ScratchSystem;
let system: RunningSystem;

before(async () => {
  scratch = await startScratchSystem('mds-e2e');
  system = scratch.system;
});

after(() => scratch.stop());

test('a cloned chip double-spends across DCPs offline; the MDS blames it, it is revoked, honest SEs refuse it', async () => {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  const thiefMedium = new MemoryMedium();
  const media = (name: string) => (name === 'Thief' ? thiefMedium : new MemoryMedium());
  const thief = await onboard(system, bank, media, 'Thief', 'phone', 'bank-a', 10_000n);
  const shopA = await onboard(system, bank, media, 'ShopA', 'phone', 'bank-a', 0n);
  const shopB = await onboard(system, bank, media, 'ShopB', 'phone', 'bank-b', 0n);
  await thief.app.load(thief.device.client(), 5_000n, key());
  // A physical clone: every block of the chip's memory, copied into a new chip.
  const clone = holderDevice('Thief', 'phone', copyMemory(thiefMedium));
  const thiefId = seIdOf(thief.device);
  assert.equal(seIdOf(clone), thiefId, 'the clone is the same SE');

  // Offline, each payee accepts in good faith: nothing offline can tell the two chips apart.
  assert.deepEqual(new OfflinePayment(thief.device, shopA.device, 3_000n).tap(), { outcome: 'completed' });
  assert.deepEqual(new OfflinePayment(clone, shopB.device, 3_000n).tap(), { outcome: 'completed' });
  assert.equal(shopA.device.client().getData().balance, 3_000n);
  assert.equal(shopB.device.client().getData().balance, 3_000n);

  // The shops renew (async renewal check: minted at once); their DCPs forward the uploads.
  await shopA.app.renew(shopA.device.client(), key());
  await shopB.app.renew(shopB.device.client(), key());

  const analyst = await mdsParticipant(system, 'analyst');
  const alerts = await eventually('both alerts', async () => {
    const page = await analyst.listAlerts();
    const byKind = new Map(page.alerts.map((alert) => [alert.kind, alert]));
    const found = [byKind.get('doubleSpend'), byKind.get('counterReuse')];
    return found.every((alert) => alert?.status === 'revoked') ? (found as MdsAlert[]) : undefined;
  });
  const [doubleSpend, counterReuse] = alerts;
  assert.ok(doubleSpend !== undefined && counterReuse !== undefined);
  assert.deepEqual([doubleSpend.seId, doubleSpend.value], [thiefId, 5_000n], 'the token spent twice, blamed');
  assert.equal(counterReuse.seId, thiefId);
  const page = await analyst.listAlerts();
  assert.deepEqual(
    page.alerts.map((alert) => alert.kind).sort(),
    ['counterReuse', 'doubleSpend'],
    'no false alert: the shops and their DCPs are blamed for nothing',
  );

  // Reading the evidence is audited before it is answered, and the chain holds.
  const evidence = await analyst.evidence(doubleSpend.id);
  assert.equal(evidence.evidence.filter((item) => item.kind === 'transfer').length, 2, 'the two spends');
  assert.ok(evidence.auditSequence >= 1);
  const verification = await (await mdsParticipant(system, 'auditor')).auditVerify();
  assert.equal(verification.firstBroken, null);
  assert.ok(verification.entries >= 1);

  // The response: the directory revoked the SE, and its signed deny list names it.
  const directory = new DirectoryClient({ baseUrl: system.directoryUrl });
  const denyList = await directory.denyList();
  assert.ok(denyList.signed.body.entries.some((entry) => toHex(entry) === thiefId));

  // An honest SE that synced refuses the revoked SE's next payment, and nothing moves.
  await shopA.app.renew(shopA.device.client(), key());
  const before = shopA.device.client().getData().balance;
  const refusal = (() => {
    try {
      new OfflinePayment(thief.device, shopA.device, 500n).tap();
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  assert.ok(refusal instanceof SecureElementRefused, `refused, not ${String(refusal)}`);
  assert.equal(refusal.code, 'deniedSecureElement');
  assert.equal(shopA.device.client().getData().balance, before);
});
