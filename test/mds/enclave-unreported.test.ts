// An issuance signed by a real DCP key that the DCP never reported (src/mds/enclave/unreported.ts),
// on both engines, with the enclave's manual clock: nothing is decided before the report window
// ends; at its end the unreported issuance raises exactly one fakeFunding alert blaming the SE that
// spent it, valued at the issuance, and the issuances reported before the end (before or after their
// upload) raise nothing; the alert is raised once, and a late report does not withdraw it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import type { Issuance } from '../../src/core/issuance.ts';
import type { Device } from '../../src/device/device.ts';
import { engines } from '../../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type ScratchEnclave } from '../../src/testing/mds-uploads.ts';
import { issuanceReportWindowMsDefault } from '../../src/mds/enclave/unreported.ts';

function loadWith(uploads: MdsUploads, name: string, value: bigint): { device: Device; issuance: Issuance } {
  const device = uploads.pki.newDevice('phone', name);
  const issuance = uploads.pki.dcp.issue('load', [{ value, owner: device.client().getData().seId }]);
  device.client().load(issuance);
  return { device, issuance };
}

for (const engine of engines) {
  void describe(`issuances a DCP never reported (${engine})`, () => {
    let uploads: MdsUploads;
    let enclave: ScratchEnclave;
    before(async () => {
      uploads = new MdsUploads();
      enclave = await scratchEnclave(uploads, engine);
    });
    after(async () => {
      await enclave.close();
    });

    const report = (issuance: Issuance) =>
      enclave.service.recordReports({
        dcpId: uploads.dcpId,
        issuances: [encodeSigned(issuance)],
        retirements: [],
      });

    void test('the window decides: one fakeFunding alert on the spender of the unreported issuance', async () => {
      const kim = loadWith(uploads, 'kim', 700n);
      const lee = loadWith(uploads, 'lee', 500n);
      const mo = loadWith(uploads, 'mo', 400n);
      assert.deepEqual(new OfflinePayment(kim.device, lee.device, 300n).tap(), { outcome: 'completed' });
      assert.deepEqual(await report(lee.issuance), { issuances: 1, retirements: 0 });
      for (const device of [kim.device, lee.device, mo.device])
        await enclave.service.storeUpload(uploads.request(uploads.sync(device)));
      assert.equal(await enclave.service.ingestAll(10), 3);
      assert.deepEqual(await report(mo.issuance), { issuances: 1, retirements: 0 });

      enclave.clock.ms += issuanceReportWindowMsDefault - 1;
      assert.equal(await enclave.service.settleIssuances(), 0, 'the window is still open');
      assert.deepEqual((await enclave.service.alertsAfter(0, 256)).alerts, []);

      enclave.clock.ms += 1;
      assert.equal(await enclave.service.settleIssuances(), 3, 'all three windows end together');
      const { alerts } = await enclave.service.alertsAfter(0, 256);
      assert.deepEqual(
        alerts.map((alert) => [alert.kind, alert.seId, alert.value, alert.evidenceCount]),
        [['fakeFunding', uploads.seIdOf(kim.device), 700n, 1]],
      );
      const evidence = await enclave.service.evidence(alerts[0]!.id);
      assert.deepEqual(evidence, [
        {
          entryId: toHex(uploads.pki.verifier.sha256(kim.issuance.bodyBytes)),
          kind: 'issuance',
          entry: encodeSigned(kim.issuance),
        },
      ]);
    });

    void test('raised once: settling again, or a report after the window, changes no alert', async () => {
      const before = await enclave.service.alertsAfter(0, 256);
      enclave.clock.ms += issuanceReportWindowMsDefault;
      assert.equal(await enclave.service.settleIssuances(), 0);
      const kimIssuance = (await enclave.service.evidence(before.alerts[0]!.id))![0]!.entry;
      assert.deepEqual(
        await enclave.service.recordReports({
          dcpId: uploads.dcpId,
          issuances: [kimIssuance],
          retirements: [],
        }),
        { issuances: 1, retirements: 0 },
      );
      assert.equal(await enclave.service.settleIssuances(), 0);
      assert.deepEqual(await enclave.service.alertsAfter(0, 256), before);
    });

    void test('the window runs from the first merge: the same issuance in a later upload does not restart it', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const nia = loadWith(uploads, 'nia', 900n);
      const oz = loadWith(uploads, 'oz', 100n);
      await report(oz.issuance);
      // nia pays oz: oz's upload, merged half a window after nia's, carries nia's issuance again.
      assert.deepEqual(new OfflinePayment(nia.device, oz.device, 50n).tap(), { outcome: 'completed' });
      const [first, second] = [uploads.sync(nia.device), uploads.sync(oz.device)];
      await enclave.service.storeUpload(uploads.request(first));
      assert.equal(await enclave.service.ingestAll(10), 1);
      enclave.clock.ms += issuanceReportWindowMsDefault / 2;
      await enclave.service.storeUpload(uploads.request(second));
      assert.equal(await enclave.service.ingestAll(10), 1);
      enclave.clock.ms += issuanceReportWindowMsDefault / 2;
      assert.equal(
        await enclave.service.settleIssuances(),
        1,
        "nia's window ends, oz's is reported but open",
      );
      const { alerts } = await enclave.service.alertsAfter(start, 256);
      assert.deepEqual(
        alerts.map((alert) => [alert.kind, alert.seId, alert.value]),
        [['fakeFunding', uploads.seIdOf(nia.device), 900n]],
      );
    });
  });
}
