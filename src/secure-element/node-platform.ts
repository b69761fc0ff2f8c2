// The secure element platform on node:crypto: what a chip's crypto coprocessor and TRNG give.
import { NodeSigner, NodeVerifier, secureRandomBytes } from '../crypto/node-crypto.ts';
import { hpkeSeal } from '../crypto/hpke.ts';
import type { SecureElementPlatform } from './platform.ts';

export function nodePlatform(verifier = new NodeVerifier()): SecureElementPlatform {
  return {
    verifier,
    generateKey() {
      const signer = NodeSigner.generate();
      return { privateScalar: signer.exportPrivateScalar(), publicKey: signer.publicKey };
    },
    signer: (privateScalar, publicKey) => NodeSigner.fromScalar(privateScalar, publicKey),
    randomBytes: secureRandomBytes,
    seal: (recipientPublicKey, info, aad, plaintext) => hpkeSeal(recipientPublicKey, info, aad, plaintext),
  };
}
