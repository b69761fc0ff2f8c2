// Deny list versions (DESIGN §3, §8): the directory signs the full list of denied secure elements
// with core's structure and purpose, so an SE installs exactly what this makes.
import { compareBytes, fromHex, toHex } from '../../core/bytes.ts';
import { purposes, type Signer } from '../../core/crypto.ts';
import { denyListToCbor } from '../../core/deny-list.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { assert } from '../../core/assert.ts';
import type { PrincipalId } from '../../core/ids.ts';
import { denyListEntriesMax } from './limits.ts';
import type { DenyListDelta, DenyListVersion } from './types.ts';

export function signDenyList(
  signer: Signer,
  directoryId: PrincipalId,
  version: number,
  time: number,
  entries: readonly string[],
): DenyListVersion {
  assert(entries.length <= denyListEntriesMax, 'callers refuse lists above denyListEntriesMax');
  const ids = entries.map((entry) => {
    const id = fromHex(entry);
    assert(id !== undefined, 'entries are hex ids');
    return id;
  });
  // Sorted by id: one canonical list per set, so equal sets sign equal entries.
  ids.sort(compareBytes);
  const signed = signBody(
    signer,
    purposes.denyList,
    { directoryId, version, time, entries: ids },
    denyListToCbor,
  );
  return {
    version,
    time,
    directoryId: toHex(directoryId),
    entries: ids.map(toHex),
    signed: encodeSigned(signed),
  };
}

/** What changed from one version to another: added are in `to` only, removed in `from` only. */
export function denyListDelta(from: DenyListVersion, to: DenyListVersion): DenyListDelta {
  const before = new Set(from.entries);
  const after = new Set(to.entries);
  return {
    fromVersion: from.version,
    toVersion: to.version,
    added: to.entries.filter((id) => !before.has(id)),
    removed: from.entries.filter((id) => !after.has(id)),
  };
}
