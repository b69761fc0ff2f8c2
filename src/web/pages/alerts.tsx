// Alerts (MDS roles analyst and operator): what the detectors raised — kind, the SE to blame, the
// value at stake, when, and the response's status — and for an analyst each alert's evidence. Opening
// the evidence is a read the MDS audits before it answers (docs/mds.md, "Alerts and evidence"): the
// detail view shows the audit entry that read appended. Any other role gets the MDS's refusal.
import { useState } from 'preact/hooks';
import type { AlertEvidence, MdsAlert } from '../../mds/api/types.ts';
import { mdsClient } from '../clients.ts';
import { formatAmount, formatTime, shortId } from '../format.ts';
import type { Credential, Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { usePoll } from '../use-poll.ts';

export const alertsRefreshMs = 3_000;

export function Alerts(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const alerts = usePoll(
    credential === undefined ? undefined : () => mdsClient(credential).listAlerts(),
    alertsRefreshMs,
    [credential],
  );
  const [opened, setOpened] = useState<string | undefined>(undefined);
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      {credential === undefined ? <p class="hint">Sign in to the MDS as an analyst or operator.</p> : null}
      {alerts.failure === undefined ? null : (
        <p role="alert" data-refusal="alerts">
          The MDS refused: {alerts.failure}
        </p>
      )}
      {alerts.value === undefined ? null : <AlertsTable alerts={alerts.value.alerts} onOpen={setOpened} />}
      {credential === undefined || opened === undefined ? null : (
        <EvidenceView
          key={opened}
          credential={credential}
          alertId={opened}
          onClose={() => {
            setOpened(undefined);
          }}
        />
      )}
    </section>
  );
}

function AlertsTable(props: { readonly alerts: readonly MdsAlert[]; readonly onOpen: (id: string) => void }) {
  if (props.alerts.length === 0) return <p>No alerts.</p>;
  return (
    <table class="alerts">
      <caption>Alerts, in the order the MDS first recorded them</caption>
      <thead>
        <HeaderRow headings={['Kind', 'Blamed SE', 'Value at stake', 'Raised', 'Status', 'Evidence']} />
      </thead>
      <tbody>
        {props.alerts.map((alert) => (
          <tr key={alert.id} data-alert={alert.id} data-kind={alert.kind}>
            <th scope="row">{alert.kind}</th>
            <td class="id" data-se={alert.seId} title={alert.seId}>
              {alert.seId}
            </td>
            <td data-value={alert.value.toString()}>{formatAmount(alert.value)}</td>
            <td>{formatTime(alert.raisedAtMs)}</td>
            <td class={`status-${alert.status}`}>{alert.status}</td>
            <td>
              <button
                type="button"
                onClick={() => {
                  props.onOpen(alert.id);
                }}
              >
                Open evidence ({alert.evidenceCount})
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EvidenceView(props: {
  readonly credential: Credential;
  readonly alertId: string;
  readonly onClose: () => void;
}) {
  // Read once per opening: every read is audited, so the page never reads it again by itself.
  const evidence = usePoll<AlertEvidence>(() => mdsClient(props.credential).evidence(props.alertId), 0, [
    props.alertId,
  ]);
  return (
    <section class="panel evidence" aria-labelledby="evidence-title" aria-live="polite">
      <h3 id="evidence-title">Evidence of alert {shortId(props.alertId)}</h3>
      {evidence.failure === undefined ? null : <p role="alert">The MDS refused: {evidence.failure}</p>}
      {evidence.value === undefined ? (
        evidence.failure === undefined ? (
          <p>Reading the evidence (the MDS audits this read)…</p>
        ) : null
      ) : (
        <EvidenceList evidence={evidence.value} />
      )}
      <button type="button" onClick={props.onClose}>
        Close the evidence
      </button>
    </section>
  );
}

function EvidenceList(props: { readonly evidence: AlertEvidence }) {
  const { alert, evidence, auditSequence } = props.evidence;
  return (
    <>
      <p class="audit-note" data-audit-sequence={auditSequence}>
        This read was written to the MDS audit log as entry #{auditSequence}.
      </p>
      <p>
        {alert.kind} blamed on <span class="id">{alert.seId}</span>, {formatAmount(alert.value)} at stake,
        status {alert.status}.
      </p>
      <ol class="evidence-items">
        {evidence.map((item) => (
          <li key={item.entryId}>
            {item.kind}{' '}
            <span class="id" title={item.entryId}>
              {item.entryId}
            </span>{' '}
            ({item.entry.length} bytes signed)
          </li>
        ))}
      </ol>
    </>
  );
}
