// Indicators (MDS roles economist and operator): the economy's figures per time bucket, by MDS ingest
// time (docs/mds.md, "Indicators") — offline value outstanding, payments, velocity, the card/phone
// mix, fraud and recovery, and the distributions of hops, balances and renewal intervals. A cell over
// fewer than k distinct SEs is suppressed by the MDS: it is shown as suppressed, never as zero, and
// the k the MDS used is stated. No payment, no SE is ever shown.
import { useState } from 'preact/hooks';
import type { IndicatorBin, IndicatorCell, IndicatorsQuery, IndicatorsReport } from '../../mds/api/types.ts';
import { Chart, type ChartProps } from '../chart.tsx';
import { mdsClient } from '../clients.ts';
import { formatAmount, formatTime } from '../format.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { usePoll } from '../use-poll.ts';

export const indicatorsRefreshMs = 5_000;
/** Buckets asked for: the current one and those before it. */
export const bucketsShown = 24;
const bucketChoices = [
  { label: '1 minute', ms: 60_000 },
  { label: '10 minutes', ms: 600_000 },
  { label: '1 hour', ms: 3_600_000 },
] as const;

/** The `bucketsShown` whole buckets up to and including the current one. */
export function indicatorsQuery(nowMs: number, bucketMs: number): IndicatorsQuery {
  const toMs = (Math.floor(nowMs / bucketMs) + 1) * bucketMs;
  return { fromMs: toMs - bucketsShown * bucketMs, toMs, bucketMs };
}

const cellValue = (cell: IndicatorCell): number | null => (cell.suppressed ? null : Number(cell.value));

function Cell(props: { readonly cell: IndicatorCell; readonly k: number; readonly money?: boolean }) {
  if (props.cell.suppressed)
    return (
      <span class="suppressed" data-suppressed="true" title={`over fewer than ${props.k} distinct SEs`}>
        suppressed
      </span>
    );
  return <span>{props.money === true ? formatAmount(props.cell.value) : props.cell.value.toString()}</span>;
}

export function Indicators(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const [bucketMs, setBucketMs] = useState<number>(bucketChoices[0].ms);
  const report = usePoll<IndicatorsReport>(
    credential === undefined
      ? undefined
      : () => mdsClient(credential).indicators(indicatorsQuery(Date.now(), bucketMs)),
    indicatorsRefreshMs,
    [credential, bucketMs],
  );
  return (
    <section aria-labelledby="indicators-title">
      <h2 id="indicators-title">Indicators</h2>
      {credential === undefined ? <p class="hint">Sign in to the MDS as an economist or operator.</p> : null}
      <form
        class="search"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <label for="bucket-size">Bucket</label>
        <select
          id="bucket-size"
          value={bucketMs}
          onChange={(event) => {
            setBucketMs(Number(event.currentTarget.value));
          }}
        >
          {bucketChoices.map((choice) => (
            <option key={choice.ms} value={choice.ms}>
              {choice.label}
            </option>
          ))}
        </select>
      </form>
      {report.failure === undefined ? null : <p role="alert">The MDS refused: {report.failure}</p>}
      {report.value === undefined ? null : <IndicatorsView report={report.value} />}
    </section>
  );
}

function IndicatorsView(props: { readonly report: IndicatorsReport }) {
  const k = props.report.secureElementsMin;
  return (
    <div class="panel">
      <p data-k={k}>
        k = {k}: a figure over fewer than {k} distinct SEs is suppressed by the MDS, and shown here as
        suppressed, never as zero.
      </p>
      <IndicatorCharts report={props.report} />
      <BucketsTable report={props.report} />
      <LatestDistributions report={props.report} />
    </div>
  );
}

/** Payments per bucket and the card/phone mix, suppressed cells left as gaps. */
export function IndicatorCharts(props: { readonly report: IndicatorsReport }) {
  const buckets = props.report.buckets;
  const x = buckets.map((bucket) => bucket.startMs / 1000);
  const payments: ChartProps['data'] = [x, buckets.map((bucket) => cellValue(bucket.payments.count))];
  const mix: ChartProps['data'] = [
    x,
    buckets.map((bucket) => cellValue(bucket.devices.card)),
    buckets.map((bucket) => cellValue(bucket.devices.phone)),
  ];
  const suppressed = buckets.filter((bucket) => bucket.payments.count.suppressed).length;
  return (
    <>
      <Chart
        title="Payments per bucket"
        bars
        data={payments}
        series={[{ label: 'payments', color: '#1f5fbf' }]}
        summary={`${buckets.length} buckets, ${suppressed} of them suppressed for payments (k = ${props.report.secureElementsMin})`}
      />
      <Chart
        title="Card and phone mix of payments per bucket"
        bars
        data={mix}
        series={[
          { label: 'card', color: '#a35c00' },
          { label: 'phone', color: '#1e6b2c' },
        ]}
        summary="Payments made by cards and by phones, per bucket (gaps are suppressed cells)"
      />
    </>
  );
}

/** The Overview's live indicator charts (MDS operator or economist), by the minute. */
export function LiveIndicatorCharts(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const report = usePoll<IndicatorsReport>(
    credential === undefined
      ? undefined
      : () => mdsClient(credential).indicators(indicatorsQuery(Date.now(), bucketChoices[0].ms)),
    indicatorsRefreshMs,
    [credential],
  );
  if (credential === undefined) return null;
  return (
    <div class="panel" aria-labelledby="overview-indicators-title">
      <h3 id="overview-indicators-title">Payments by the minute</h3>
      {report.failure === undefined ? null : <p role="alert">The MDS refused: {report.failure}</p>}
      {report.value === undefined ? null : <IndicatorCharts report={report.value} />}
    </div>
  );
}

function BucketsTable(props: { readonly report: IndicatorsReport }) {
  const k = props.report.secureElementsMin;
  const headings = [
    'Bucket from',
    'Offline outstanding',
    'Payments',
    'Value',
    'Average',
    'Velocity (ppm)',
    'Cards',
    'Phones',
    'Fraud alerts',
    'Refunds',
  ];
  return (
    <table class="indicators">
      <caption>Per bucket, by MDS ingest time</caption>
      <thead>
        <HeaderRow headings={headings} />
      </thead>
      <tbody>
        {props.report.buckets.map((bucket) => (
          <tr key={bucket.startMs} data-bucket={bucket.startMs}>
            <th scope="row">{formatTime(bucket.startMs)}</th>
            <td>
              <Cell cell={bucket.offlineValueOutstanding} k={k} money />
            </td>
            <td data-cell="payments">
              <Cell cell={bucket.payments.count} k={k} />
            </td>
            <td>
              <Cell cell={bucket.payments.value} k={k} money />
            </td>
            <td>
              <Cell cell={bucket.payments.average} k={k} money />
            </td>
            <td>
              <Cell cell={bucket.velocityPpm} k={k} />
            </td>
            <td>
              <Cell cell={bucket.devices.card} k={k} />
            </td>
            <td>
              <Cell cell={bucket.devices.phone} k={k} />
            </td>
            <td>
              <Cell cell={bucket.fraud.alerts} k={k} />
            </td>
            <td>
              <Cell cell={bucket.recovery.refunds} k={k} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BinsTable(props: {
  readonly title: string;
  readonly bins: readonly IndicatorBin[];
  readonly k: number;
  readonly money?: boolean;
}) {
  let previous = '0';
  return (
    <table>
      <caption>{props.title}</caption>
      <thead>
        <HeaderRow headings={['Range', 'Count']} />
      </thead>
      <tbody>
        {props.bins.map((bin) => {
          const upTo =
            bin.upTo === null
              ? undefined
              : props.money === true
                ? formatAmount(bin.upTo)
                : bin.upTo.toString();
          const range = upTo === undefined ? `over ${previous}` : `${previous} to ${upTo}`;
          previous = upTo ?? previous;
          return (
            <tr key={range}>
              <th scope="row">{range}</th>
              <td>
                <Cell cell={bin.count} k={props.k} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function LatestDistributions(props: { readonly report: IndicatorsReport }) {
  const latest = props.report.buckets.at(-1);
  if (latest === undefined) return null;
  const k = props.report.secureElementsMin;
  return (
    <>
      <h3>Distributions in the bucket from {formatTime(latest.startMs)}</h3>
      <BinsTable title="Payments by hops from an issuance" bins={latest.generations} k={k} />
      <BinsTable title="Balances claimed at sync" bins={latest.balances} k={k} money />
      <BinsTable title="Time between an SE's syncs (ms)" bins={latest.renewalIntervalsMs} k={k} />
    </>
  );
}
