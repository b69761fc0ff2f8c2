// The indicators range rule, shared by the API process (which refuses a bad range before asking) and
// the enclave (which trusts no caller): whole buckets, at least one, at most indicatorBucketsMax.
import { mdsError } from '../api/errors.ts';
import { indicatorBucketsMax, type IndicatorsRequest } from './protocol.ts';

/** The number of buckets of `request`; `indicatorsRangeInvalid` if it has none, uneven ones or too many. */
export function checkIndicatorsRange(request: Omit<IndicatorsRequest, 'secureElementsMin'>): number {
  const span = request.toMs - request.fromMs;
  if (request.bucketMs <= 0 || span <= 0 || span % request.bucketMs !== 0)
    throw mdsError('indicatorsRangeInvalid', 'toMs − fromMs must be a positive multiple of bucketMs');
  const count = span / request.bucketMs;
  if (count > indicatorBucketsMax)
    throw mdsError('indicatorsRangeInvalid', `${count} buckets, at most ${indicatorBucketsMax}`);
  return count;
}
