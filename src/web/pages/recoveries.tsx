// Recoveries (MDS roles operator and analyst): value in flight — payments a payer signed that no
// payee upload has yet shown delivered — and the refunds the MDS decided for those proven undelivered,
// with whether the payer's DCP executed them (docs/mds.md, "Recovery of value in flight").
import type { RecoveriesView } from '../../mds/api/types.ts';
import { mdsClient } from '../clients.ts';
import { formatAmount, formatTime } from '../format.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { usePoll } from '../use-poll.ts';

export const recoveriesRefreshMs = 3_000;

export function Recoveries(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const recoveries = usePoll<RecoveriesView>(
    credential === undefined ? undefined : () => mdsClient(credential).recoveries(),
    recoveriesRefreshMs,
    [credential],
  );
  const view = recoveries.value;
  return (
    <section aria-labelledby="recoveries-title">
      <h2 id="recoveries-title">Recoveries</h2>
      {credential === undefined ? <p class="hint">Sign in to the MDS as an operator or analyst.</p> : null}
      {recoveries.failure === undefined ? null : <p role="alert">The MDS refused: {recoveries.failure}</p>}
      {view === undefined ? null : (
        <>
          <dl class="figures">
            <dt>In flight</dt>
            <dd data-figure="in-flight">
              {view.inFlight.count} payments, {formatAmount(view.inFlight.value)}
            </dd>
            <dt>Refunds decided</dt>
            <dd data-figure="refunds-decided">
              {view.refunds.count}, {formatAmount(view.refunds.value)}
            </dd>
            <dt>Refunds executed</dt>
            <dd data-figure="refunds-executed">
              {view.refunds.executedCount}, {formatAmount(view.refunds.executedValue)}
            </dd>
          </dl>
          <InFlightTable view={view} />
          <RefundsTable view={view} />
        </>
      )}
    </section>
  );
}

function InFlightTable(props: { readonly view: RecoveriesView }) {
  const { transfers } = props.view.inFlight;
  if (transfers.length === 0) return <p>No payment is in flight.</p>;
  return (
    <table>
      <caption>Payments in flight, oldest first</caption>
      <thead>
        <HeaderRow headings={['Transfer', 'Payer SE', 'Value', 'In flight since']} />
      </thead>
      <tbody>
        {transfers.map((transfer) => (
          <tr key={transfer.transferId}>
            <td class="id">{transfer.transferId}</td>
            <td class="id">{transfer.payerSeId}</td>
            <td>{formatAmount(transfer.value)}</td>
            <td>{formatTime(transfer.sinceMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RefundsTable(props: { readonly view: RecoveriesView }) {
  const { decisions } = props.view.refunds;
  if (decisions.length === 0) return <p>No refund decided.</p>;
  return (
    <table>
      <caption>Refunds decided, newest first</caption>
      <thead>
        <HeaderRow headings={['Decision', 'Payer SE', 'Value', 'Decided', 'Executed']} />
      </thead>
      <tbody>
        {decisions.map((refund) => (
          <tr key={refund.decisionId} data-refund={refund.decisionId} data-payer={refund.payerSeId}>
            <td class="id">{refund.decisionId}</td>
            <td class="id">{refund.payerSeId}</td>
            <td data-value={refund.value.toString()}>{formatAmount(refund.value)}</td>
            <td>{formatTime(refund.decidedAtMs)}</td>
            <td data-executed={refund.executedAtMs === null ? 'no' : 'yes'}>
              {refund.executedAtMs === null ? 'not yet' : formatTime(refund.executedAtMs)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
