// node:crypto (OpenSSL) against @noble/curves, an independent pure-JS implementation: each must
// accept what the other signs, both must refuse the same alterations, and both apply the low-S rule.
// noble verifies about 500 signatures a second, so the runs are bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { purposes, type Purpose } from '../core/crypto.ts';
import type { Bytes } from '../core/bytes.ts';
import { isLowS, NodeSigner, NodeVerifier, normaliseLowS, signedBytes } from './node-crypto.ts';

const runs = { numRuns: 60 };
const verifier = new NodeVerifier();

/**
 * noble's `prehash: true` (its default, set explicitly here) hashes the message with SHA-256 before
 * ECDSA, as node:crypto's verify('sha256', ...) does; so both receive the same signed bytes.
 * `lowS: true` rejects s > n/2 as our rule does. noble throws on some malformed inputs; that is a
 * rejection too.
 */
function nobleVerify(
  publicKey: Bytes,
  purpose: Purpose,
  message: Bytes,
  signature: Bytes,
  lowS = true,
): boolean {
  try {
    return p256.verify(signature, signedBytes(purpose, message), publicKey, { prehash: true, lowS });
  } catch {
    return false;
  }
}

function nobleKeyPair(): { readonly secretKey: Bytes; readonly publicKey: Bytes } {
  const secretKey = p256.utils.randomSecretKey();
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) }; // 65-byte uncompressed, as ours
}

function nobleSign(secretKey: Bytes, purpose: Purpose, message: Bytes): Bytes {
  return p256.sign(signedBytes(purpose, message), secretKey, {
    prehash: true,
    lowS: true,
    format: 'compact',
  });
}

/** The other valid signature of the same (r, s): (r, n − s), which is high when s is low. */
function highS(signature: Bytes): Bytes {
  const order = p256.Point.Fn.ORDER;
  const s = BigInt('0x' + Buffer.from(signature.subarray(32)).toString('hex'));
  const flipped = Buffer.from((order - s).toString(16).padStart(64, '0'), 'hex');
  return Uint8Array.from([...signature.subarray(0, 32), ...flipped]);
}

function flipBit(bytes: Bytes, bitIndex: number): Bytes {
  const out = Uint8Array.from(bytes);
  const index = bitIndex % (out.length * 8);
  out[index >> 3]! ^= 1 << (index & 7);
  return out;
}

const purpose = fc.constantFrom(...Object.values(purposes));
const message = fc.uint8Array({ maxLength: 512 });

void test('NodeSigner signatures are low-S and verify with noble (lowS: true) over signedBytes', () => {
  fc.assert(
    fc.property(purpose, message, (tag, body) => {
      const signer = NodeSigner.generate();
      const signature = signer.sign(tag, body);
      assert.equal(signature.length, 64);
      assert.ok(isLowS(signature));
      assert.ok(nobleVerify(signer.publicKey, tag, body, signature));
      assert.ok(verifier.verify(signer.publicKey, tag, body, signature));
    }),
    runs,
  );
});

void test('noble signatures (lowS) verify with NodeVerifier, under the right purpose only', () => {
  fc.assert(
    fc.property(purpose, purpose, message, (tag, otherTag, body) => {
      const { secretKey, publicKey } = nobleKeyPair();
      const signature = nobleSign(secretKey, tag, body);
      assert.ok(isLowS(signature));
      assert.ok(verifier.verify(publicKey, tag, body, signature));
      if (otherTag !== tag) assert.ok(!verifier.verify(publicKey, otherTag, body, signature));
    }),
    runs,
  );
});

void test('a flipped bit in the message, the signature or the key fails in both', () => {
  fc.assert(
    fc.property(
      purpose,
      message,
      fc.nat(),
      fc.constantFrom('message', 'signature', 'key'),
      (tag, body, bit, where) => {
        const signer = NodeSigner.generate();
        const signature = signer.sign(tag, body);
        // An empty message has no bit to flip: append one byte instead, which alters it as well.
        const alteredBody =
          where !== 'message' ? body : body.length === 0 ? Uint8Array.of(0) : flipBit(body, bit);
        const alteredSignature = where === 'signature' ? flipBit(signature, bit) : signature;
        const alteredKey = where === 'key' ? flipBit(signer.publicKey, bit) : signer.publicKey;
        assert.ok(!verifier.verify(alteredKey, tag, alteredBody, alteredSignature), `NodeVerifier, ${where}`);
        assert.ok(!nobleVerify(alteredKey, tag, alteredBody, alteredSignature), `noble, ${where}`);
      },
    ),
    runs,
  );
});

void test('high-S variants fail in NodeVerifier and in noble with lowS: true, and are otherwise valid', () => {
  fc.assert(
    fc.property(purpose, message, fc.boolean(), (tag, body, signWithNode) => {
      let publicKey: Bytes;
      let signature: Bytes;
      if (signWithNode) {
        const signer = NodeSigner.generate();
        publicKey = signer.publicKey;
        signature = signer.sign(tag, body);
      } else {
        const pair = nobleKeyPair();
        publicKey = pair.publicKey;
        signature = nobleSign(pair.secretKey, tag, body);
      }
      const high = highS(signature);
      assert.ok(!isLowS(high));
      assert.ok(!verifier.verify(publicKey, tag, body, high), 'NodeVerifier rejects high S');
      assert.ok(!nobleVerify(publicKey, tag, body, high), 'noble (lowS: true) rejects high S');
      assert.ok(
        nobleVerify(publicKey, tag, body, high, false),
        'plain ECDSA would accept it: only the rule rejects it',
      );
      assert.deepEqual(normaliseLowS(high), signature, 'normalising gives back the low-S signature');
    }),
    runs,
  );
});
