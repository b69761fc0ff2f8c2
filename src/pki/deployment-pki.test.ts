import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytesEqual } from '../core/bytes.ts';
import { purposes } from '../core/crypto.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { createDeploymentPki, loadPrincipal, loadTrust, principalSigner } from './deployment-pki.ts';

const now = 1_767_225_600;

test('a created PKI loads back, verified against its root, with working principal keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  try {
    const created = createDeploymentPki(dir, ['bank-a', 'bank-b'], now);
    const trust = loadTrust(dir, now);
    assert.ok(bytesEqual(trust.rootPublicKey, created.trust.rootPublicKey));
    assert.equal(trust.anchors.dcpIssuers.size, 2);
    const dcp = loadPrincipal(dir, 'dcp-bank-b.json');
    assert.ok(
      bytesEqual(dcp.certificate.body.publicKey, created.dcps.get('bank-b')!.certificate.body.publicKey),
    );
    const message = new Uint8Array([1, 2, 3]);
    const signature = principalSigner(dcp).sign(purposes.issuance, message);
    assert.ok(
      new NodeVerifier().verify(dcp.certificate.body.publicKey, purposes.issuance, message, signature),
    );
    assert.equal(statSync(join(dir, 'dcp-bank-a.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'trust.json')).mode & 0o777, 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('expired principal certificates are refused when the trust file is loaded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  try {
    createDeploymentPki(dir, ['bank-a'], now);
    assert.throws(() => loadTrust(dir, now + 11 * 365 * 24 * 3600), { code: 'certificateExpired' });
    assert.throws(() => createDeploymentPki(dir, ['Bank A'], now), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
