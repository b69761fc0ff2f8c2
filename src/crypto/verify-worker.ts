// One thread of the verify pool (verify-pool.ts): answers each batch it is sent with one byte per
// verify (1 valid, 0 not), computed by the same `NodeVerifier.verify` the caller's thread runs, with
// its own cache of imported keys.
import { parentPort } from 'node:worker_threads';
import { assert } from '../core/assert.ts';
import { NodeVerifier } from './node-crypto.ts';
import { unpackVerifies } from './verify-batch.ts';

const verifier = new NodeVerifier();
const port = parentPort;
assert(port !== null, 'verify-worker.ts runs as a worker thread');
port.on('message', (batch: { readonly id: number; readonly buffer: ArrayBuffer; readonly count: number }) => {
  const jobs = unpackVerifies(batch.buffer, batch.count);
  const valid = new Uint8Array(jobs.length);
  jobs.forEach((job, index) => {
    valid[index] = verifier.verify(job.publicKey, job.purpose, job.message, job.signature) ? 1 : 0;
  });
  port.postMessage({ id: batch.id, valid }, [valid.buffer]);
});
