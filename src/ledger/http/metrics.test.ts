// The ledger's /metrics, process metrics included as in a server process, passes Prometheus's own
// linter (`promtool check metrics`): no gauge named `*_total`, help and types in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  buildWorld,
  call,
  freshKey,
  ledgerFixture,
  promtoolCheckMetrics,
  promtoolSkip,
  type LedgerFixture,
} from '../../testing/ledger.ts';

let fixture: LedgerFixture;
before(async () => {
  fixture = await ledgerFixture('sqlite', { processMetrics: true });
});
after(() => fixture.close());

test('/metrics passes promtool check metrics', { skip: promtoolSkip() }, async () => {
  const world = await buildWorld(fixture.app, fixture.operatorKey);
  const issued = await call(fixture.app, world.operatorKey, 'POST', '/v1/issuances', {
    key: freshKey(),
    body: { accountId: world.bankAccount, amount: '100' },
  });
  assert.equal(issued.status, 201);
  assert.equal((await call(fixture.app, world.dcpKey, 'GET', '/v1/nothing')).status, 404);
  const response = await fixture.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(response.body, /^ledger_payments_total\{kind="issuance"\} 1$/m);
  assert.match(response.body, /^nodejs_active_handles\b/m, 'process metrics are on');
  const verdict = promtoolCheckMetrics(response.body);
  assert.equal(verdict.kind, 'checked');
  assert.ok(verdict.kind === 'checked' && verdict.passed, verdict.kind === 'checked' ? verdict.output : '');
});
