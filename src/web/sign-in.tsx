// Signing in: a service and an API key. The key is checked with that service (its own "who am I",
// or for a DCP its supply), which answers the key's role; a refused key is shown with the service's
// code and nothing is kept. One key per service: signing in again replaces it.
import { useState } from 'preact/hooks';
import { describeFailure, identify } from './clients.ts';
import type { DashboardDescription } from './description.ts';
import type { Credential, Keyring } from './keyring.ts';

export interface SignInProps {
  readonly description: DashboardDescription;
  readonly keyring: Keyring;
  readonly onSignIn: (credential: Credential) => void;
  readonly onSignOut: (service: string) => void;
}

function serviceChoices(description: DashboardDescription): readonly { value: string; label: string }[] {
  return [
    { value: 'mds', label: 'MDS (operator, analyst, economist, auditor)' },
    { value: 'directory', label: 'Directory (operator)' },
    { value: 'ledger', label: 'Core ledger (operator)' },
    ...description.dcps.map((dcp) => ({ value: `dcp-${dcp.name}`, label: `DCP ${dcp.name} (operator)` })),
  ];
}

export function SignIn(props: SignInProps) {
  const choices = serviceChoices(props.description);
  const [service, setService] = useState(choices[0]?.value ?? 'mds');
  const [apiKey, setApiKey] = useState('');
  const [message, setMessage] = useState('');
  const submit = async (event: Event) => {
    event.preventDefault();
    setMessage('Checking the key…');
    try {
      const credential = await identify(service, apiKey.trim());
      props.onSignIn(credential);
      setApiKey('');
      setMessage(`Signed in to ${service} as ${credential.role} (${credential.name}).`);
    } catch (error) {
      setMessage(`Refused: ${describeFailure(error)}`);
    }
  };
  return (
    <section aria-labelledby="sign-in-title" class="panel">
      <h2 id="sign-in-title">Sign in</h2>
      <form class="sign-in" onSubmit={(event) => void submit(event)}>
        <label for="sign-in-service">Service</label>
        <select
          id="sign-in-service"
          value={service}
          onChange={(event) => {
            setService(event.currentTarget.value);
          }}
        >
          {choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
        <label for="sign-in-key">API key</label>
        <input
          id="sign-in-key"
          type="password"
          autoComplete="off"
          required
          value={apiKey}
          onInput={(event) => {
            setApiKey(event.currentTarget.value);
          }}
        />
        <button type="submit">Sign in</button>
      </form>
      <p role="status" class="sign-in-message">
        {message}
      </p>
      <SignedIn keyring={props.keyring} onSignOut={props.onSignOut} />
    </section>
  );
}

function SignedIn(props: { readonly keyring: Keyring; readonly onSignOut: (service: string) => void }) {
  if (props.keyring.size === 0) return <p>Not signed in to any service.</p>;
  return (
    <ul class="signed-in" aria-label="Signed in">
      {[...props.keyring.values()].map((credential) => (
        <li key={credential.service}>
          <span>
            {credential.service}: <strong>{credential.role}</strong> ({credential.name})
          </span>{' '}
          <button
            type="button"
            onClick={() => {
              props.onSignOut(credential.service);
            }}
          >
            Sign out of {credential.service}
          </button>
        </li>
      ))}
    </ul>
  );
}
