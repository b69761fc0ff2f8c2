// The directory's /metrics, process metrics included as in a server process, passes Prometheus's
// own linter (`promtool check metrics`): no gauge named `*_total`, help and types in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  call,
  directoryFixture,
  promtoolCheckMetrics,
  promtoolSkip,
  type DirectoryFixture,
} from '../../testing/directory.ts';

let fixture: DirectoryFixture;
before(async () => {
  fixture = await directoryFixture('sqlite', { processMetrics: true });
});
after(() => fixture.close());

test('/metrics passes promtool check metrics', { skip: promtoolSkip() }, async () => {
  assert.equal((await call(fixture.app, null, 'GET', '/v1/deny-list')).status, 200);
  assert.equal((await call(fixture.app, null, 'GET', '/nothing')).status, 404);
  const response = await fixture.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(response.body, /^directory_http_requests_total\{/m);
  assert.match(response.body, /^nodejs_active_handles\b/m, 'process metrics are on');
  const verdict = promtoolCheckMetrics(response.body);
  assert.equal(verdict.kind, 'checked');
  assert.ok(verdict.kind === 'checked' && verdict.passed, verdict.kind === 'checked' ? verdict.output : '');
});
