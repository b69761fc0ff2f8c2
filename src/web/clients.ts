// The services' own typed clients (their api/ folders), pointed at the same-origin proxy
// (/api/<service>/…) with the signed-in key. The page decodes every answer with the same strict
// codecs the services' other clients use, and a refusal arrives as the service's typed error.
import { DcpClient } from '../dcp/api/client.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { MdsClient } from '../mds/api/client.ts';
import type { Credential, Keyring, ServiceName } from './keyring.ts';

/** A person waits for the page: fewer, shorter attempts than a service's own background calls. */
const callOptions = { timeoutMs: 8_000, attemptsMax: 2, backoffMs: 200 } as const;

function options(service: ServiceName, apiKey: string | undefined) {
  return {
    ...callOptions,
    baseUrl: `${window.location.origin}/api/${service}`,
    ...(apiKey === undefined ? {} : { apiKey }),
    // The browser's fetch must be called on the window, not as a method of the caller.
    fetch: window.fetch.bind(window),
  };
}

export const mdsClient = (credential: Credential) => new MdsClient(options('mds', credential.apiKey));
export const directoryClient = (credential?: Credential) =>
  new DirectoryClient(options('directory', credential?.apiKey));
export const ledgerClient = (credential: Credential) =>
  new LedgerClient({ ...options('ledger', undefined), apiKey: credential.apiKey });
export const dcpClient = (credential: Credential) =>
  new DcpClient(options(credential.service, credential.apiKey));

/** Checks a key with the service and answers who it is: the service's own word on name and role. */
export async function identify(service: ServiceName, apiKey: string): Promise<Credential> {
  const base = { service, apiKey };
  if (service === 'mds') {
    const me = await new MdsClient(options(service, apiKey)).whoAmI();
    return { ...base, role: me.role, name: me.name };
  }
  if (service === 'directory') {
    const me = await new DirectoryClient(options(service, apiKey)).whoAmI();
    return { ...base, role: me.role, name: me.name };
  }
  if (service === 'ledger') {
    const me = await new LedgerClient({ ...options(service, undefined), apiKey }).whoAmI();
    return { ...base, role: me.role, name: me.name };
  }
  // A DCP has no "who am I": its supply answers its operators and agents, and refuses anyone else.
  await new DcpClient(options(service, apiKey)).supply();
  return { ...base, role: 'operator', name: service };
}

/** What a refusal or failure says, for a person: the service's code and its message. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.startsWith(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

export function credentialFor(keyring: Keyring, service: ServiceName): Credential | undefined {
  return keyring.get(service);
}
