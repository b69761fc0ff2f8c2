// Supply and attribution as a property (docs/mds.md, "Supply and settlement"), on both engines: random
// honest economies across three DCPs — phones of each DCP loaded by it, paying each other across
// DCPs offline, renewing at their own DCP (which retires the claimed tokens and mints the renewal) —
// whose uploads reach the enclave in random order, some twice, and whose DCPs report before or after.
// After a last sync of every phone, each holds only its own DCP's renewal, so the value attributed
// to each DCP is known without the rule: the balances of its phones. Then, per DCP, the pool after
// settlement (issued − retired + settled, settled = retired − retiredBacked) equals that value, the
// settlements sum to zero, and no alert is raised. The economy must move value across DCPs, so the
// property cannot pass vacuously.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { toHex, type Bytes } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { decodeCbor } from '../../src/core/cbor.ts';
import { claimFromCbor } from '../../src/core/claim.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import type { RecordReportsRequest, ReportedRetirement } from '../../src/mds/channel/protocol.ts';
import { engines } from '../../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type RelayedUpload } from '../../src/testing/mds-uploads.ts';
import type { TestDcp } from '../../src/testing/test-pki.ts';
import { TestPki } from '../../src/testing/test-pki.ts';

const phonesCount = 6;
const dcpsCount = 3;

type Step =
  | { readonly op: 'pay'; readonly payer: number; readonly payee: number; readonly share: number }
  | { readonly op: 'sync'; readonly phone: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      payer: fc.nat(),
      payee: fc.nat(),
      share: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sync' as const), phone: fc.nat() }) },
);

interface Economy {
  readonly uploads: MdsUploads;
  /** Each upload with the DCP that relayed it. */
  readonly relayed: { readonly upload: RelayedUpload; readonly dcpId: string }[];
  readonly reports: RecordReportsRequest[];
  /** Per DCP id: what its phones hold at the end. */
  readonly held: Map<string, bigint>;
  /** Value that some DCP renewed from tokens another DCP backs (at least partly). */
  crossed: boolean;
}

/** Plays `steps` on real SEs; every phone syncs at the end. */
function play(steps: readonly Step[]): Economy {
  const pki = new TestPki(dcpsCount);
  const uploads = new MdsUploads(pki);
  const economy: Economy = { uploads, relayed: [], reports: [], held: new Map(), crossed: false };
  const home = (index: number): TestDcp => pki.dcps[index % dcpsCount]!;
  const phones = Array.from({ length: phonesCount }, (_, index) =>
    pki.newDevice('phone', `phone-${index}`, { dcp: home(index) }),
  );
  phones.forEach((phone, index) => {
    const dcp = home(index);
    const seId = phone.client().getData().seId;
    const issuance = dcp.issue('load', [{ value: 10_000n, owner: seId }]);
    phone.client().load(issuance);
    economy.reports.push({ dcpId: toHex(dcp.id), issuances: [encodeSigned(issuance)], retirements: [] });
  });
  const sync = (index: number) => {
    const phone = phones[index]!;
    const dcp = home(index);
    if (phone.client().getData().balance === 0n) return;
    pki.time += 1;
    const relayed = uploads.sync(phone);
    economy.relayed.push({ upload: relayed, dcpId: toHex(dcp.id) });
    renew(economy, phone, dcp, relayed);
  };
  for (const item of steps) {
    if (item.op === 'sync') {
      sync(item.phone % phonesCount);
      continue;
    }
    const payer = phones[item.payer % phonesCount]!;
    const payee = phones[item.payee % phonesCount]!;
    const balance = payer.client().getData().balance;
    const amount = (balance * BigInt(item.share)) / 100n;
    if (payer === payee || amount === 0n) continue;
    pki.time += 1;
    assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
    if (((item.payer % phonesCount) - (item.payee % phonesCount)) % dcpsCount !== 0) economy.crossed = true;
  }
  for (let index = 0; index < phonesCount; index++) sync(index);
  phones.forEach((phone, index) => {
    const dcpId = toHex(home(index).id);
    economy.held.set(dcpId, (economy.held.get(dcpId) ?? 0n) + phone.client().getData().balance);
  });
  return economy;
}

/** What the DCP does on a renewal: retire the claimed tokens, mint their value back, report both. */
function renew(economy: Economy, phone: Device, dcp: TestDcp, relayed: RelayedUpload): void {
  const claim = decodeClaimTokens(economy.uploads, relayed.claim);
  const total = claim.tokens.reduce((sum, token) => sum + token.value, 0n);
  const renewal = dcp.issue(
    'renewal',
    [{ value: total, owner: claim.seId }],
    claim.tokens.map((token) => token.tokenId),
  );
  phone.client().completeSync(renewal, []);
  const digest = toHex(economy.uploads.pki.verifier.sha256(relayed.sealed));
  const retirements: ReportedRetirement[] = claim.tokens.map((token) => ({
    tokenId: toHex(token.tokenId),
    value: token.value,
    seId: toHex(claim.seId),
    uploadDigest: digest,
    retiredAtMs: 1_000,
  }));
  economy.reports.push({ dcpId: toHex(dcp.id), issuances: [encodeSigned(renewal)], retirements });
}

function decodeClaimTokens(_uploads: MdsUploads, claim: Bytes) {
  return claimFromCbor(decodeCbor(claim)).body;
}

for (const engine of engines) {
  void describe(`supply and attribution over random honest economies (${engine})`, () => {
    test('after settlement every DCP pool equals the value attributed to it; no alert', async () => {
      let crossings = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 4, maxLength: 14 }),
          fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
          async (steps, shuffle) => {
            const economy = play(steps);
            if (economy.crossed) crossings++;
            const enclave = await scratchEnclave(economy.uploads, engine);
            try {
              const deliveries = [
                ...economy.relayed,
                ...economy.relayed.filter((_, i) => (shuffle[i % 8] ?? 0) % 3 === 0),
              ];
              const reports = [...economy.reports];
              const items = [...deliveries.map((d) => ({ d })), ...reports.map((r) => ({ r }))];
              const order = items
                .map((item, index) => ({ item, rank: rank(index, shuffle) }))
                .sort((x, y) => x.rank - y.rank)
                .map(({ item }) => item);
              for (const [position, item] of order.entries()) {
                if ('d' in item)
                  await enclave.service.storeUpload(
                    economy.uploads.request(item.d.upload, position, item.d.dcpId),
                  );
                else await enclave.service.recordReports(item.r);
                if (position % 3 === 0) await enclave.service.ingestAll(deliveries.length);
              }
              await enclave.service.ingestAll(deliveries.length);
              assert.equal(
                (await enclave.service.alertsAfter(0, 256)).alerts.length,
                0,
                'an honest economy raises no alert',
              );
              const supply = await enclave.service.supply();
              let settledTotal = 0n;
              for (const dcp of supply.dcps) {
                const settled = dcp.retired - dcp.retiredBacked;
                settledTotal += settled;
                assert.equal(
                  dcp.issued - dcp.retired + settled,
                  economy.held.get(dcp.dcpId) ?? 0n,
                  dcp.dcpId,
                );
                assert.equal(dcp.issued - dcp.retiredBacked, economy.held.get(dcp.dcpId) ?? 0n);
                assert.equal(dcp.inFlight, 0n);
              }
              assert.equal(settledTotal, 0n);
              assert.equal(supply.dcps.length, dcpsCount);
              assert.equal(supply.createdByFraud, 0n);
            } finally {
              await enclave.close();
            }
          },
        ),
        { numRuns: engine === 'sqlite' ? 12 : 4 },
      );
      assert.ok(crossings > 0, 'some economy moved value across DCPs');
    });
  });
}

/** A pseudo-random rank of position `index`, from the drawn `shuffle`. */
function rank(index: number, shuffle: readonly number[]): number {
  let hash = (shuffle[index % shuffle.length] ?? 0) ^ Math.imul(index + 1, 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 15), 0x85ebca6b);
  return (hash ^ (hash >>> 13)) | 0;
}

for (const engine of engines) {
  test(`value no DCP backs, retired at a DCP, stays that DCP's loss (${engine})`, async () => {
    const uploads = new MdsUploads();
    const { upload } = uploads.fakeFunding(5_000n);
    const enclave = await scratchEnclave(uploads, engine);
    try {
      await enclave.service.storeUpload(uploads.request(upload));
      await enclave.service.ingestAll(1);
      const claim = claimFromCbor(decodeCbor(upload.claim)).body;
      const token = claim.tokens[0]!;
      await enclave.service.recordReports({
        dcpId: uploads.dcpId,
        issuances: [],
        retirements: [
          {
            tokenId: toHex(token.tokenId),
            value: token.value,
            seId: toHex(claim.seId),
            uploadDigest: toHex(uploads.pki.verifier.sha256(upload.sealed)),
            retiredAtMs: 1_000,
          },
        ],
      });
      const supply = await enclave.service.supply();
      assert.deepEqual(
        supply.dcps.map((dcp) => [dcp.dcpId, dcp.retired, dcp.retiredBacked]),
        [[uploads.dcpId, 5_000n, 5_000n]],
      );
      assert.equal(supply.unbackedRetired, 5_000n);
      assert.equal(supply.createdByFraud, 5_000n);
    } finally {
      await enclave.close();
    }
  });
}
