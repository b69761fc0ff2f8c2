// Devices: one SE at a time, by its id, as the directory records it — status and its history, kind,
// DCP — and the directory's current signed deny list: its version and whether it names the SE. No
// payment of the SE is shown: the directory holds none (the MDS keeps the graph to itself).
import { useState } from 'preact/hooks';
import { toHex } from '../../core/bytes.ts';
import type { DirectoryDenyList, DirectorySecureElement } from '../../directory/api/client.ts';
import { describeFailure, directoryClient } from '../clients.ts';
import type { DashboardDescription } from '../description.ts';
import type { Keyring } from '../keyring.ts';
import { HeaderRow } from '../table.tsx';

interface Found {
  readonly secureElement: DirectorySecureElement;
  readonly denyList: DirectoryDenyList;
}

export function Devices(props: { readonly keyring: Keyring; readonly description: DashboardDescription }) {
  const credential = props.keyring.get('directory');
  const [seId, setSeId] = useState('');
  const [found, setFound] = useState<Found | undefined>(undefined);
  const [message, setMessage] = useState('');
  const search = async (event: Event) => {
    event.preventDefault();
    setFound(undefined);
    setMessage('Asking the directory…');
    try {
      const client = directoryClient(credential);
      const [secureElement, denyList] = await Promise.all([
        client.secureElement(seId.trim()),
        client.denyList(),
      ]);
      setFound({ secureElement, denyList });
      setMessage('');
    } catch (error) {
      setMessage(`The directory refused: ${describeFailure(error)}`);
    }
  };
  return (
    <section aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      {credential === undefined ? (
        <p class="hint">Sign in to the directory to look up a secure element.</p>
      ) : null}
      <form class="search" role="search" onSubmit={(event) => void search(event)}>
        <label for="device-se-id">SE id (32 hex digits)</label>
        <input
          id="device-se-id"
          value={seId}
          required
          onInput={(event) => {
            setSeId(event.currentTarget.value);
          }}
        />
        <button type="submit">Look up</button>
      </form>
      <p role="status">{message}</p>
      {found === undefined ? null : <DeviceRecord found={found} description={props.description} />}
    </section>
  );
}

function DeviceRecord(props: { readonly found: Found; readonly description: DashboardDescription }) {
  const { secureElement, denyList } = props.found;
  const dcp = props.description.dcps.find((item) => item.dcpId === secureElement.dcpId);
  const denied = denyList.signed.body.entries.some((entry) => toHex(entry) === secureElement.seId);
  return (
    <div class="panel device" data-se={secureElement.seId}>
      <dl class="figures">
        <dt>SE</dt>
        <dd class="id">{secureElement.seId}</dd>
        <dt>Status</dt>
        <dd data-field="status" class={`status-${secureElement.status}`}>
          {secureElement.status}
        </dd>
        <dt>Kind</dt>
        <dd data-field="kind">{secureElement.kind}</dd>
        <dt>DCP</dt>
        <dd data-field="dcp">{dcp === undefined ? secureElement.dcpId : `${dcp.name} (${dcp.dcpId})`}</dd>
        <dt>Registered</dt>
        <dd>{secureElement.registeredAt}</dd>
        <dt>Deny list</dt>
        <dd data-field="deny-list">
          version {denyList.version}: {denied ? 'names this SE' : 'does not name this SE'}
        </dd>
      </dl>
      <table>
        <caption>Status changes</caption>
        <thead>
          <HeaderRow headings={['When', 'Status', 'By', 'Reason']} />
        </thead>
        <tbody>
          {secureElement.history.map((change) => (
            <tr key={`${change.changedAt}-${change.status}`}>
              <td>{change.changedAt}</td>
              <td>{change.status}</td>
              <td>{change.changedBy}</td>
              <td>{change.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
