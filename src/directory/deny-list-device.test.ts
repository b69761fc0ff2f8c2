// End to end from the directory to the chip: SEs personalised with certificates from a deployment
// PKI's DCP key are registered through `DirectoryClient`; the MDS revokes one; the next deny list
// version verifies with the directory key, an honest SE installs it with UPDATE DENY LIST, and then
// refuses a payment from the revoked SE (deniedSecureElement) while it still accepts others.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { concatBytes, toHex, u32be } from '../core/bytes.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import { purposes } from '../core/crypto.ts';
import { issuanceBodyToCbor } from '../core/issuance.ts';
import { defaultLimits, limitsToCbor } from '../core/limits.ts';
import { signBody } from '../core/signed.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { Device } from '../device/device.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { SecureElementRefused } from '../device/se-client.ts';
import { principalSigner, type Principal } from '../pki/deployment-pki.ts';
import { nodePlatform } from '../secure-element/node-platform.ts';
import { MemoryMedium } from '../secure-element/store/medium.ts';
import { DirectoryClient } from './api/client.ts';
import {
  call,
  directoryFixture,
  freshKey,
  issueSecureElement,
  type DirectoryFixture,
} from '../testing/directory.ts';

let fixture: DirectoryFixture;
let baseUrl: string;
const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);
let references = 0;

before(async () => {
  fixture = await directoryFixture('sqlite');
  baseUrl = await fixture.app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => fixture.close());

const client = (apiKey?: string) =>
  new DirectoryClient({ baseUrl, ...(apiKey === undefined ? {} : { apiKey }), timeoutMs: 2_000 });

/** A device personalised by DCP `bank-a` of the deployment PKI, with the directory's current list, registered. */
async function personalisedDevice(kind: SecureElementKind, name: string): Promise<Device> {
  const dcp: Principal = fixture.pki.dcps.get('bank-a')!;
  const signer = principalSigner(dcp);
  const device = new Device(kind, name, new MemoryMedium(), platform);
  const { publicKey } = device.client().initialise();
  const trust = await client().trustAnchors();
  const denyList = await client().denyList();
  const now = fixture.clock.seconds;
  const se = issueSecureElement(fixture.pki, 'bank-a', kind, {
    publicKey,
    nowSeconds: now,
  });
  device.client().personalise({
    certificate: se.certificate,
    rootPublicKey: trust.rootPublicKey,
    dcpIssuers: trust.dcpIssuers,
    directory: trust.directory,
    mds: trust.mds,
    limits: signBody(
      signer,
      purposes.limits,
      defaultLimits(dcp.certificate.body.subjectId, kind, 1, now),
      limitsToCbor,
    ),
    denyList: denyList.signed,
  });
  const registered = await client(fixture.dcpAKey).registerSecureElement(freshKey(), {
    certificate: se.certificate,
    walletId: `wallet-${name}`,
  });
  assert.equal(registered.value.seId, toHex(device.client().getData().seId));
  return device;
}

function load(device: Device, value: bigint): void {
  const dcp = fixture.pki.dcps.get('bank-a')!;
  const dcpId = dcp.certificate.body.subjectId;
  const issuance = signBody(
    principalSigner(dcp),
    purposes.issuance,
    {
      dcpId,
      kind: 'load' as const,
      requestReference: concatBytes(dcpId.subarray(0, 12), u32be(++references)),
      outputs: [{ value, owner: device.client().getData().seId }],
      retiredTokenIds: [],
      time: fixture.clock.seconds,
    },
    issuanceBodyToCbor,
  );
  device.client().load(issuance);
}

test('an SE that installed the next deny list refuses payments from the revoked SE, and only from it', async () => {
  const thief = await personalisedDevice('phone', 'thief');
  const honest = await personalisedDevice('phone', 'honest');
  const shop = await personalisedDevice('phone', 'shop');
  load(thief, 1_000n);
  load(honest, 1_000n);
  assert.deepEqual(new OfflinePayment(thief, shop, 100n).tap(), { outcome: 'completed' });

  const thiefId = toHex(thief.client().getData().seId);
  const revoked = await client(fixture.mdsKey).changeStatus(freshKey(), thiefId, {
    status: 'revoked',
    reason: 'double spend, alert 1',
  });
  assert.equal(revoked.value.secureElement.status, 'revoked');
  assert.equal(revoked.value.secureElement.walletId, null);

  const list = await client().denyList(0);
  assert.equal(list.version, revoked.value.denyListVersion);
  assert.deepEqual(list.delta?.added, [thiefId]);
  const directoryKey = fixture.pki.directory.certificate.body.publicKey;
  assert.ok(verifier.verify(directoryKey, purposes.denyList, list.signed.bodyBytes, list.signed.signature));
  assert.deepEqual(list.signed.body.entries.map(toHex), [thiefId]);

  shop.client().updateDenyList(list.signed);
  assert.equal(shop.client().getData().denyListVersion, list.version);
  assert.throws(
    () => {
      shop.client().updateDenyList(list.signed);
    },
    (error) => error instanceof SecureElementRefused && error.code === 'denyListVersionStale',
  );
  assert.throws(
    () => new OfflinePayment(thief, shop, 100n).tap(),
    (error) => error instanceof SecureElementRefused && error.code === 'deniedSecureElement',
  );
  assert.equal(shop.client().getData().balance, 100n);
  assert.deepEqual(new OfflinePayment(honest, shop, 250n).tap(), { outcome: 'completed' });
  assert.equal(shop.client().getData().balance, 350n);

  // The directory's answer over HTTP is the same list (the client decoded exactly what was signed).
  const raw = await call(fixture.app, null, 'GET', '/v1/deny-list');
  assert.equal(raw.body['version'], list.version);
});
