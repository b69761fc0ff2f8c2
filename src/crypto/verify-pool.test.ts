// The verify pool answers exactly what NodeVerifier answers, on its workers, and refuses (typed)
// what it cannot run: a full queue, a closed pool.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { purposes } from '../core/crypto.ts';
import { NodeSigner, NodeVerifier } from './node-crypto.ts';
import { packVerifies, unpackVerifies } from './verify-batch.ts';
import { VerifyPool, VerifyPoolUnavailable, verifyPoolWaitingMax } from './verify-pool.ts';

const verifier = new NodeVerifier();
const signers = [NodeSigner.generate(), NodeSigner.generate()];
const pool = new VerifyPool({ workers: 2 });
after(() => pool.close());

/** Valid, tampered message, wrong key, high S, wrong purpose: the cases a verify must tell apart. */
function cases() {
  const out = [];
  for (let index = 0; index < 40; index++) {
    const signer = signers[index % 2]!;
    const message = Uint8Array.from(
      { length: 1 + ((index * 37) % 300) },
      (_unused, at) => (at * index) & 0xff,
    );
    const signature = signer.sign(purposes.claim, message);
    out.push({ publicKey: signer.publicKey, purpose: purposes.claim, message, signature });
    out.push({
      publicKey: signer.publicKey,
      purpose: purposes.claim,
      message: message.map((b) => b ^ 1),
      signature,
    });
    out.push({ publicKey: signers[(index + 1) % 2]!.publicKey, purpose: purposes.claim, message, signature });
    out.push({ publicKey: signer.publicKey, purpose: purposes.deviceRequest, message, signature });
  }
  return out;
}

test('the pool answers every verify as NodeVerifier does, batched in one turn', async () => {
  await pool.ready();
  const all = cases();
  const answers = await Promise.all(
    all.map((job) => pool.verify(job.publicKey, job.purpose, job.message, job.signature)),
  );
  assert.deepEqual(
    answers,
    all.map((job) => verifier.verify(job.publicKey, job.purpose, job.message, job.signature)),
  );
  assert.equal(answers.filter(Boolean).length, 40);
});

test('malformed lengths are false, not a refusal', async () => {
  const signer = signers[0]!;
  const signature = signer.sign(purposes.claim, Uint8Array.of(1));
  assert.equal(
    await pool.verify(signer.publicKey.subarray(1), purposes.claim, Uint8Array.of(1), signature),
    false,
  );
  assert.equal(
    await pool.verify(signer.publicKey, purposes.claim, Uint8Array.of(1), signature.subarray(1)),
    false,
  );
});

test('a batch packs and unpacks to the same jobs', () => {
  const all = cases().slice(0, 8);
  const unpacked = unpackVerifies(packVerifies(all).buffer, all.length);
  assert.deepEqual(
    unpacked.map((job) => [job.purpose, [...job.publicKey], [...job.message], [...job.signature]]),
    all.map((job) => [job.purpose, [...job.publicKey], [...job.message], [...job.signature]]),
  );
});

test('past verifyPoolWaitingMax waiting, a verify is refused as full; the others are answered', async () => {
  const signer = signers[0]!;
  const message = Uint8Array.of(7);
  const signature = signer.sign(purposes.claim, message);
  const asked = Array.from({ length: verifyPoolWaitingMax + 1 }, () =>
    pool.verify(signer.publicKey, purposes.claim, message, signature).then(
      (valid) => ({ valid }),
      (error: unknown) => ({ error }),
    ),
  );
  const settled = await Promise.all(asked);
  const refused = settled.filter((each) => 'error' in each);
  assert.equal(refused.length, 1);
  const [only] = refused;
  assert.ok(only !== undefined && 'error' in only && only.error instanceof VerifyPoolUnavailable);
  assert.equal(only.error.reason, 'full');
  assert.equal(settled.filter((each) => 'valid' in each && each.valid).length, verifyPoolWaitingMax);
});

test('a closed pool refuses every verify as closed, after answering those in flight', async () => {
  const closing = new VerifyPool({ workers: 1 });
  await closing.ready();
  const signer = signers[1]!;
  const message = Uint8Array.of(9);
  const signature = signer.sign(purposes.claim, message);
  const inFlight = closing.verify(signer.publicKey, purposes.claim, message, signature);
  await new Promise((resolve) => setImmediate(resolve));
  await closing.close();
  assert.equal(await inFlight, true);
  await assert.rejects(
    closing.verify(signer.publicKey, purposes.claim, message, signature),
    (error: unknown) => error instanceof VerifyPoolUnavailable && error.reason === 'closed',
  );
});
