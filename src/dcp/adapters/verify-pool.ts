// The `RequestVerifier` port over the process's verify workers (src/crypto/verify-pool.ts): a verify
// the pool could not run (too many waiting, or the DCP stopping) becomes `dcpVerifierUnavailable`
// (503, retry later), before anything was committed. How many workers: one per core but the one the
// event loop runs on, so the signature checks of requests run beside it; none on a single core (the
// checks then run inline, where a hand-off could only add cost).
import { availableParallelism } from 'node:os';
import type { Bytes } from '../../core/bytes.ts';
import type { Purpose } from '../../core/crypto.ts';
import { VerifyPool, VerifyPoolUnavailable, verifyPoolWorkersMax } from '../../crypto/verify-pool.ts';
import { dcpError } from '../api/errors.ts';
import type { RequestVerifier } from '../domain/ports.ts';

/** Verify workers by default: the cores beside the event loop's, within the pool's bound. */
export function defaultVerifyWorkers(): number {
  return Math.min(verifyPoolWorkersMax, availableParallelism() - 1);
}

export class PooledRequestVerifier implements RequestVerifier {
  constructor(private readonly pool: VerifyPool) {}

  async verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): Promise<boolean> {
    try {
      return await this.pool.verify(publicKey, purpose, message, signature);
    } catch (error) {
      if (error instanceof VerifyPoolUnavailable)
        throw dcpError('dcpVerifierUnavailable', `${error.reason}: ${error.message}`);
      throw error;
    }
  }
}
