// Indicators for economists (docs/mds.md, "Indicators"): the enclave computes them and suppresses
// every cell over fewer than k distinct SEs before anything crosses; this side checks the role and
// the range, and states k in the answer. Economists see indicators and nothing else (rules.ts roles).
import { indicatorSecureElementsMinDefault } from '../api/types.ts';
import type { EnclavePort, IndicatorBucket } from '../channel/protocol.ts';
import { checkIndicatorsRange } from '../channel/indicator-range.ts';
import { requireRole } from './rules.ts';
import type { Participant } from './types.ts';

export interface IndicatorsAnswer {
  readonly secureElementsMin: number;
  readonly bucketMs: number;
  readonly buckets: readonly IndicatorBucket[];
}

export class Indicators {
  constructor(
    private readonly enclave: EnclavePort,
    /** k, a deployment setting. */
    readonly secureElementsMin: number = indicatorSecureElementsMinDefault,
  ) {}

  async read(
    caller: Participant,
    range: { readonly fromMs: number; readonly toMs: number; readonly bucketMs: number },
  ): Promise<IndicatorsAnswer> {
    requireRole(caller, ['economist', 'operator'], 'read indicators');
    checkIndicatorsRange(range);
    const buckets = await this.enclave.indicators({ ...range, secureElementsMin: this.secureElementsMin });
    return { secureElementsMin: this.secureElementsMin, bucketMs: range.bucketMs, buckets };
  }
}
