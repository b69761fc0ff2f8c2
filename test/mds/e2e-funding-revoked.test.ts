// Two MDS detectors end to end, through the whole system as real processes (ledger, directory, MDS
// API and enclave, two DCPs forwarding to it), the SEs driven through their APDUs:
//   - fake funding with a stolen DCP key: test support code reads bank-a's issuer key from the
//     deployment's PKI folder (what a thief who stole it holds), mints an issuance to a chip that
//     bank-a never made or reported; the chip loads it (it verifies under a real DCP key) and pays an
//     honest shop, which renews. At the end of the report window the MDS raises one fakeFunding alert
//     blaming that chip for the issuance's value;
//   - a revoked SE keeps paying: the directory revokes a chip; a shop that synced since refuses its
//     payment, a shop that had not accepts it, renews, and the MDS, which read the directory's deny
//     list, raises one revokedSigner alert for what it signed after the revocation (the refused
//     payment included: its transfer is in the history of the accepted one).
// Honest loads and renewals around them, reported by their DCPs, raise nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { toHex } from '../../src/core/bytes.ts';
import { purposes } from '../../src/core/crypto.ts';
import { requestReferenceBytes } from '../../src/core/ids.ts';
import { issuanceBodyToCbor } from '../../src/core/issuance.ts';
import { signBody } from '../../src/core/signed.ts';
import { createBank, key, onboard, type Holder } from '../../src/demo/economy.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import { reportWindowVariable } from '../../src/mds/enclave/unreported.ts';
import { loadPrincipal, principalSigner } from '../../src/pki/deployment-pki.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import type { RunningSystem } from '../../src/system/launcher.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { mdsParticipant, startScratchSystem, type ScratchSystem } from '../../src/testing/system-e2e.ts';

/** Long enough for a DCP to report what it minted (its outbox runs every second), short for a test. */
const reportWindowMs = 10_000;
/** How long forwarding, ingest, report windows and the response may take together. */
const convergeMsMax = 90_000;
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
  eventually(what, probe, convergeMsMax);

let scratch: ScratchSystem;
let system: RunningSystem;

before(async () => {
  process.env[reportWindowVariable] = String(reportWindowMs);
  scratch = await startScratchSystem('mds-e2e-frauds');
  system = scratch.system;
});

after(() => scratch.stop());

const seIdOf = (holder: Holder) => toHex(holder.device.client().getData().seId);
const nowSeconds = () => Math.floor(Date.now() / 1000);

function refusalOf(payment: () => unknown): unknown {
  try {
    payment();
    return undefined;
  } catch (error) {
    return error;
  }
}

test('a stolen DCP key funds a chip, a revoked chip keeps paying: one fakeFunding, one revokedSigner, nothing else', async () => {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  const media = () => new MemoryMedium();
  const forger = await onboard(system, bank, media, 'Forger', 'phone', 'bank-a', 0n);
  const payer = await onboard(system, bank, media, 'Payer', 'phone', 'bank-a', 10_000n);
  const shopA = await onboard(system, bank, media, 'ShopA', 'phone', 'bank-a', 0n);
  const shopB = await onboard(system, bank, media, 'ShopB', 'phone', 'bank-b', 0n);
  const shopC = await onboard(system, bank, media, 'ShopC', 'phone', 'bank-b', 0n);
  await payer.app.load(payer.device.client(), 4_000n, key());

  // The stolen key: bank-a's issuer, as its key file holds it. The issuance is genuine in every
  // byte a chip can check, and bank-a has no record of it.
  const stolen = loadPrincipal(system.pkiDirectory, 'dcp-bank-a.json');
  const minted = signBody(
    principalSigner(stolen),
    purposes.issuance,
    {
      dcpId: stolen.certificate.body.subjectId,
      kind: 'load',
      requestReference: randomBytes(requestReferenceBytes),
      outputs: [{ value: 2_500n, owner: forger.device.client().getData().seId }],
      retiredTokenIds: [],
      time: nowSeconds(),
    },
    issuanceBodyToCbor,
  );
  forger.device.client().load(minted);
  assert.deepEqual(new OfflinePayment(forger.device, shopA.device, 2_000n).tap(), { outcome: 'completed' });
  await shopA.app.renew(shopA.device.client(), key());

  // The directory revokes the payer; shop B syncs after that and has the deny list, shop C has not.
  const directory = new DirectoryClient({
    baseUrl: system.directoryUrl,
    apiKey: system.directoryOperatorKey,
  });
  await directory.changeStatus(key(), seIdOf(payer), { status: 'revoked', reason: 'lost, reported stolen' });
  // The DCP refreshes its copy of the deny list on a timer: shop B syncs until it has the new one.
  const listed = (await directory.denyList()).version;
  await waitFor('shop B holding the deny list', async () => {
    await shopB.app.renew(shopB.device.client(), key());
    return shopB.device.client().getData().denyListVersion >= listed ? true : undefined;
  });
  const refusal = refusalOf(() => new OfflinePayment(payer.device, shopB.device, 500n, nowSeconds()).tap());
  assert.ok(refusal instanceof SecureElementRefused, `refused, not ${String(refusal)}`);
  assert.equal(refusal.code, 'deniedSecureElement');
  assert.equal(shopB.device.client().getData().balance, 0n, 'nothing moved');
  assert.deepEqual(new OfflinePayment(payer.device, shopC.device, 700n, nowSeconds()).tap(), {
    outcome: 'completed',
  });
  await shopC.app.renew(shopC.device.client(), key());

  // The chip signed the refused payment too (shop B refused it on RECEIVE): its change funds the
  // payment to shop C, so shop C's upload carries both transfers, and both are dated after the list.

  const analyst = await mdsParticipant(system, 'analyst');
  const [fakeFunding, revokedSigner] = await waitFor('both alerts', async () => {
    const byKind = new Map((await analyst.listAlerts()).alerts.map((alert) => [alert.kind, alert]));
    const [fake, revoked] = [byKind.get('fakeFunding'), byKind.get('revokedSigner')];
    return fake !== undefined && revoked !== undefined ? ([fake, revoked] as const) : undefined;
  });
  assert.deepEqual(
    [fakeFunding.seId, fakeFunding.value, fakeFunding.evidenceCount],
    [seIdOf(forger), 2_500n, 1],
    'the chip the stolen key funded, for the whole issuance',
  );
  const evidence = await analyst.evidence(fakeFunding.id);
  assert.deepEqual(
    evidence.evidence.map((item) => item.kind),
    ['issuance'],
  );
  assert.deepEqual(
    [revokedSigner.seId, revokedSigner.value, revokedSigner.evidenceCount, revokedSigner.status],
    [seIdOf(payer), 500n + 700n, 2, 'open'],
    'what the revoked chip signed after its revocation; its policy waits for an analyst',
  );

  // Every honest issuance's window ends too (the last were minted at shop C's renewal): still only
  // these two alerts, and the forger is revoked by the automatic policy.
  await sleep(reportWindowMs + 3_000);
  await waitFor('the forger revoked', async () => {
    const alerts = (await analyst.listAlerts()).alerts;
    assert.deepEqual(
      alerts.map((alert) => alert.kind).sort(),
      ['fakeFunding', 'revokedSigner'],
      'no false alert: the shops, the honest loads and renewals are blamed for nothing',
    );
    return alerts.find((alert) => alert.kind === 'fakeFunding')?.status === 'revoked' ? true : undefined;
  });
});
