// The DCPs' cleartext reports (docs/mds.md, "Enclave"): every issuance a DCP signed, every token it
// retired, and every credit it queued with the issuances that minted them (queued-credits.ts). All items of one report are checked before any is written, so a refused report
// changes nothing; an item already recorded identically is not counted again.
import { toHex } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { purposes, type Verifier } from '../../core/crypto.ts';
import { issuanceFromCbor } from '../../core/issuance.ts';
import { idKey } from '../../core/ids.ts';
import { encodeSigned } from '../../core/signed.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import type { Database, Executor } from '../../storage/database.ts';
import { columnBigint, columnSafeInteger, columnText } from '../../storage/decode.ts';
import {
  reportItemsMax,
  type RecordReportsRequest,
  type ReportCounts,
  type ReportedRetirement,
} from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { detectRetired } from './detectors.ts';
import { checkMints, recordCredit, recordMint, type MintingIssuance } from './queued-credits.ts';
import type { EnclaveTables } from './store.ts';

interface ReportedIssuance extends MintingIssuance {
  readonly envelope: string;
}

/** Decodes and checks every reported issuance: it must be signed by the reporting DCP's issuer key. */
function checkIssuances(
  verifier: Verifier,
  anchors: TrustAnchors,
  request: RecordReportsRequest,
): ReportedIssuance[] {
  const issuer = anchors.dcpIssuers.get(request.dcpId);
  return request.issuances.map((bytes, index) => {
    const issuance = issuanceFromCbor(decodeCbor(bytes));
    const own =
      issuer !== undefined &&
      idKey(issuance.body.dcpId) === request.dcpId &&
      verifier.verify(issuer.body.publicKey, purposes.issuance, issuance.bodyBytes, issuance.signature);
    if (!own) throw mdsError('issuanceNotOwn', `issuances[${index}] is not signed by DCP ${request.dcpId}`);
    const owner = issuance.body.outputs[0]?.owner;
    return {
      entryId: toHex(verifier.sha256(issuance.bodyBytes)),
      envelope: toHex(encodeSigned(issuance)),
      kind: issuance.body.kind,
      seId: owner === undefined ? '' : toHex(owner),
    };
  });
}

export async function recordReports(
  db: Database,
  tables: EnclaveTables,
  verifier: Verifier,
  anchors: TrustAnchors,
  request: RecordReportsRequest,
  nowMs: number,
): Promise<ReportCounts> {
  const credits = request.credits ?? [];
  const lists = [request.issuances, request.retirements, credits, request.mints ?? []];
  if (lists.some((items) => items.length > reportItemsMax))
    throw mdsError(
      'reportItemsLimitExceeded',
      `at most ${reportItemsMax} issuances, retirements, credits and mints each`,
    );
  const issuances = checkIssuances(verifier, anchors, request);
  const mints = checkMints(request.mints ?? [], issuances);
  return db.transaction(async (tx) => {
    let issuanceCount = 0;
    let retirementCount = 0;
    // The mints first: an issuance and the credits it minted are recorded together, or neither.
    for (const mint of mints) await recordMint(tx, tables, request.dcpId, mint, nowMs);
    for (const credit of credits) await recordCredit(tx, tables, request.dcpId, credit, nowMs);
    for (const issuance of issuances) {
      const rows = await tx.all(
        `SELECT envelope FROM ${tables.reportedIssuances} WHERE entry_id = ?${db.lockRows}`,
        [issuance.entryId],
      );
      const held = rows[0];
      if (held !== undefined) {
        if (columnText(held, 'envelope') !== issuance.envelope)
          throw mdsError('reportConflict', `issuance ${issuance.entryId} is recorded with another signature`);
        continue;
      }
      const inserted = await tx.run(
        `INSERT INTO ${tables.reportedIssuances} (entry_id, dcp_id, envelope, reported_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (entry_id) DO NOTHING`,
        [issuance.entryId, request.dcpId, issuance.envelope, nowMs],
      );
      issuanceCount += inserted;
    }
    for (const retirement of request.retirements)
      retirementCount += await recordRetirement(tx, tables, request.dcpId, retirement, nowMs);
    if (retirementCount > 0)
      await detectRetired(
        tx,
        tables,
        verifier,
        request.retirements.map((retirement) => retirement.tokenId),
        nowMs,
      );
    return { issuances: issuanceCount, retirements: retirementCount };
  });
}

/** Records one retirement: 1 when new, 0 when recorded identically; `reportConflict` otherwise. */
async function recordRetirement(
  tx: Executor,
  tables: EnclaveTables,
  dcpId: string,
  retirement: ReportedRetirement,
  nowMs: number,
): Promise<number> {
  const rows = await tx.all(
    `SELECT * FROM ${tables.reportedRetirements} WHERE token_id = ?${tx.engine === 'postgres' ? ' FOR UPDATE' : ''}`,
    [retirement.tokenId],
  );
  const held = rows[0];
  if (held !== undefined) {
    const same =
      columnText(held, 'dcp_id') === dcpId &&
      columnBigint(held, 'value') === retirement.value &&
      columnText(held, 'se_id') === retirement.seId &&
      columnText(held, 'upload_digest') === retirement.uploadDigest &&
      columnSafeInteger(held, 'retired_at_ms') === retirement.retiredAtMs;
    if (!same)
      throw mdsError('reportConflict', `retirement of ${retirement.tokenId} is recorded with other content`);
    return 0;
  }
  return tx.run(
    `INSERT INTO ${tables.reportedRetirements} (token_id, dcp_id, value, se_id, upload_digest, retired_at_ms, reported_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_id) DO NOTHING`,
    [
      retirement.tokenId,
      dcpId,
      retirement.value,
      retirement.seId,
      retirement.uploadDigest,
      retirement.retiredAtMs,
      nowMs,
    ],
  );
}
