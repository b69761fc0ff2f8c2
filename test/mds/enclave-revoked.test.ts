// The revokedSigner detector (src/mds/enclave/denials.ts, docs/mds.md "Detectors") on both engines:
// the enclave records the directory's signed deny lists, remembers the first list naming each SE,
// and blames the SE for the transfers it dated at or after that list, whichever of lists and uploads
// arrived first; a list not signed by the directory of trust.json is refused and records nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { purposes } from '../../src/core/crypto.ts';
import { denyListToCbor } from '../../src/core/deny-list.ts';
import type { PrincipalId } from '../../src/core/ids.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import { NodeSigner } from '../../src/crypto/node-crypto.ts';
import type { Device } from '../../src/device/device.ts';
import type { EnclaveAlert } from '../../src/mds/channel/protocol.ts';
import { isCbdcError } from '../../src/core/errors.ts';
import { engines } from '../../src/testing/scratch.ts';
import type { ForgedToken, SecureElementKey } from '../../src/testing/forge.ts';
import {
  MdsUploads,
  scratchEnclave,
  type RelayedUpload,
  type ScratchEnclave,
} from '../../src/testing/mds-uploads.ts';
import type { Engine } from '../../src/storage/database.ts';

const uploads = new MdsUploads();

function denyList(
  entries: readonly PrincipalId[],
  version: number,
  time: number,
  signer = uploads.pki.directorySigner,
) {
  const body = { directoryId: uploads.pki.directory.body.subjectId, version, time, entries };
  return encodeSigned(signBody(signer, purposes.denyList, body, denyListToCbor));
}

function payForged(payee: Device, thief: SecureElementKey, token: ForgedToken, amount: bigint, time: number) {
  const request = payee.client().paymentRequest(amount);
  payee.client().receive(uploads.forge.pay(thief, [token], request, { time }));
}

/** A thief pays 300 at time 500 and 450 at time 1,500; the directory lists it at 1,000 (v3), again at 3,000 (v5). */
function scenario(): { thief: string; relayed: RelayedUpload[]; lists: Uint8Array[] } {
  const thief = uploads.forge.compromisedSecureElement('phone');
  const [first, second] = uploads.forge.issue(thief.id, [1_000n, 500n]);
  const payees = ['pat', 'quinn'].map((name) => uploads.pki.newDevice('phone', name));
  payForged(payees[0]!, thief, first!, 300n, 500);
  payForged(payees[1]!, thief, second!, 450n, 1_500);
  return {
    thief: toHex(thief.id),
    relayed: payees.map((payee) => uploads.sync(payee)),
    lists: [denyList([thief.id], 3, 1_000), denyList([thief.id], 5, 3_000)],
  };
}

const shown = (alerts: readonly EnclaveAlert[]) =>
  alerts.map((alert) => [alert.id, alert.kind, alert.seId, alert.value, alert.evidenceCount]);

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isCbdcError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

for (const engine of engines) {
  void describe(`revokedSigner (${engine})`, () => {
    const fixture = scenario();
    const steps = {
      ingest: async (enclave: ScratchEnclave) => {
        for (const upload of fixture.relayed) await enclave.service.storeUpload(uploads.request(upload));
        assert.equal(await enclave.service.ingestAll(10), fixture.relayed.length);
      },
      early: (enclave: ScratchEnclave) => enclave.service.recordDenyList(fixture.lists[0]!),
      late: (enclave: ScratchEnclave) => enclave.service.recordDenyList(fixture.lists[1]!),
    };
    const outcome = async (engineName: Engine, order: readonly (keyof typeof steps)[]) => {
      const enclave = await scratchEnclave(uploads, engineName);
      try {
        for (const step of order) await steps[step](enclave);
        const { alerts } = await enclave.service.alertsAfter(0, 256);
        const evidence = alerts.length === 1 ? await enclave.service.evidence(alerts[0]!.id) : [];
        return { alerts: shown(alerts), evidence: evidence?.map((item) => item.kind) };
      } finally {
        await enclave.close();
      }
    };

    void test('the transfers dated at or after the first list naming the SE: one alert, what they paid', async () => {
      const reference = await outcome(engine, ['ingest', 'early', 'late']);
      assert.deepEqual(
        reference.alerts.map((alert) => alert.slice(1)),
        [['revokedSigner', fixture.thief, 450n, 1]],
      );
      assert.deepEqual(reference.evidence, ['transfer']);
      for (const order of [
        ['late', 'ingest', 'early'],
        ['late', 'early', 'ingest'],
        ['early', 'ingest', 'late'],
      ] as const)
        assert.deepEqual(await outcome(engine, order), reference, order.join(' then '));
    });

    void test('only the later list: the transfer before it is not blamed, so no alert', async () => {
      assert.deepEqual(await outcome(engine, ['late', 'ingest']), { alerts: [], evidence: [] });
    });
  });

  void describe(`deny lists handed to the enclave (${engine})`, () => {
    let enclave: ScratchEnclave;
    before(async () => {
      enclave = await scratchEnclave(uploads, engine);
    });
    after(async () => {
      await enclave.close();
    });

    void test('a list not signed by the directory, or not a list, is denyListInvalid and records nothing', async () => {
      const someone = uploads.forge.compromisedSecureElement('phone').id;
      const stranger = NodeSigner.generate();
      assert.equal(
        await refusal(enclave.service.recordDenyList(denyList([someone], 2, 10, stranger))),
        'denyListInvalid',
      );
      assert.equal(
        await refusal(enclave.service.recordDenyList(Uint8Array.of(0x83, 1, 2))),
        'denyListInvalid',
      );
      assert.deepEqual(await enclave.service.recordDenyList(denyList([someone], 2, 10)), {
        version: 2,
        denied: 1,
      });
      assert.deepEqual(await enclave.service.recordDenyList(denyList([someone], 2, 10)), {
        version: 2,
        denied: 0,
      });
      assert.deepEqual((await enclave.service.alertsAfter(0, 256)).alerts, [], 'an SE that paid nobody');
    });
  });
}
