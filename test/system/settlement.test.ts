// Settlement between DCP pools end to end, as real processes on SQLite (`cbdc start`'s launcher:
// ledger, directory, MDS with its enclave, two DCPs): a phone of bank-a pays a phone of bank-b offline,
// the payee renews at bank-b, the DCPs forward to the MDS, and a settlement run moves the value from
// bank-a's pool to bank-b's; then bank-b pays the unload of it from its own pool, every pool equals
// the value the MDS attributes to its DCP, and each DCP's invariant (with settled) holds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { admin, createBank, key, onboard, payOffline } from '../../src/demo/economy.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import { startSystem } from '../../src/system/launcher.ts';

test('value paid across DCPs offline is settled pool to pool and unloaded at the payee DCP', async () => {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'cbdc-settlement-'));
  const system = await startSystem({ dataDirectory, dcpNames: ['bank-a', 'bank-b'] });
  try {
    const ledger = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
    const bank = await createBank(system, ledger);
    const media = () => new MemoryMedium();
    const alice = await onboard(system, bank, media, 'alice', 'phone', 'bank-a', 10_000n);
    const dave = await onboard(system, bank, media, 'dave', 'phone', 'bank-b', 0n);
    assert.equal(await alice.app.load(alice.device.client(), 8_000n, key()), 8_000n);
    payOffline(alice, dave, 5_000n);
    assert.equal(await dave.app.renew(dave.device.client(), key()), 5_000n);

    const mds = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
    const [dcpA, dcpB] = ['bank-a', 'bank-b'].map((name) => system.dcps.get(name)!);
    assert.ok(dcpA !== undefined && dcpB !== undefined);
    // The DCPs forward every second and the enclave ingests as it goes: settle once it has seen it all
    // (up to a minute: a loaded CI machine forwards and ingests late, never wrongly).
    let run = await mds.settle('e2e-0');
    for (let attempt = 1; run.transfers.length === 0 && attempt <= 240; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      run = await mds.settle(`e2e-${attempt}`);
    }
    assert.deepEqual(
      run.transfers.map((transfer) => [transfer.payerDcpId, transfer.payeeDcpId, transfer.amount]),
      [[dcpA.dcpId, dcpB.dcpId, 5_000n]],
    );
    const supply = await mds.supply();
    assert.deepEqual(
      supply.dcps.map((dcp) => [dcp.dcpId, dcp.poolBalance, dcp.attributedOutstanding]),
      [
        [dcpA.dcpId, 3_000n, 3_000n],
        [dcpB.dcpId, 5_000n, 5_000n],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    assert.equal(await dave.app.unload(dave.device.client(), 5_000n, key()), 0n);
    assert.equal((await ledger.account(dave.walletAccountId)).balance, 5_000n);
    for (const dcp of [dcpA, dcpB]) {
      const figures = await admin(dcp).supply();
      assert.equal(poolDifference(figures), 0n, `${dcp.name}: pool = issued − retired + settled`);
    }
    assert.equal((await admin(dcpB).supply()).poolBalance, 0n);
  } finally {
    await system.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
});
