// Audit (MDS role auditor): the hash-chained log of who read which alert's evidence, newest first,
// and whether the chain holds (docs/mds.md, "Audit"). Any other role gets the MDS's refusal.
import type { AuditEntry, AuditVerification } from '../../mds/api/types.ts';
import type { MdsClient } from '../../mds/api/client.ts';
import { mdsClient } from '../clients.ts';
import { formatTime, shortId } from '../format.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';
import { usePoll } from '../use-poll.ts';

export const auditRefreshMs = 3_000;
/** Pages of the log read per refresh: the page shows the newest entries of at most this many. */
export const auditPagesMax = 16;
/** Entries shown, newest first. */
export const auditEntriesShown = 100;

interface AuditView {
  readonly entries: readonly AuditEntry[];
  readonly verification: AuditVerification;
}

async function readAudit(client: MdsClient): Promise<AuditView> {
  let entries: AuditEntry[] = [];
  let after: string | undefined;
  for (let page = 0; page < auditPagesMax; page++) {
    const answer = await client.audit(after === undefined ? {} : { after });
    entries = [...entries, ...answer.entries].slice(-auditEntriesShown);
    if (answer.next === null) break;
    after = answer.next;
  }
  return { entries: entries.reverse(), verification: await client.auditVerify() };
}

export function Audit(props: { readonly keyring: Keyring }) {
  const credential = props.keyring.get('mds');
  const audit = usePoll(
    credential === undefined ? undefined : () => readAudit(mdsClient(credential)),
    auditRefreshMs,
    [credential],
  );
  const view = audit.value;
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      {credential === undefined ? <p class="hint">Sign in to the MDS as an auditor.</p> : null}
      {audit.failure === undefined ? null : <p role="alert">The MDS refused: {audit.failure}</p>}
      {view === undefined ? null : (
        <>
          <p class={view.verification.firstBroken === null ? 'pass' : 'fail'}>
            {view.verification.firstBroken === null
              ? `The chain holds over ${view.verification.entries} entries.`
              : `The chain is broken at entry #${view.verification.firstBroken}.`}
          </p>
          <table class="audit">
            <caption>Newest entries first</caption>
            <thead>
              <HeaderRow headings={['#', 'When', 'Participant', 'Role', 'Alert', 'Digest']} />
            </thead>
            <tbody>
              {view.entries.map((entry) => (
                <tr key={entry.sequence} data-sequence={entry.sequence} data-alert={entry.alertId}>
                  <th scope="row">{entry.sequence}</th>
                  <td>{formatTime(entry.atMs)}</td>
                  <td>{entry.participantId}</td>
                  <td>{entry.role}</td>
                  <td class="id" title={entry.alertId}>
                    {shortId(entry.alertId)}
                  </td>
                  <td class="id" title={entry.digest}>
                    {shortId(entry.digest)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
