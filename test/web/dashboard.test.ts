// The monitoring room end to end: the whole system as real processes (as `cbdc start` runs it), the
// page built and served with its proxy, a scenario with a double spend and a payment left in flight,
// and headless Chromium signing in as each role. What the page shows is checked against what the
// services hold: the live charts drew data, the double spend is blamed on the cloned SE for the
// token's value, opening its evidence appends an audit entry the auditor then sees, the payment left
// in flight is refunded and the refund executed, the economist
// is refused alerts by the MDS (on the page and straight through the API), and a device's record.
// Every page is photographed into test-output/web/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { formatAmount } from '../../src/demo/format.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import type { MdsAlert } from '../../src/mds/api/types.ts';
import type { RunningDashboard } from '../../src/system/dashboard-server.ts';
import { dashboardKeys, startDashboard, type DashboardKeys } from '../../src/system/dashboard.ts';
import { startSystem, type RunningSystem } from '../../src/system/launcher.ts';
import { chromiumMissing, launchBrowser, screenshotDirectory } from './browser.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { playScenario, type Scenario } from './scenario.ts';
import { sweepReport } from './sweep-report.ts';

const skip = chromiumMissing();
let data: string;
let system: RunningSystem;
let dashboard: RunningDashboard;
let keys: DashboardKeys;
let scenario: Scenario;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip !== false) return;
  data = mkdtempSync(join(tmpdir(), 'cbdc-web-'));
  system = await startSystem({ dataDirectory: data, dcpNames: ['bank-a', 'bank-b'] });
  keys = await dashboardKeys(system, data);
  dashboard = await startDashboard(system, data, 0);
  scenario = await playScenario(system);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  if (skip !== false) return;
  await browser.close();
  await dashboard.close();
  await system.stop();
  rmSync(data, { recursive: true, force: true });
});

async function signIn(service: string, apiKey: string, role: string): Promise<void> {
  await page.getByLabel('Service').selectOption(service);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page
    .getByRole('status')
    .filter({ hasText: `Signed in to ${service} as ${role}` })
    .waitFor();
}

async function open(path: string): Promise<void> {
  await page.goto(`${dashboard.url}#/${path}`);
}

async function photograph(name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDirectory, `${name}.png`), fullPage: true });
}

/** The double-spend alert once the response has revoked the blamed SE (the MDS's own answer). */
async function doubleSpendAlert(): Promise<MdsAlert> {
  const analyst = new MdsClient({ baseUrl: system.mdsUrl, apiKey: keys.analyst });
  return await eventually('the double spend revoked', async () => {
    const alert = (await analyst.listAlerts()).alerts.find((item) => item.kind === 'doubleSpend');
    return alert?.status === 'revoked' ? alert : undefined;
  });
}

/** What the test reads of a canvas in the page (the test itself is typed for Node, not the DOM). */
interface CanvasPixels {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): { getImageData(...box: number[]): { readonly data: Uint8ClampedArray } } | null;
}

/** Pixels of a chart's canvas in the series colour: a line was drawn, not only the axes. */
async function seriesPixels(chartTitle: string, rgb: readonly [number, number, number]): Promise<number> {
  const canvas = page.locator('figure.chart', { hasText: chartTitle }).locator('canvas');
  return await canvas.evaluate((element, colour) => {
    const pixels = element as unknown as CanvasPixels;
    const image = pixels.getContext('2d')?.getImageData(0, 0, pixels.width, pixels.height).data;
    let count = 0;
    for (let index = 0; image !== undefined && index < image.length; index += 4) {
      const near = [0, 1, 2].every(
        (channel) => Math.abs((image[index + channel] ?? 0) - (colour[channel] ?? 0)) < 24,
      );
      if (near && (image[index + 3] ?? 0) > 128) count++;
    }
    return count;
  }, rgb);
}

test(
  'the overview draws each DCP’s supply and the MDS’s figures live, with the pool check passing',
  { skip },
  async () => {
    await open('overview');
    for (const dcp of system.dcps.values()) await signIn(`dcp-${dcp.name}`, dcp.operatorKey, 'operator');
    await signIn('mds', system.mdsOperatorKey, 'operator');
    const supplyChart = page.locator('figure.chart', { hasText: 'Offline value outstanding per DCP' });
    await eventually('three samples per DCP', async () => {
      const points = await supplyChart.locator('.chart-canvas').getAttribute('data-points');
      return points !== null && points.split(',').every((count) => Number(count) >= 3) ? points : undefined;
    });
    assert.ok((await seriesPixels('Offline value outstanding per DCP', [31, 95, 191])) > 20, 'bank-a’s line');
    assert.ok((await seriesPixels('Offline value outstanding per DCP', [179, 38, 30])) > 20, 'bank-b’s line');
    for (const name of system.dcps.keys())
      assert.match(await page.locator(`tr[data-dcp="${name}"] td`).last().innerText(), /^pass/);
    await page
      .locator('[data-figure="uploads-ingested"]')
      .filter({ hasText: /^[1-9]/ })
      .waitFor();
    assert.ok((await seriesPixels('Uploads and alerts at the MDS', [31, 95, 191])) > 20, 'the uploads line');
    const perBucket = page.getByRole('figure', { name: 'Payments per bucket', exact: true });
    await perBucket.waitFor();
    assert.match(
      await perBucket.locator('.chart-summary').innerText(),
      /^24 buckets, \d+ of them suppressed for payments \(k = 10\)$/,
    );
    await photograph('overview');
  },
);

test(
  'the overview shows the supply as the MDS reconciles it, and the pools after a settlement run',
  { skip },
  async () => {
    await doubleSpendAlert();
    const operator = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
    await eventually('the refund executed', async () =>
      (await operator.recoveries()).refunds.executedCount === 1 ? true : undefined,
    );
    const run = await operator.settle('dashboard-test');
    assert.equal(run.state, 'completed');
    await open('overview');
    const last = page.locator('[data-figure="last-settlement"]');
    await last.filter({ hasText: 'Last settlement run:' }).waitFor();
    const supply = await operator.supply();
    const [newest] = (await operator.settlements()).runs;
    assert.ok(newest !== undefined);
    assert.match(await last.innerText(), new RegExp(`^Last settlement run: ${newest.period}, completed`));
    assert.equal(supply.total.createdByFraud, scenario.doubleSpentValue + scenario.clonePaidValue);
    assert.equal(await page.locator('[data-figure="created-by-fraud"]').innerText(), '80.00 XTS');
    assert.equal(supply.total.refunded, scenario.stuckValue, 'the supply counts recovery’s refund');
    assert.equal(await page.locator('[data-figure="refunded"]').innerText(), '12.00 XTS');
    for (const dcp of system.dcps.values()) {
      const figures = supply.dcps.find((item) => item.dcpId === dcp.dcpId);
      assert.ok(figures !== undefined, dcp.name);
      assert.ok(figures.poolBalance !== null, `${dcp.name}: its pool was read`);
      // The page says what the MDS's figures say: pass when the pool equals what is attributed to it.
      const difference = figures.poolBalance - figures.attributedOutstanding;
      const verdict = difference === 0n ? 'pass' : `differs by ${formatAmount(difference)}`;
      assert.equal(await page.locator(`tr[data-attribution="${dcp.name}"] td`).last().innerText(), verdict);
    }
    await photograph('overview-supply');
  },
);

test(
  'the analyst sees the double spend blamed on the cloned SE for its value, and opening the evidence is audited',
  { skip },
  async () => {
    const alert = await doubleSpendAlert();
    await open('alerts');
    await signIn('mds', keys.analyst, 'analyst');
    const row = page.locator(`tr[data-kind="doubleSpend"]`);
    await row.waitFor();
    assert.equal(await row.locator('td[data-se]').getAttribute('data-se'), scenario.thiefSeId);
    assert.equal(
      await row.locator('td[data-value]').getAttribute('data-value'),
      String(scenario.doubleSpentValue),
    );
    assert.equal(await row.locator('td[data-value]').innerText(), '50.00 XTS');
    assert.equal(await row.locator('td.status-revoked').innerText(), 'revoked');
    await photograph('alerts');

    await row.getByRole('button', { name: /Open evidence/ }).click();
    const note = page.locator('.audit-note');
    await note.waitFor();
    const sequence = Number(await note.getAttribute('data-audit-sequence'));
    assert.ok(sequence >= 1);
    assert.equal(await page.locator('.evidence-items li').count(), alert.evidenceCount);
    await photograph('alert-evidence');

    // The auditor finds that very read at the head of the hash-chained log.
    await open('audit');
    await signIn('mds', keys.auditor, 'auditor');
    const entry = page.locator(`tr[data-sequence="${sequence}"]`);
    await entry.waitFor();
    assert.equal(await entry.getAttribute('data-alert'), alert.id);
    assert.equal(await entry.locator('td').nth(2).innerText(), 'analyst');
    await page.getByText(/The chain holds over \d+ entries/).waitFor();
    await photograph('audit');
  },
);

test(
  'the payment left in flight is refunded to its payer, and the refund executed by its DCP',
  { skip },
  async () => {
    await open('recoveries');
    await signIn('mds', keys.analyst, 'analyst');
    const refund = page.locator(`tr[data-payer="${scenario.stuckPayerSeId}"]`);
    await refund.locator('td[data-executed="yes"]').waitFor({ timeout: 60_000 });
    assert.equal(
      await refund.locator('td[data-value]').getAttribute('data-value'),
      String(scenario.stuckValue),
    );
    assert.equal(await refund.locator('td[data-value]').innerText(), '12.00 XTS');
    assert.equal(await page.locator('tr[data-refund]').count(), 1, 'only the undelivered payment');
    assert.equal(await page.locator('[data-figure="refunds-executed"]').innerText(), '1, 12.00 XTS');
    await photograph('recoveries');
  },
);

test(
  'the economist cannot reach alerts: the MDS refuses on the page and through the API alike',
  { skip },
  async () => {
    await open('alerts');
    await signIn('mds', keys.economist, 'economist');
    const refusal = page.locator('[data-refusal="alerts"]');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /roleNotAllowed/);
    assert.equal(await page.locator('tr[data-kind]').count(), 0, 'no alert shown');
    await photograph('alerts-economist');
    const answer = await page.evaluate(async (apiKey) => {
      const response = await fetch('./api/mds/v1/alerts', { headers: { authorization: `Bearer ${apiKey}` } });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    }, keys.economist);
    assert.deepEqual([answer.status, answer.body.error.code], [403, 'roleNotAllowed']);
  },
);

test(
  'the economist sees indicators with k stated, and a cell over fewer than k SEs as suppressed, never zero',
  { skip },
  async () => {
    await open('indicators');
    await signIn('mds', keys.economist, 'economist');
    const statement = page.locator('[data-k]');
    await statement.waitFor();
    const economist = new MdsClient({ baseUrl: system.mdsUrl, apiKey: keys.economist });
    const bucketMs = 60_000;
    const toMs = (Math.floor(Date.now() / bucketMs) + 1) * bucketMs;
    const report = await economist.indicators({ fromMs: toMs - 24 * bucketMs, toMs, bucketMs });
    assert.equal(await statement.getAttribute('data-k'), String(report.secureElementsMin));
    assert.match(await statement.innerText(), new RegExp(`^k = ${report.secureElementsMin}:`));
    const withPayments = report.buckets.filter((bucket) => bucket.payments.count.suppressed);
    assert.ok(withPayments.length > 0, 'the scenario’s few SEs are under k');
    for (const bucket of withPayments) {
      const shown = page.locator(`tr[data-bucket="${bucket.startMs}"] td[data-cell="payments"]`);
      assert.equal(await shown.innerText(), 'suppressed');
      assert.equal(await shown.locator('[data-suppressed="true"]').count(), 1);
    }
    await photograph('indicators');
  },
);

test(
  'a device is found by its SE id: revoked, a phone of bank-a, named by the deny list',
  { skip },
  async () => {
    await doubleSpendAlert();
    await open('devices');
    await signIn('directory', system.directoryOperatorKey, 'operator');
    await page.getByLabel('SE id').fill(scenario.thiefSeId);
    await page.getByRole('button', { name: 'Look up' }).click();
    const record = page.locator(`.device[data-se="${scenario.thiefSeId}"]`);
    await record.waitFor();
    assert.equal(await record.locator('[data-field="status"]').innerText(), 'revoked');
    assert.equal(await record.locator('[data-field="kind"]').innerText(), 'phone');
    assert.match(await record.locator('[data-field="dcp"]').innerText(), /^bank-a /);
    assert.match(
      await record.locator('[data-field="deny-list"]').innerText(),
      /^version \d+: names this SE$/,
    );
    await photograph('devices');
  },
);

test(
  'the risk lab loads a sweep report: one row per run, its charts drawn, a broken file refused',
  { skip },
  async () => {
    const report = sweepReport();
    const file = join(data, 'sweep.json');
    writeFileSync(file, JSON.stringify(report));
    await open('risk-lab');
    await page.getByLabel(/Sweep report/).setInputFiles(file);
    await page.getByRole('status').filter({ hasText: 'sweep.json: 2 runs.' }).waitFor();
    assert.equal(await page.locator('table.sweep tbody tr').count(), 2);
    assert.deepEqual(
      await page
        .locator('table.sweep tbody tr')
        .evaluateAll((rows) =>
          rows.map((row) => (row as unknown as { innerText: string }).innerText.split('\t')),
        ),
      [
        ['0', '120', '3456.00 XTS', '12.40', '0', '0', '0.00 XTS', '0.00 XTS', '0', '0', 'pass'],
        ['2', '118', '3400.00 XTS', '12.10', '4', '4', '90.00 XTS', '0.00 XTS', '1', '0', 'pass'],
      ],
    );
    const fraud = page.locator('figure.chart', { hasText: 'Fraud injected and detected' });
    assert.equal(await fraud.locator('.chart-canvas').getAttribute('data-points'), '2,2');
    assert.ok((await seriesPixels('Fraud injected and detected', [30, 107, 44])) > 20, 'the detected bars');
    await photograph('risk-lab');
    const broken = join(data, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...report, version: 9 }));
    await page.getByLabel(/Sweep report/).setInputFiles(broken);
    await page
      .getByRole('status')
      .filter({ hasText: 'broken.json is not a sweep report: version is not 1' })
      .waitFor();
    assert.equal(await page.locator('table.sweep').count(), 0);
  },
);

test('on a phone’s screen the pages fit the width', { skip }, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await open('overview');
  await page.locator('figure.chart canvas').first().waitFor();
  const overflow = await page.evaluate(() => {
    const view = globalThis as unknown as {
      readonly innerWidth: number;
      readonly document: { readonly documentElement: { readonly scrollWidth: number } };
    };
    return view.document.documentElement.scrollWidth - view.innerWidth;
  });
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await photograph('overview-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the keyboard alone reaches every page: skip link first, then each page’s link', { skip }, async () => {
  const focused = () =>
    page.evaluate(() => {
      const active = (
        globalThis as unknown as { document: { activeElement: { id: string; textContent: string } | null } }
      ).document.activeElement;
      return active === null ? '' : active.id === '' ? (active.textContent ?? '') : `#${active.id}`;
    });
  for (const title of ['Alerts', 'Recoveries', 'Indicators', 'Audit log', 'Devices', 'Risk lab']) {
    await page.goto('about:blank');
    await open('overview');
    await page.locator('nav a').first().waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Skip to the page');
    for (let presses = 0; presses < 8 && (await focused()) !== title; presses++)
      await page.keyboard.press('Tab');
    assert.equal(await focused(), title);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: title }).waitFor();
    assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), title);
    assert.equal(await focused(), '#main', 'the focus moved to the page');
  }
});
