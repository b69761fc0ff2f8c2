// HPKE on node:crypto, held to RFC 9180 Appendix A.3.1 and to @hpke/core (an independent,
// WebCrypto-based implementation) in both directions; any altered input must fail to open.
import assert from 'node:assert/strict';
import type { webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';
import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../core/bytes.ts';
import type { Bytes } from '../core/bytes.ts';
import {
  hpkeDecap,
  hpkeDeriveKeyPair,
  hpkeEncap,
  hpkeGenerateKeyPair,
  hpkeKeyScheduleBase,
  hpkeOpen,
  hpkeOpener,
  hpkeSeal,
} from './hpke.ts';

function hex(text: string): Bytes {
  const bytes = fromHex(text);
  assert.ok(bytes !== undefined);
  return bytes;
}

/** RFC 9180 Appendix A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, Base Setup, and its first encryption (A.3.1.1, sequence number 0). */
const rfc = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e',
  pkEm: '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4',
  skEm: '4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb',
  ikmR: '668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550',
  pkRm: '04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0',
  skRm: 'f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2',
  enc: '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4',
  sharedSecret: 'c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8',
  keyScheduleContext:
    '00b88d4e6d91759e65e87c470e8b9141113e9ad5f0c8ceefc1e088c82e6980500798e486f9c9c09c9b5c753ac72d6005de254c607d1b534ed11d493ae1c1d9ac85',
  secret: '2eb7b6bf138f6b5aff857414a058a3f1750054a9ba1f72c2cf0684a6f20b10e1',
  key: '868c066ef58aae6dc589b6cfdd18f97e',
  baseNonce: '4e0bc5018beba4bf004cca59',
  // A.3.1.1, sequence number 0: the nonce is base_nonce itself.
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  aad: '436f756e742d30',
  nonce: '4e0bc5018beba4bf004cca59',
  ct: '5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434',
} as const;

void describe('HPKE against RFC 9180 Appendix A.3.1', () => {
  const ephemeral = hpkeDeriveKeyPair(hex(rfc.ikmE));
  const recipient = hpkeDeriveKeyPair(hex(rfc.ikmR));

  void test('DeriveKeyPair (§7.1.3) reproduces both key pairs', () => {
    assert.equal(toHex(ephemeral.privateKey), rfc.skEm);
    assert.equal(toHex(ephemeral.publicKey), rfc.pkEm);
    assert.equal(toHex(recipient.privateKey), rfc.skRm);
    assert.equal(toHex(recipient.publicKey), rfc.pkRm);
  });

  void test('Encap and Decap (§4.1) give enc and shared_secret', () => {
    const { enc, sharedSecret } = hpkeEncap(recipient.publicKey, ephemeral);
    assert.equal(toHex(enc), rfc.enc);
    assert.equal(toHex(sharedSecret), rfc.sharedSecret);
    assert.equal(toHex(hpkeDecap(enc, recipient.privateKey, recipient.publicKey)), rfc.sharedSecret);
  });

  void test('KeySchedule (§5.1, mode_base) gives key_schedule_context, secret, key and base_nonce', () => {
    const context = hpkeKeyScheduleBase(hex(rfc.sharedSecret), hex(rfc.info));
    assert.equal(toHex(context.keyScheduleContext), rfc.keyScheduleContext);
    assert.equal(toHex(context.secret), rfc.secret);
    assert.equal(toHex(context.key), rfc.key);
    assert.equal(toHex(context.baseNonce), rfc.baseNonce);
    assert.equal(rfc.nonce, rfc.baseNonce, 'sequence number 0 uses base_nonce unchanged (§5.2)');
  });

  void test('the first encryption (sequence number 0) seals to enc ‖ ct and opens back', () => {
    const sealed = hpkeSeal(recipient.publicKey, hex(rfc.info), hex(rfc.aad), hex(rfc.pt), ephemeral);
    assert.equal(toHex(sealed), rfc.enc + rfc.ct);
    const opened = hpkeOpen(recipient.privateKey, recipient.publicKey, hex(rfc.info), hex(rfc.aad), sealed);
    assert.ok(opened !== undefined);
    assert.equal(toHex(opened), rfc.pt);
  });
});

const suite = new CipherSuite({
  kem: new DhkemP256HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});

/** @hpke/core needs an ArrayBuffer-backed view; fast-check's arrays may share a larger buffer. */
function copy(bytes: Bytes): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(bytes);
}

/**
 * @hpke/core's declarations name the DOM's global CryptoKey, which a Node-only build does not
 * declare; these wrappers state the type it really returns (node:crypto's WebCrypto key).
 */
async function hpkeCorePublicKey(raw: Bytes): Promise<webcrypto.CryptoKey> {
  return (await suite.kem.deserializePublicKey(copy(raw))) as webcrypto.CryptoKey;
}

async function hpkeCorePrivateKey(raw: Bytes): Promise<webcrypto.CryptoKey> {
  return (await suite.kem.deserializePrivateKey(copy(raw))) as webcrypto.CryptoKey;
}

async function hpkeCoreDerivedPrivateKey(ikm: Bytes): Promise<Bytes> {
  const pair = (await suite.kem.deriveKeyPair(copy(ikm))) as webcrypto.CryptoKeyPair;
  return new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey));
}

const message = fc.record({
  plaintext: fc.uint8Array({ maxLength: 8192 }),
  info: fc.uint8Array({ maxLength: 64 }),
  aad: fc.uint8Array({ maxLength: 64 }),
});

void describe('HPKE cross-checked with @hpke/core 1.9', () => {
  const runs = { numRuns: 40 };

  void test('what hpkeSeal seals, @hpke/core opens', async () => {
    await fc.assert(
      fc.asyncProperty(message, async ({ plaintext, info, aad }) => {
        const recipient = hpkeGenerateKeyPair();
        const sealed = hpkeSeal(recipient.publicKey, info, aad, plaintext);
        const opened = await suite.open(
          {
            recipientKey: await hpkeCorePrivateKey(recipient.privateKey),
            enc: sealed.subarray(0, 65),
            info: copy(info),
          },
          copy(sealed.subarray(65)),
          copy(aad),
        );
        assert.deepEqual(new Uint8Array(opened), plaintext);
      }),
      runs,
    );
  });

  void test('what @hpke/core seals, hpkeOpen opens', async () => {
    await fc.assert(
      fc.asyncProperty(message, async ({ plaintext, info, aad }) => {
        const recipient = hpkeGenerateKeyPair();
        const recipientPublicKey = await hpkeCorePublicKey(recipient.publicKey);
        const { enc, ct } = await suite.seal(
          { recipientPublicKey, info: copy(info) },
          copy(plaintext),
          copy(aad),
        );
        const sealed = concatBytes(new Uint8Array(enc), new Uint8Array(ct));
        const opened = hpkeOpen(recipient.privateKey, recipient.publicKey, info, aad, sealed);
        assert.ok(opened !== undefined);
        assert.deepEqual(opened, plaintext);
      }),
      runs,
    );
  });

  void test('a private scalar with a leading zero byte keeps its 32 bytes (node:crypto drops it)', async () => {
    // Found by search: DeriveKeyPair of this ikm gives a scalar whose first byte is 0x00.
    const ikm = hex('0000000000000000000000000000000000000000000000000000000000000159');
    const ours = hpkeDeriveKeyPair(ikm);
    assert.equal(ours.privateKey.length, 32);
    assert.equal(ours.privateKey[0], 0);
    assert.equal(toHex(ours.privateKey), toHex(await hpkeCoreDerivedPrivateKey(ikm)));
    const sealed = hpkeSeal(ours.publicKey, new Uint8Array(0), new Uint8Array(0), Uint8Array.of(1, 2, 3));
    assert.deepEqual(
      hpkeOpen(ours.privateKey, ours.publicKey, new Uint8Array(0), new Uint8Array(0), sealed),
      Uint8Array.of(1, 2, 3),
    );
  });

  void test('with the same ephemeral key material, both produce identical bytes', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.uint8Array({ minLength: 32, maxLength: 32 }), async (input, ikmE) => {
        const recipient = hpkeGenerateKeyPair();
        const ours = hpkeSeal(
          recipient.publicKey,
          input.info,
          input.aad,
          input.plaintext,
          hpkeDeriveKeyPair(ikmE),
        );
        const recipientPublicKey = await hpkeCorePublicKey(recipient.publicKey);
        const theirs = await suite.seal(
          { recipientPublicKey, info: copy(input.info), ekm: copy(ikmE) },
          copy(input.plaintext),
          copy(input.aad),
        );
        assert.equal(toHex(ours), toHex(concatBytes(new Uint8Array(theirs.enc), new Uint8Array(theirs.ct))));
      }),
      { numRuns: 20 },
    );
  });
});

void describe('HPKE open refuses anything altered, and never throws', () => {
  const recipient = hpkeGenerateKeyPair();
  const info = new TextEncoder().encode('cbdc/upload/v1');
  const aad = new TextEncoder().encode('se-id');
  const plaintext = new TextEncoder().encode('the upload: histories, transfers, challenges, counters');
  const sealed = hpkeSeal(recipient.publicKey, info, aad, plaintext);
  const open = (candidate: Bytes): Bytes | undefined =>
    hpkeOpen(recipient.privateKey, recipient.publicKey, info, aad, candidate);

  void test('the untouched message opens', () => {
    assert.deepEqual(open(sealed), plaintext);
  });

  void test('flipping any bit of any byte of enc, ciphertext or tag fails', () => {
    for (let index = 0; index < sealed.length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        const altered = Uint8Array.from(sealed);
        altered[index]! ^= 1 << bit;
        assert.equal(open(altered), undefined, `byte ${index} bit ${bit}`);
      }
    }
  });

  void test('truncated or extended messages fail', () => {
    for (let length = 0; length < sealed.length; length++) {
      assert.equal(open(sealed.subarray(0, length)), undefined, `first ${length} bytes`);
    }
    assert.equal(open(concatBytes(sealed, Uint8Array.of(0))), undefined, 'one byte appended');
  });

  void test('wrong aad or wrong info fails', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (other) => {
        fc.pre(toHex(other) !== toHex(aad));
        assert.equal(hpkeOpen(recipient.privateKey, recipient.publicKey, info, other, sealed), undefined);
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (other) => {
        fc.pre(toHex(other) !== toHex(info));
        assert.equal(hpkeOpen(recipient.privateKey, recipient.publicKey, other, aad, sealed), undefined);
      }),
      { numRuns: 50 },
    );
  });

  void test('the wrong recipient key fails', () => {
    const other = hpkeGenerateKeyPair();
    assert.equal(
      hpkeOpen(other.privateKey, other.publicKey, info, aad, sealed),
      undefined,
      'another key pair',
    );
    assert.equal(
      hpkeOpen(recipient.privateKey, other.publicKey, info, aad, sealed),
      undefined,
      'mismatched public key',
    );
    assert.equal(
      hpkeOpen(other.privateKey, recipient.publicKey, info, aad, sealed),
      undefined,
      'mismatched private key',
    );
  });

  void test('malformed keys and encapsulations give undefined, not an exception', () => {
    const order = hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    for (const privateKey of [
      new Uint8Array(0),
      new Uint8Array(31),
      new Uint8Array(32),
      order,
      new Uint8Array(33),
    ]) {
      assert.equal(
        hpkeOpen(privateKey, recipient.publicKey, info, aad, sealed),
        undefined,
        toHex(privateKey),
      );
    }
    const body = sealed.subarray(65);
    const offCurve = concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(1));
    const compressedPrefix = concatBytes(Uint8Array.of(2), sealed.subarray(1, 65));
    for (const enc of [new Uint8Array(65), offCurve, compressedPrefix]) {
      assert.equal(open(concatBytes(enc, body)), undefined, toHex(enc.subarray(0, 4)));
    }
    assert.equal(hpkeOpen(recipient.privateKey, new Uint8Array(65), info, aad, sealed), undefined);
  });

  void test('seal refuses a malformed recipient key by name', () => {
    assert.throws(() => hpkeSeal(new Uint8Array(65), info, aad, plaintext), /recipientPublicKey/);
    assert.throws(
      () => hpkeSeal(recipient.publicKey.subarray(0, 33), info, aad, plaintext),
      /recipientPublicKey/,
    );
  });

  void test('fresh ephemeral keys: sealing twice never gives the same bytes', () => {
    const again = hpkeSeal(recipient.publicKey, info, aad, plaintext);
    assert.notEqual(toHex(again.subarray(0, 65)), toHex(sealed.subarray(0, 65)));
    assert.deepEqual(open(again), plaintext);
  });
});

void describe('hpkeOpener: one recipient key checked once, the same answers as hpkeOpen', () => {
  const recipient = hpkeDeriveKeyPair(hex(rfc.ikmR));
  const sealed = hex(rfc.enc + rfc.ct);

  void test('it opens the RFC 9180 A.3.1.1 message to its plaintext', () => {
    const open = hpkeOpener(recipient.privateKey, recipient.publicKey);
    assert.equal(toHex(open(hex(rfc.info), hex(rfc.aad), sealed) ?? new Uint8Array(0)), rfc.pt);
    assert.equal(toHex(open(hex(rfc.info), hex(rfc.aad), sealed) ?? new Uint8Array(0)), rfc.pt, 'again');
  });

  void test('every altered byte, a truncation, or another aad gives undefined, as hpkeOpen does', () => {
    const open = hpkeOpener(recipient.privateKey, recipient.publicKey);
    for (let index = 0; index < sealed.length; index++) {
      const altered = Uint8Array.from(sealed);
      altered[index]! ^= 0x01;
      assert.equal(open(hex(rfc.info), hex(rfc.aad), altered), undefined, `byte ${index}`);
    }
    assert.equal(open(hex(rfc.info), hex(rfc.aad), sealed.subarray(0, 80)), undefined, 'truncated');
    assert.equal(open(hex(rfc.info), new Uint8Array(0), sealed), undefined, 'another aad');
  });

  void test('a mismatched or malformed key pair is refused when the opener is made', () => {
    const other = hpkeGenerateKeyPair();
    assert.throws(() => hpkeOpener(recipient.privateKey, other.publicKey), /recipientPublicKey/);
    assert.throws(() => hpkeOpener(new Uint8Array(31), recipient.publicKey), /privateKey/);
  });
});
