// The Overview's part from the MDS (roles operator, analyst): the offline money supply as the MDS
// reconciles it from the DCPs' reports and the uploads — issued, retired, outstanding, observed
// offline, in flight, refunded, created by fraud — and per DCP the pool on the ledger against the
// value outstanding its issuances back (attributed), with the last settlement run between the pools
// (docs/mds.md, "Supply and settlement"). After a settlement run each pool equals its attributed
// outstanding; between runs the difference is what crossed DCPs since.
import type { DashboardDescription } from '../description.ts';
import type { DcpSupply, SettlementsPage, SupplyReport } from '../../mds/api/types.ts';
import { mdsClient } from '../clients.ts';
import { formatAmount, formatTime } from '../format.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { usePoll } from '../use-poll.ts';

export const mdsSupplyRefreshMs = 2_000;

interface MdsSupplyView {
  readonly supply: SupplyReport;
  readonly settlements: SettlementsPage;
}

/**
 * The pool against its attributed outstanding: pass when equal, else the difference — expected
 * between settlement runs for value that crossed DCPs since, a failure right after one.
 */
export function attributionVerdict(dcp: DcpSupply): { readonly pass: boolean; readonly text: string } {
  if (dcp.poolBalance === null) return { pass: false, text: 'pool not read' };
  const difference = dcp.poolBalance - dcp.attributedOutstanding;
  return difference === 0n
    ? { pass: true, text: 'pass' }
    : { pass: false, text: `differs by ${formatAmount(difference)}` };
}

export function MdsSupply(props: { readonly keyring: Keyring; readonly description: DashboardDescription }) {
  const credential = props.keyring.get('mds');
  const view = usePoll<MdsSupplyView>(
    credential === undefined
      ? undefined
      : async () => {
          const client = mdsClient(credential);
          const [supply, settlements] = await Promise.all([client.supply(), client.settlements()]);
          return { supply, settlements };
        },
    mdsSupplyRefreshMs,
    [credential],
  );
  if (credential === undefined) return null;
  const value = view.value;
  return (
    <div class="panel" aria-labelledby="mds-supply-title">
      <h3 id="mds-supply-title">Supply as the MDS reconciles it</h3>
      {view.failure === undefined ? null : <p role="alert">The MDS refused: {view.failure}</p>}
      {value === undefined ? null : <SupplyFigures view={value} description={props.description} />}
    </div>
  );
}

function SupplyFigures(props: { readonly view: MdsSupplyView; readonly description: DashboardDescription }) {
  const { total, dcps } = props.view.supply;
  const figures: readonly (readonly [string, string, bigint])[] = [
    ['Issued', 'issued', total.issued],
    ['Retired', 'retired', total.retired],
    ['Outstanding', 'outstanding', total.outstanding],
    ['Observed offline', 'observed-offline', total.observedOffline],
    ['In flight', 'in-flight', total.inFlight],
    ['Refunded', 'refunded', total.refunded],
    ['Created by fraud', 'created-by-fraud', total.createdByFraud],
  ];
  const last = props.view.settlements.runs[0];
  const nameOf = (dcpId: string) => props.description.dcps.find((dcp) => dcp.dcpId === dcpId)?.name ?? dcpId;
  return (
    <>
      <dl class="figures">
        {figures.map(([label, name, amount]) => [
          <dt key={`${name}-label`}>{label}</dt>,
          <dd key={name} data-figure={name}>
            {formatAmount(amount)}
          </dd>,
        ])}
      </dl>
      <table>
        <caption>Per DCP: its pool on the ledger against the value outstanding its issuances back</caption>
        <thead>
          <HeaderRow
            headings={['DCP', 'Issued', 'Attributed outstanding', 'Pool on the ledger', 'Settled', 'Check']}
          />
        </thead>
        <tbody>
          {dcps.map((dcp) => {
            const verdict = attributionVerdict(dcp);
            return (
              <tr key={dcp.dcpId} data-attribution={nameOf(dcp.dcpId)}>
                <th scope="row">{nameOf(dcp.dcpId)}</th>
                <td>{formatAmount(dcp.issued)}</td>
                <td>{formatAmount(dcp.attributedOutstanding)}</td>
                <td>{dcp.poolBalance === null ? 'not read' : formatAmount(dcp.poolBalance)}</td>
                <td>{formatAmount(dcp.settled)}</td>
                <td class={verdict.pass ? 'pass' : 'fail'}>{verdict.text}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p data-figure="last-settlement">
        {last === undefined
          ? 'No settlement run yet.'
          : `Last settlement run: ${last.period}, ${last.state}, started ${formatTime(last.startedAtMs)}, ${last.transfers.length} ${last.transfers.length === 1 ? 'movement' : 'movements'}.`}
      </p>
    </>
  );
}
