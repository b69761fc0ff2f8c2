// Strict decoder of `GET /v1/indicators` (docs/mds.md, "Indicators"), for `client.ts`: as in
// decode.ts, a field that does not decode names itself in `mdsAnswerInvalid`. A cell is either
// `{ suppressed: true }` or a value: a suppressed cell never becomes a zero on this side either.
import { answerDecoders, type Fields } from '../../http-client/answer-decode.ts';
import { mdsError } from './errors.ts';
import {
  indicatorBucketsMax,
  type IndicatorBin,
  type IndicatorBucket,
  type IndicatorCell,
  type IndicatorsReport,
} from './types.ts';

/** Bins one distribution holds at most (the MDS uses a handful). */
export const indicatorBinsMax = 64;

const { object, invalid, count, field } = answerDecoders((detail) => mdsError('mdsAnswerInvalid', detail));
const decimalPattern = /^(0|[1-9][0-9]{0,24})$/;

function decimal(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !decimalPattern.test(value)) throw invalid(path, 'a decimal string');
  return BigInt(value);
}

function cell(value: unknown, path: string): IndicatorCell {
  const f = object(value, path);
  if (f['suppressed'] === true) {
    if (Object.keys(f).length !== 1) throw invalid(path, 'a suppressed cell with no value');
    return { suppressed: true };
  }
  if (f['suppressed'] !== false) throw invalid(`${path}.suppressed`, 'true or false');
  return { suppressed: false, value: decimal(f['value'], `${path}.value`) };
}

function pair<Name extends string>(
  fields: Fields,
  name: string,
  path: string,
  names: readonly Name[],
): Record<Name, IndicatorCell> {
  const f = object(fields[name], `${path}.${name}`);
  const cells = {} as Record<Name, IndicatorCell>;
  for (const key of names) cells[key] = cell(f[key], `${path}.${name}.${key}`);
  return cells;
}

function bins(fields: Fields, name: string, path: string): readonly IndicatorBin[] {
  const value = fields[name];
  if (!Array.isArray(value) || value.length > indicatorBinsMax)
    throw invalid(`${path}.${name}`, `a list of at most ${indicatorBinsMax} bins`);
  return value.map((item: unknown, index) => {
    const where = `${path}.${name}[${index}]`;
    const bin = object(item, where);
    return {
      upTo: bin['upTo'] === null ? null : decimal(bin['upTo'], `${where}.upTo`),
      count: cell(bin['count'], `${where}.count`),
    };
  });
}

function bucket(value: unknown, path: string): IndicatorBucket {
  const f = object(value, path);
  return {
    startMs: count(f, 'startMs', path),
    endMs: count(f, 'endMs', path),
    offlineValueOutstanding: cell(f['offlineValueOutstanding'], `${path}.offlineValueOutstanding`),
    payments: pair(f, 'payments', path, ['count', 'value', 'average']),
    velocityPpm: cell(f['velocityPpm'], `${path}.velocityPpm`),
    generations: bins(f, 'generations', path),
    devices: pair(f, 'devices', path, ['card', 'phone']),
    renewalIntervalsMs: bins(f, 'renewalIntervalsMs', path),
    balances: bins(f, 'balances', path),
    fraud: pair(f, 'fraud', path, ['alerts', 'value']),
    recovery: pair(f, 'recovery', path, ['refunds', 'value']),
  };
}

export function decodeIndicatorsReport(value: unknown): IndicatorsReport {
  const f = object(value, 'answer');
  const buckets = field(value, 'buckets');
  if (!Array.isArray(buckets) || buckets.length > indicatorBucketsMax)
    throw invalid('answer.buckets', `a list of at most ${indicatorBucketsMax} buckets`);
  const secureElementsMin = count(f, 'secureElementsMin', 'answer');
  if (secureElementsMin < 1) throw invalid('answer.secureElementsMin', 'at least 1');
  return {
    secureElementsMin,
    bucketMs: count(f, 'bucketMs', 'answer'),
    buckets: buckets.map((item: unknown, index) => bucket(item, `answer.buckets[${index}]`)),
  };
}
