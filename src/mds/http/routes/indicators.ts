// `GET /v1/indicators?fromMs=&toMs=&bucketMs=` (economists, operators; docs/mds.md, "Indicators"):
// figures per bucket of MDS ingest time, every cell over fewer than k SEs `{ "suppressed": true }`.
import { Type, type Static } from '@sinclair/typebox';
import { errorResponses, strict } from '../../../service-kit/schemas.ts';
import type { IndicatorBin, IndicatorBucket, IndicatorCell } from '../../channel/protocol.ts';
import { security, type MdsRoutes } from './routes.ts';

const Ms = Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'milliseconds since the epoch' });
const Cell = Type.Union([
  Type.Object({ suppressed: Type.Literal(true) }, strict),
  Type.Object(
    { suppressed: Type.Literal(false), value: Type.String({ pattern: '^(0|[1-9][0-9]{0,24})$' }) },
    strict,
  ),
]);
const Bins = Type.Array(Type.Object({ upTo: Type.Union([Type.String(), Type.Null()]), count: Cell }, strict));
const pair = (names: readonly string[]) =>
  Type.Object(Object.fromEntries(names.map((name) => [name, Cell])), strict);
const Bucket = Type.Object(
  {
    startMs: Type.Integer({ minimum: 0 }),
    endMs: Type.Integer({ minimum: 0 }),
    offlineValueOutstanding: Cell,
    payments: pair(['count', 'value', 'average']),
    velocityPpm: Cell,
    generations: Bins,
    devices: pair(['card', 'phone']),
    renewalIntervalsMs: Bins,
    balances: Bins,
    fraud: pair(['alerts', 'value']),
    recovery: pair(['refunds', 'value']),
  },
  strict,
);
const IndicatorsQuery = Type.Object({ fromMs: Ms, toMs: Ms, bucketMs: Ms }, strict);
const IndicatorsWire = Type.Object(
  {
    secureElementsMin: Type.Integer({ minimum: 1 }),
    bucketMs: Type.Integer({ minimum: 1 }),
    buckets: Type.Array(Bucket),
  },
  strict,
);

function cellWire(cell: IndicatorCell): Static<typeof Cell> {
  return cell.suppressed ? { suppressed: true } : { suppressed: false, value: cell.value.toString() };
}

function binsWire(bins: readonly IndicatorBin[]): Static<typeof Bins> {
  return bins.map((bin) => ({
    upTo: bin.upTo === null ? null : bin.upTo.toString(),
    count: cellWire(bin.count),
  }));
}

function bucketWire(bucket: IndicatorBucket) {
  return {
    startMs: bucket.startMs,
    endMs: bucket.endMs,
    offlineValueOutstanding: cellWire(bucket.offlineValueOutstanding),
    payments: {
      count: cellWire(bucket.payments.count),
      value: cellWire(bucket.payments.value),
      average: cellWire(bucket.payments.average),
    },
    velocityPpm: cellWire(bucket.velocityPpm),
    generations: binsWire(bucket.generations),
    devices: { card: cellWire(bucket.devices.card), phone: cellWire(bucket.devices.phone) },
    renewalIntervalsMs: binsWire(bucket.renewalIntervalsMs),
    balances: binsWire(bucket.balances),
    fraud: { alerts: cellWire(bucket.fraud.alerts), value: cellWire(bucket.fraud.value) },
    recovery: { refunds: cellWire(bucket.recovery.refunds), value: cellWire(bucket.recovery.value) },
  };
}

export function indicatorRoutes({ app, indicators, caller }: MdsRoutes): void {
  app.get(
    '/v1/indicators',
    {
      schema: {
        security,
        querystring: IndicatorsQuery,
        response: { 200: IndicatorsWire, ...errorResponses },
      },
    },
    async (request) => {
      const answer = await indicators.read(caller(request), {
        fromMs: Number(request.query.fromMs),
        toMs: Number(request.query.toMs),
        bucketMs: Number(request.query.bucketMs),
      });
      return { ...answer, buckets: answer.buckets.map(bucketWire) };
    },
  );
}
