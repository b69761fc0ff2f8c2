// The directory's deny lists in the enclave (docs/mds.md, "Detectors", `revokedSigner`): the API
// process hands over each signed list it fetched from the directory; the enclave checks the
// directory's signature against trust.json, remembers for every denied SE the first list that named
// it (the smallest version seen, so any order of the same lists leaves the same rows), and raises
// `revokedSigner` for the SE's transfers dated at or after that list. Transfers merged later are
// judged at their ingest (`detect`), so either order of list and upload gives the same alert.
import { toHex, type Bytes } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { purposes, type Verifier } from '../../core/crypto.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../../core/deny-list.ts';
import { isCbdcError } from '../../core/errors.ts';
import { idKey } from '../../core/ids.ts';
import type { Database } from '../../storage/database.ts';
import { columnSafeInteger } from '../../storage/decode.ts';
import type { DenyListCounts } from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { lockAlertSequence, raiseAll, revokedSigners } from './detectors.ts';
import type { EnclaveTables } from './store.ts';

/** Decodes a signed deny list and checks it is the directory's; `denyListInvalid` otherwise. */
export function checkDenyList(verifier: Verifier, directory: Certificate, bytes: Bytes): SignedDenyList {
  let list: SignedDenyList;
  try {
    list = signedDenyListFromCbor(decodeCbor(bytes));
  } catch (error) {
    if (isCbdcError(error))
      throw mdsError('denyListInvalid', `the deny list does not decode: ${error.message}`);
    throw error;
  }
  const own =
    toHex(list.body.directoryId) === toHex(directory.body.subjectId) &&
    verifier.verify(directory.body.publicKey, purposes.denyList, list.bodyBytes, list.signature);
  if (!own) throw mdsError('denyListInvalid', 'the deny list is not signed by the directory of trust.json');
  return list;
}

export async function recordDenyList(
  db: Database,
  tables: EnclaveTables,
  verifier: Verifier,
  directory: Certificate,
  bytes: Bytes,
  nowMs: number,
): Promise<DenyListCounts> {
  const list = checkDenyList(verifier, directory, bytes);
  return db.transaction(async (tx) => {
    // The alert lock first, as ingest's detectors take it: of a list and an upload of the denied
    // SE's transfers recorded at once, the second to lock sees the first.
    const sequence = await lockAlertSequence(tx, tables);
    const changed: string[] = [];
    let denied = 0;
    for (const entry of list.body.entries) {
      const seId = idKey(entry);
      const rows = await tx.all(`SELECT list_version FROM ${tables.denials} WHERE se_id = ?${db.lockRows}`, [
        seId,
      ]);
      const held = rows[0];
      if (held === undefined) {
        await tx.run(`INSERT INTO ${tables.denials} (se_id, list_version, listed_at) VALUES (?, ?, ?)`, [
          seId,
          list.body.version,
          list.body.time,
        ]);
        denied++;
      } else if (columnSafeInteger(held, 'list_version') > list.body.version) {
        await tx.run(`UPDATE ${tables.denials} SET list_version = ?, listed_at = ? WHERE se_id = ?`, [
          list.body.version,
          list.body.time,
          seId,
        ]);
      } else continue;
      changed.push(seId);
    }
    const findings = await revokedSigners(tx, tables, changed.sort());
    await raiseAll(tx, tables, verifier, findings, sequence, nowMs);
    return { version: list.body.version, denied };
  });
}
