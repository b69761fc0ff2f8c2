// Overview: what each DCP the person signed in to reports of its supply — issued, retired,
// outstanding, its pool on the core ledger, what settlement between pools moved, and whether the pool
// invariant (pool = issued − retired + settled, docs/dcp.md "Invariant") holds — and, with an MDS operator's key, the MDS's uploads and alerts, as live charts.
import { useRef } from 'preact/hooks';
import type { DcpSupply } from '../../dcp/api/types.ts';
import type { MdsStatus } from '../../mds/api/types.ts';
import { Chart, type ChartProps } from '../chart.tsx';
import { dcpClient, mdsClient } from '../clients.ts';
import type { DashboardDescription } from '../description.ts';
import { chartUnits, formatAmount } from '../format.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { LiveIndicatorCharts } from './indicators.tsx';
import { MdsSupply } from './overview-supply.tsx';
import { usePoll } from '../use-poll.ts';

/** How often the figures are read again. */
export const overviewRefreshMs = 2_000;
/** Samples a live chart keeps (at the refresh above, the last ten minutes). */
export const chartSamplesMax = 300;

const palette = ['#1f5fbf', '#b3261e', '#1e7d32', '#7a4fb0', '#a35c00', '#00707a'];

interface Props {
  readonly keyring: Keyring;
  readonly description: DashboardDescription;
}

type Supplies = ReadonlyMap<string, DcpSupply>;

/** Keeps the last `chartSamplesMax` samples of a polled figure, one per answered load. */
function useHistory<T>(value: T | undefined, loads: number): readonly { at: number; value: T }[] {
  const history = useRef<{ at: number; value: T }[]>([]);
  const seen = useRef(0);
  if (value !== undefined && loads !== seen.current) {
    seen.current = loads;
    history.current = [...history.current, { at: Date.now() / 1000, value }].slice(-chartSamplesMax);
  }
  return history.current;
}

export function Overview(props: Props) {
  const signedDcps = props.description.dcps.filter((dcp) => props.keyring.has(`dcp-${dcp.name}`));
  const supplies = usePoll<Supplies>(
    signedDcps.length === 0
      ? undefined
      : async () => {
          const answers = await Promise.all(
            signedDcps.map(async (dcp) => {
              const credential = props.keyring.get(`dcp-${dcp.name}`);
              return credential === undefined
                ? undefined
                : ([dcp.name, await dcpClient(credential).supply()] as const);
            }),
          );
          return new Map(answers.filter((answer) => answer !== undefined));
        },
    overviewRefreshMs,
    [props.keyring],
  );
  const history = useHistory(supplies.value, supplies.loads);
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      {signedDcps.length === 0 ? (
        <p class="hint">Sign in to a DCP as its operator to see its supply.</p>
      ) : (
        <SupplySection supplies={supplies.value} failure={supplies.failure} history={history} />
      )}
      <MdsSupply keyring={props.keyring} description={props.description} />
      <MdsSection keyring={props.keyring} />
      <LiveIndicatorCharts keyring={props.keyring} />
    </section>
  );
}

function SupplySection(props: {
  readonly supplies: Supplies | undefined;
  readonly failure: string | undefined;
  readonly history: readonly { at: number; value: Supplies }[];
}) {
  const names = props.supplies === undefined ? [] : [...props.supplies.keys()];
  const data: ChartProps['data'] = [
    props.history.map((sample) => sample.at),
    ...names.map((name) =>
      props.history.map((sample) => chartUnits(sample.value.get(name)?.outstanding ?? 0n)),
    ),
  ];
  return (
    <div class="panel">
      {props.failure === undefined ? null : <p role="alert">{props.failure}</p>}
      {props.supplies === undefined ? <p>Loading supply…</p> : <SupplyTable supplies={props.supplies} />}
      {names.length === 0 ? null : (
        <Chart
          title="Offline value outstanding per DCP (XTS), live"
          data={data}
          series={names.map((name, index) => ({
            label: name,
            color: palette[index % palette.length] ?? '#000',
          }))}
          summary={names
            .map(
              (name) => `${name}: ${formatAmount(props.supplies?.get(name)?.outstanding ?? 0n)} outstanding`,
            )
            .join('; ')}
        />
      )}
    </div>
  );
}

/**
 * The pool invariant as a person reads it: pool − (issued − retired + settled) is zero, or the
 * amounts of the ledger calls in flight, or it is broken.
 */
export function poolVerdict(supply: DcpSupply): { readonly pass: boolean; readonly text: string } {
  const difference = supply.poolBalance - (supply.issued - supply.retired + supply.settled);
  if (difference === 0n) return { pass: true, text: 'pass' };
  // Between an outbox step's ledger call and its commit the difference is the open operations'.
  if (supply.inFlight !== 0n && difference === supply.inFlight)
    return { pass: true, text: `pass (${formatAmount(difference)} in flight to the ledger)` };
  return { pass: false, text: `FAIL: pool differs by ${formatAmount(difference)}` };
}

function SupplyTable(props: { readonly supplies: Supplies }) {
  return (
    <table>
      <caption>Supply per DCP (from each DCP's own records and its pool on the core ledger)</caption>
      <thead>
        <HeaderRow
          headings={[
            'DCP',
            'Issued',
            'Retired',
            'Outstanding',
            'Pool on the ledger',
            'Settled between pools',
            'Ledger calls in flight',
            'Pool check',
          ]}
        />
      </thead>
      <tbody>
        {[...props.supplies].map(([name, supply]) => {
          const verdict = poolVerdict(supply);
          return (
            <tr key={name} data-dcp={name}>
              <th scope="row">{name}</th>
              <td>{formatAmount(supply.issued)}</td>
              <td>{formatAmount(supply.retired)}</td>
              <td>{formatAmount(supply.outstanding)}</td>
              <td>{formatAmount(supply.poolBalance)}</td>
              <td>{formatAmount(supply.settled)}</td>
              <td>{formatAmount(supply.inFlight)}</td>
              <td class={verdict.pass ? 'pass' : 'fail'}>{verdict.text}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function MdsSection(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const status = usePoll<MdsStatus>(
    credential === undefined ? undefined : () => mdsClient(credential).status(),
    overviewRefreshMs,
    [credential],
  );
  const history = useHistory(status.value, status.loads);
  if (credential === undefined)
    return <p class="hint">Sign in to the MDS as its operator to see uploads and alerts.</p>;
  const alertsOf = (value: MdsStatus, state: 'open' | 'confirmed' | 'revoked') =>
    Object.values(value.alerts).reduce((sum, byStatus) => sum + byStatus[state], 0);
  const data: ChartProps['data'] = [
    history.map((sample) => sample.at),
    history.map((sample) => sample.value.uploads.ingested),
    history.map((sample) => sample.value.uploads.refused),
    history.map((sample) => alertsOf(sample.value, 'revoked') + alertsOf(sample.value, 'confirmed')),
  ];
  const value = status.value;
  return (
    <div class="panel" aria-labelledby="mds-status-title">
      <h3 id="mds-status-title">The MDS</h3>
      {status.failure === undefined ? null : <p role="alert">The MDS refused: {status.failure}</p>}
      {value === undefined ? null : (
        <>
          <dl class="figures">
            <dt>Uploads ingested</dt>
            <dd data-figure="uploads-ingested">{value.uploads.ingested}</dd>
            <dt>Uploads waiting</dt>
            <dd>{value.uploads.stored}</dd>
            <dt>Uploads refused</dt>
            <dd>{value.uploads.refused}</dd>
            <dt>Alerts open / confirmed / revoked</dt>
            <dd>
              {alertsOf(value, 'open')} / {alertsOf(value, 'confirmed')} / {alertsOf(value, 'revoked')}
            </dd>
          </dl>
          <Chart
            title="Uploads and alerts at the MDS, live"
            data={data}
            series={[
              { label: 'ingested', color: '#1f5fbf' },
              { label: 'refused', color: '#a35c00' },
              { label: 'alerts acted on', color: '#b3261e' },
            ]}
            summary={`${value.uploads.ingested} uploads ingested, ${value.uploads.refused} refused, ${alertsOf(value, 'revoked')} alerts with the SE revoked`}
          />
        </>
      )}
    </div>
  );
}
