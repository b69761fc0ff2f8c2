// The keys the person at the page signed in with, one per service, kept in the tab's sessionStorage
// (gone when the tab closes, never sent anywhere but to that service through the proxy). The page
// decides nothing with a key's role: it shows it, and each service answers or refuses as it would
// any caller of its API.
import { mdsRoles } from '../mds/api/types.ts';

/** `mds`, `directory`, `ledger` or `dcp-<name>`: the proxy's path segment for the service. */
export type ServiceName = string;

export interface Credential {
  readonly service: ServiceName;
  readonly apiKey: string;
  /** As the service answered it when the key was checked at sign-in. */
  readonly role: string;
  readonly name: string;
}

export type Keyring = ReadonlyMap<ServiceName, Credential>;

const storageKey = 'cbdc-dashboard-keyring';
/** Services one keyring holds at most (the central three and the DCPs). */
export const keyringServicesMax = 32;

function isCredential(value: unknown): value is Credential {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['service', 'apiKey', 'role', 'name'].every((name) => typeof record[name] === 'string');
}

export function loadKeyring(): Keyring {
  const text = sessionStorage.getItem(storageKey);
  if (text === null) return new Map();
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return new Map();
    const credentials = parsed.filter(isCredential).slice(0, keyringServicesMax);
    return new Map(credentials.map((credential) => [credential.service, credential]));
  } catch {
    return new Map();
  }
}

export function saveKeyring(keyring: Keyring): void {
  sessionStorage.setItem(storageKey, JSON.stringify([...keyring.values()]));
}

/** Whether the MDS key's role is one the MDS defines (it is, whenever the MDS answered it). */
export function isMdsRole(role: string): boolean {
  return (mdsRoles as readonly string[]).includes(role);
}
