// The limits file (docs/dcp.md, "The limits file"): a DCP started with the limits a file sets signs
// and pushes them, so its phones' SEs refuse past them with the exact code; a malformed file is
// refused naming its bad field, and `cbdc serve dcp` / `cbdc simulate` exit 2 on it with one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { LimitsFileInvalid, limitsFileBytesMax, parseLimitsFile } from '../../src/dcp/api/limits-file.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { withVerification } from '../../src/cli/options.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';
import { freshKey, newDevice, startWorld, verifier, type World } from './fixtures.ts';

/** Phones may hold 50.00 XTS at most; cards keep every default. */
const lowPhoneLimits = '{ "version": 3, "phone": { "balanceMax": "5000", "paymentMax": "4000" } }';

describe('a DCP started with a limits file pushes its limits to the SEs', () => {
  let world: World;
  let app: DeviceApp;

  before(async () => {
    world = await startWorld('sqlite', { dcpNames: ['bank-a'], limits: parseLimitsFile(lowPhoneLimits) });
    app = new DeviceApp({ baseUrl: world.dcp('bank-a').server.url, verifier });
  });

  after(async () => {
    await world.close();
  });

  test('a payee phone past the file’s balanceMax refuses with balanceLimitExceeded', async () => {
    const bank = world.dcp('bank-a');
    const wallet = await bank.createWallet('Alice');
    await world.fund(wallet.accountId, 100_000n);
    const payer = newDevice('phone', 'payer');
    const payee = newDevice('phone', 'payee');
    for (const phone of [payer, payee])
      await app.personalise(phone.client(), 'phone', wallet.id, bank.operatorKey, freshKey());
    assert.equal(payee.client().getData().limitsVersion, 3);
    await assert.rejects(app.load(payer.client(), 5_001n, freshKey()), (error: unknown) => {
      assert.ok(error instanceof DcpRefusal);
      assert.equal(error.code, 'loadBalanceLimitExceeded');
      return true;
    });
    assert.equal(await app.load(payer.client(), 4_000n, freshKey()), 4_000n);
    assert.equal(await app.load(payee.client(), 3_000n, freshKey()), 3_000n);
    assert.throws(
      () => new OfflinePayment(payer, payee, 2_500n).tap(),
      (error: unknown) => {
        assert.ok(error instanceof SecureElementRefused);
        assert.equal(error.code, 'balanceLimitExceeded');
        return true;
      },
    );
    assert.equal(payer.client().getData().balance, 4_000n);
    assert.equal(payee.client().getData().balance, 3_000n);
  });
});

test('a limits file decodes to the limits it sets, each kind on its own', () => {
  assert.deepEqual(parseLimitsFile(lowPhoneLimits), {
    version: 3,
    card: {},
    phone: { balanceMax: 5_000n, paymentMax: 4_000n },
  });
  const everyField =
    '{"version":1,"card":{"balanceMax":"1","paymentMax":"1","offlinePaymentsMax":1,"generationMax":1,' +
    '"historyBytesMax":1024,"inputsMax":1,"challengesMax":1,"verification":"lastHop"}}';
  assert.deepEqual(parseLimitsFile(everyField).card, {
    balanceMax: 1n,
    paymentMax: 1n,
    offlinePaymentsMax: 1,
    generationMax: 1,
    historyBytesMax: 1_024,
    inputsMax: 1,
    challengesMax: 1,
    verification: 'lastHop',
  });
});

test('--verify last-hop signs lastHop into both kinds over the file; full leaves the field absent', () => {
  const file = parseLimitsFile('{"version": 4, "card": {"balanceMax": "7000"}}');
  assert.deepEqual(withVerification(file, 'last-hop'), {
    version: 4,
    card: { balanceMax: 7_000n, verification: 'lastHop' },
    phone: { verification: 'lastHop' },
  });
  assert.deepEqual(withVerification(undefined, 'last-hop'), {
    version: 1,
    card: { verification: 'lastHop' },
    phone: { verification: 'lastHop' },
  });
  assert.deepEqual(withVerification(file, 'full'), { version: 4, card: { balanceMax: 7_000n }, phone: {} });
  assert.equal(withVerification(file, undefined), file);
});

test('a malformed limits file is refused naming its bad field', () => {
  const refusals: [string, string][] = [
    ['[]', 'the limits file must be a JSON object'],
    ['{"card":{}}', 'version must be a whole number 1..2147483647'],
    ['{"version":1.5}', 'version must be a whole number 1..2147483647'],
    ['{"version":1,"tablet":{}}', 'tablet is not a limits field'],
    ['{"version":1,"card":[]}', 'card must be a JSON object'],
    [
      '{"version":1,"card":{"balanceMax":50000}}',
      'card.balanceMax must be a decimal string of minor units, 1..1000000000000000',
    ],
    [
      '{"version":1,"phone":{"paymentMax":"0"}}',
      'phone.paymentMax must be a decimal string of minor units, 1..1000000000000000',
    ],
    [
      '{"version":1,"phone":{"paymentMax":"1000000000000001"}}',
      'phone.paymentMax must be a decimal string of minor units, 1..1000000000000000',
    ],
    ['{"version":1,"phone":{"generationMax":65}}', 'phone.generationMax must be a whole number 1..64'],
    ['{"version":1,"card":{"inputsMax":0}}', 'card.inputsMax must be a whole number 1..32'],
    ['{"version":1,"card":{"balanceMaximum":"1"}}', 'card.balanceMaximum is not a limits field'],
    ['{"version":1,"card":{"kind":"phone"}}', 'card.kind is not a limits field'],
    ['{"version":1,"phone":{"verification":"none"}}', 'phone.verification must be one of full, lastHop'],
    ['{"version":1', 'the limits file is not JSON'],
    [' '.repeat(limitsFileBytesMax + 1), `the limits file is over ${limitsFileBytesMax} bytes`],
  ];
  for (const [text, message] of refusals)
    assert.throws(
      () => parseLimitsFile(text),
      (error: unknown) => {
        assert.ok(error instanceof LimitsFileInvalid, text);
        assert.equal(error.message, message, text);
        return true;
      },
    );
});

test('cbdc serve dcp and cbdc simulate exit 2 on a bad limits file, with one line naming the field', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cbdc-limits-'));
  try {
    const file = join(folder, 'limits.json');
    writeFileSync(file, '{"version":2,"card":{"generationMax":0}}');
    const serve = ['serve', 'dcp', '--ledger', 'http://127.0.0.1:1', '--directory', 'http://127.0.0.1:1'];
    const commands = [
      [...serve, '--pki', folder, '--name', 'bank-a', '--limits', file],
      ['simulate', '--limits', file],
    ];
    for (const args of commands) {
      const run = spawnSync(process.execPath, ['bin/cbdc.mjs', ...args], {
        cwd: repositoryRoot,
        encoding: 'utf8',
      });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(
        run.stderr,
        `error: option '--limits <file>' argument '${file}' is invalid. ${file}: card.generationMax must be a whole number 1..64\n`,
      );
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('cbdc simulate --limits has every DCP push the file: each payment over paymentMax is refused', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cbdc-limits-'));
  try {
    const file = join(folder, 'limits.json');
    writeFileSync(file, '{"version":2,"card":{"paymentMax":"500"},"phone":{"paymentMax":"500"}}');
    const args = [
      'simulate',
      '--devices',
      '4',
      '--merchants',
      '1',
      '--days',
      '1',
      '--limits',
      file,
      '--json',
    ];
    const run = spawnSync(process.execPath, ['bin/cbdc.mjs', ...args], {
      cwd: repositoryRoot,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { refusals: unknown; invariantsHold: boolean };
    // Seed 1 draws 12 payments on the day (1.00..40.00 XTS each), every one above 5.00 XTS.
    assert.deepEqual(report.refusals, { paymentLimitExceeded: 12 });
    assert.equal(report.invariantsHold, true);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
