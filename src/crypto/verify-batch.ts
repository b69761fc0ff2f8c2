// The wire form of a batch of verifies between threads (verify-pool.ts, verify-worker.ts): one
// ArrayBuffer, transferred rather than copied per field. Per verify, in order: the 65-byte public
// key, the 64-byte signature, the purpose's UTF-8 length (u16, big-endian) and bytes, the message's
// length (u32, big-endian) and bytes. Both ends are this file: lengths are checked anyway, because
// a buffer that does not parse is a bug to report, not a verify to answer.
import { assert } from '../core/assert.ts';
import { publicKeyBytes, purposes as knownPurposes, signatureBytes, type Purpose } from '../core/crypto.ts';
import type { Bytes } from '../core/bytes.ts';

export interface VerifyJob {
  readonly publicKey: Bytes;
  readonly purpose: Purpose;
  readonly message: Bytes;
  readonly signature: Bytes;
}

export interface PackedBatch {
  readonly buffer: ArrayBuffer;
}

const encoder = new TextEncoder();
const purposeByText = new Map<string, Purpose>(Object.values(knownPurposes).map((each) => [each, each]));
const decoder = new TextDecoder('utf-8', { fatal: true });

export function packVerifies(jobs: readonly VerifyJob[]): PackedBatch {
  const purposes = jobs.map((job) => encoder.encode(job.purpose));
  let length = 0;
  jobs.forEach((job, index) => {
    length += publicKeyBytes + signatureBytes + 2 + (purposes[index]?.length ?? 0) + 4 + job.message.length;
  });
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  let at = 0;
  jobs.forEach((job, index) => {
    const purpose = purposes[index] ?? new Uint8Array(0);
    assert(
      job.publicKey.length === publicKeyBytes && job.signature.length === signatureBytes,
      'verify job lengths',
    );
    bytes.set(job.publicKey, at);
    at += publicKeyBytes;
    bytes.set(job.signature, at);
    at += signatureBytes;
    view.setUint16(at, purpose.length);
    bytes.set(purpose, at + 2);
    at += 2 + purpose.length;
    view.setUint32(at, job.message.length);
    bytes.set(job.message, at + 4);
    at += 4 + job.message.length;
  });
  return { buffer: bytes.buffer };
}

/** The `count` jobs of a packed batch, as views into its buffer. */
export function unpackVerifies(buffer: ArrayBuffer, count: number): VerifyJob[] {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const jobs: VerifyJob[] = [];
  let at = 0;
  for (let index = 0; index < count; index++) {
    const publicKey = bytes.subarray(at, at + publicKeyBytes);
    at += publicKeyBytes;
    const signature = bytes.subarray(at, at + signatureBytes);
    at += signatureBytes;
    const purposeLength = view.getUint16(at);
    const purpose = purposeByText.get(decoder.decode(bytes.subarray(at + 2, at + 2 + purposeLength)));
    assert(purpose !== undefined, 'a packed verify names a known purpose');
    at += 2 + purposeLength;
    const messageLength = view.getUint32(at);
    const message = bytes.subarray(at + 4, at + 4 + messageLength);
    at += 4 + messageLength;
    assert(at <= bytes.length, 'a packed verify batch holds its jobs');
    jobs.push({ publicKey, purpose, message, signature });
  }
  assert(at === bytes.length, 'a packed verify batch holds nothing after its jobs');
  return jobs;
}
