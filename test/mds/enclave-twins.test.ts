// History entries already in the graph are not verified twice, and a twin cannot slip in
// (docs/mds.md, "Storing and ingesting", rule 5; src/mds/enclave/store.ts `mergeFacts`), on both
// engines. An entry id is the digest of its body, so the same body may come under another signature:
// a forged one, or a DCP key signing the same body again. The row kept is the same in any order: a
// verified envelope is never replaced by a forged one and replaces one that came first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { purposes, type Purpose } from '../../src/core/crypto.ts';
import { issuanceBodyToCbor } from '../../src/core/issuance.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import type { IdentifiedEntry } from '../../src/core/validate-bundle.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import type { EnclaveCrypto } from '../../src/mds/enclave/open-upload.ts';
import { EnclaveTables } from '../../src/mds/enclave/store.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  MdsUploads,
  scratchEnclave,
  type RelayedUpload,
  type ScratchEnclave,
} from '../../src/testing/mds-uploads.ts';
import type { Engine } from '../../src/storage/database.ts';

const uploads = new MdsUploads();

/** The fixture's crypto, counting signature verifications by purpose. */
function countingCrypto(): { crypto: EnclaveCrypto; counts: Map<Purpose, number> } {
  const { crypto, counts } = uploads.countingCrypto();
  return { crypto, counts: counts.byPurpose };
}

/** A compromised SE's genuine DCP-minted token, and two more uploads of it: a valid and a forged twin. */
function twins(): {
  thief: string;
  tokenId: string;
  entryId: string;
  relayed: RelayedUpload[];
  valid: string[];
} {
  const { thief, token } = uploads.fundedThief(600n);
  const genuine = token.history[0]!;
  assert(genuine.kind === 'issuance', 'a minted token comes from an issuance');
  const again = signBody(uploads.pki.dcp.signer, purposes.issuance, genuine.signed.body, issuanceBodyToCbor);
  const signature = Uint8Array.from(genuine.signed.signature);
  signature[63] = signature[63]! ^ 0x01;
  const withSigned = (signed: IdentifiedEntry['signed']) => ({ ...genuine, signed }) as IdentifiedEntry;
  const forgedEntry = withSigned({ ...genuine.signed, signature });
  const relayed = [
    uploads.forgedUpload(thief, [token], [genuine], [], { counter: 1 }),
    uploads.forgedUpload(thief, [token], [withSigned(again)], [], { counter: 2 }),
    uploads.forgedUpload(thief, [token], [forgedEntry], [], { counter: 3 }),
  ];
  return {
    thief: toHex(thief.id),
    tokenId: toHex(token.id),
    entryId: toHex(genuine.id),
    relayed,
    valid: [toHex(encodeSigned(genuine.signed)), toHex(encodeSigned(again))],
  };
}

async function ingestInOrder(enclave: ScratchEnclave, relayed: readonly RelayedUpload[]) {
  for (const upload of relayed) await enclave.service.storeUpload(uploads.request(upload));
  assert.equal(await enclave.service.ingestAll(10), relayed.length);
}

async function entryRow(enclave: ScratchEnclave, engine: Engine, entryId: string) {
  const rows = await enclave.database.all(
    `SELECT envelope, backed FROM ${new EnclaveTables(engine).entries} WHERE entry_id = ?`,
    [entryId],
  );
  assert.equal(rows.length, 1);
  return { envelope: String(rows[0]!['envelope']), backed: Number(rows[0]!['backed']) };
}

for (const engine of engines) {
  void describe(`entries already in the graph (${engine})`, () => {
    let enclave: ScratchEnclave;
    let counts: Map<Purpose, number>;
    before(async () => {
      const counting = countingCrypto();
      counts = counting.counts;
      enclave = await scratchEnclave(uploads, engine, { crypto: counting.crypto });
    });
    after(async () => {
      await enclave.close();
    });

    void test("an entry merged with the same bytes is not verified again: the payee's upload costs no transfer check", async () => {
      const alice = uploads.pki.newDevice('phone', 'alice');
      const bob = uploads.pki.newDevice('phone', 'bob');
      uploads.pki.load(alice, 1_000n);
      assert.deepEqual(new OfflinePayment(alice, bob, 400n).tap(), { outcome: 'completed' });
      const [first, second] = [uploads.sync(alice), uploads.sync(bob)];
      await ingestInOrder(enclave, [first]);
      const afterFirst = new Map(counts);
      assert.deepEqual(
        [afterFirst.get(purposes.transfer), afterFirst.get(purposes.issuance)],
        [1, 1],
        "alice's transfer and her load, once each",
      );
      await ingestInOrder(enclave, [second]);
      // Bob's upload carries alice's load and transfer again, byte for byte: only his claim is checked.
      assert.deepEqual(
        [counts.get(purposes.transfer), counts.get(purposes.issuance), counts.get(purposes.claim)],
        [1, 1, (afterFirst.get(purposes.claim) ?? 0) + 1],
      );
    });
  });

  void describe(`twins of a known entry (${engine})`, () => {
    const fixture = twins();
    const outcome = async (order: readonly number[]) => {
      const enclave = await scratchEnclave(uploads, engine);
      try {
        await ingestInOrder(
          enclave,
          order.map((index) => fixture.relayed[index]!),
        );
        const { alerts } = await enclave.service.alertsAfter(0, 256);
        return {
          row: await entryRow(enclave, engine, fixture.entryId),
          alerts: alerts.map((alert) => [alert.id, alert.kind, alert.seId, alert.value]),
        };
      } finally {
        await enclave.close();
      }
    };

    void test('the row kept is a verified envelope, the same in every order; the forged twin is not merged', async () => {
      const reference = await outcome([0, 1, 2]);
      assert.deepEqual(reference.row, { envelope: [...fixture.valid].sort()[0], backed: 1 });
      // The forged twin's own upload claims a token from an issuance whose signature fails: its
      // claimer vouched for value no DCP signed (fakeFunding on the claimed token), whatever the graph holds.
      assert.deepEqual(
        reference.alerts.map((alert) => alert.slice(1)),
        [['fakeFunding', fixture.thief, 600n]],
      );
      for (const order of [
        [2, 0, 1],
        [2, 1, 0],
        [1, 2, 0],
      ])
        assert.deepEqual(await outcome(order), reference, `order ${order.join(',')}`);
    });
  });
}
