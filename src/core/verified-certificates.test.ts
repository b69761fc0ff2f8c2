// VerifiedCertificates: what a remembered certificate still has to pass, and what makes it a stranger.
// A counting verifier shows which calls verified a signature and which were answered from memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateBodyToCbor, type Certificate, type CertificateRole } from './certificate.ts';
import { purposes, type Purpose, type Signer, type Verifier } from './crypto.ts';
import { isCbdcError, type CoreErrorCode } from './errors.ts';
import { principalIdOf, type PrincipalId } from './ids.ts';
import { signBody } from './signed.ts';
import { buildTrustAnchors } from './trust.ts';
import { VerifiedCertificates } from './verified-certificates.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import type { Bytes } from './bytes.ts';

const now = 1_767_225_600;
const year = 365 * 24 * 3600;

class CountingVerifier implements Verifier {
  readonly #inner = new NodeVerifier();
  verifications = 0;
  sha256(data: Bytes): Bytes {
    return this.#inner.sha256(data);
  }
  verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): boolean {
    this.verifications++;
    return this.#inner.verify(publicKey, purpose, message, signature);
  }
}

const verifier = new CountingVerifier();

function certify(
  issuer: Signer,
  issuerId: PrincipalId,
  role: CertificateRole,
  publicKey: Bytes,
  validUntil = now + year,
): Certificate {
  const body = {
    role,
    subjectId: principalIdOf(verifier, publicKey),
    publicKey,
    issuerId,
    validFrom: now - 60,
    validUntil,
    profile: role === 'phone' ? 'standard' : '',
  };
  return signBody(issuer, purposes.certificate, body, certificateBodyToCbor);
}

const root = NodeSigner.generate();
const rootId = principalIdOf(verifier, root.publicKey);
const dcpSigner = NodeSigner.generate();
const dcp = certify(root, rootId, 'dcpIssuer', dcpSigner.publicKey);
const anchors = buildTrustAnchors(verifier, root.publicKey, [dcp], now);

function phoneCertificate(validUntil?: number): Certificate {
  return certify(dcpSigner, dcp.body.subjectId, 'phone', NodeSigner.generate().publicKey, validUntil);
}

function refusedWith(code: CoreErrorCode): (error: unknown) => boolean {
  return (error) => isCbdcError(error) && error.code === code;
}

/** Verifications `body` makes. */
function counted(body: () => void): number {
  const before = verifier.verifications;
  body();
  return verifier.verifications - before;
}

function withByteFlipped(bytes: Bytes, index: number): Bytes {
  const copy = bytes.slice();
  copy[index]! ^= 0x01;
  return copy;
}

void test('a certificate is verified once, then answered from memory byte-identical', () => {
  const memory = new VerifiedCertificates(8);
  const certificate = phoneCertificate();
  assert.equal(
    counted(() => memory.verify(verifier, anchors, certificate, now)),
    1,
  );
  const again = { ...certificate, bodyBytes: certificate.bodyBytes.slice() };
  let returned: Certificate | undefined;
  assert.equal(
    counted(() => (returned = memory.verify(verifier, anchors, again, now))),
    0,
  );
  assert.equal(returned, certificate, 'the remembered certificate comes back');
});

void test('a remembered certificate with a changed byte or signature is verified anew and refused', () => {
  const memory = new VerifiedCertificates(8);
  const certificate = phoneCertificate();
  memory.verify(verifier, anchors, certificate, now);
  for (let index = 0; index < certificate.bodyBytes.length; index += 17) {
    const forged = { ...certificate, bodyBytes: withByteFlipped(certificate.bodyBytes, index) };
    const verifications = counted(() => {
      assert.throws(
        () => memory.verify(verifier, anchors, forged, now),
        refusedWith('certificateChainInvalid'),
      );
    });
    assert.equal(verifications, 1, `body byte ${index}: verified anew`);
  }
  for (const index of [0, 31, 32, 63]) {
    const forged = { ...certificate, signature: withByteFlipped(certificate.signature, index) };
    const verifications = counted(() => {
      assert.throws(
        () => memory.verify(verifier, anchors, forged, now),
        refusedWith('certificateChainInvalid'),
      );
    });
    assert.equal(verifications, 1, `signature byte ${index}: verified anew`);
  }
  assert.equal(memory.size, 1, 'a refused certificate is not remembered');
  assert.equal(
    counted(() => memory.verify(verifier, anchors, certificate, now)),
    0,
    'the genuine one is still remembered',
  );
});

void test('expiry is judged on every use of a remembered certificate', () => {
  const memory = new VerifiedCertificates(8);
  const certificate = phoneCertificate(now + 100);
  memory.verify(verifier, anchors, certificate, now);
  memory.verify(verifier, anchors, certificate, undefined);
  const verifications = counted(() => {
    assert.throws(
      () => memory.verify(verifier, anchors, certificate, now + 101),
      refusedWith('certificateExpired'),
    );
  });
  assert.equal(verifications, 0, 'refused from memory, by its expiry alone');
  memory.verify(verifier, anchors, certificate, now + 100);
});

void test('a certificate remembered under old trust anchors is not trusted under new ones', () => {
  const memory = new VerifiedCertificates(8);
  const certificate = phoneCertificate();
  memory.verify(verifier, anchors, certificate, now);
  const otherDcpSigner = NodeSigner.generate();
  const otherDcp = certify(root, rootId, 'dcpIssuer', otherDcpSigner.publicKey);
  const withoutIssuer = buildTrustAnchors(verifier, root.publicKey, [otherDcp], now);
  assert.throws(
    () => memory.verify(verifier, withoutIssuer, certificate, now),
    refusedWith('certificateChainInvalid'),
  );
  // Anchors rebuilt with the same issuer are another set too: the chain is checked again under them.
  const rebuilt = buildTrustAnchors(verifier, root.publicKey, [dcp, otherDcp], now);
  assert.equal(
    counted(() => memory.verify(verifier, rebuilt, certificate, now)),
    1,
  );
  assert.equal(
    counted(() => memory.verify(verifier, rebuilt, certificate, now)),
    0,
  );
});

void test('the memory fills to its limit, then forgets the least recently used', () => {
  const memory = new VerifiedCertificates(3);
  const [a, b, c, d] = [phoneCertificate(), phoneCertificate(), phoneCertificate(), phoneCertificate()];
  for (const certificate of [a, b, c]) memory.verify(verifier, anchors, certificate, now);
  assert.equal(memory.size, 3);
  memory.verify(verifier, anchors, a, now); // a is now the most recently used
  assert.equal(
    counted(() => memory.verify(verifier, anchors, d, now)),
    1,
  );
  assert.equal(memory.size, 3, 'never above the limit');
  assert.equal(
    counted(() => memory.verify(verifier, anchors, a, now)),
    0,
    'a was used last: kept',
  );
  assert.equal(
    counted(() => memory.verify(verifier, anchors, b, now)),
    1,
    'b was the least recently used: forgotten, verified again',
  );
  assert.equal(memory.size, 3);
  assert.throws(() => new VerifiedCertificates(0));
});
