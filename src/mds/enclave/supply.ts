// Supply per DCP (docs/mds.md, "Supply and settlement"): what each DCP issued and retired by its own
// reports, and, by the attribution rule (attribution.ts), how much of all retired value each DCP's
// issuances back. Issued counts the credits a DCP reported queued and has not minted yet (its pool
// holds their value already: queued-credits.ts). Settlement rests on the difference:
//
//   attributed outstanding(d) = issued(d) − retiredBacked(d)
//   pool(d) after settlement  = issued(d) − retired(d) + settled(d) = attributed outstanding(d)
//   so settled(d)             = retired(d) − retiredBacked(d)
//
// which sums to zero over the DCPs (each retired token's attribution sums to its value). A token
// retired before the MDS ingested the upload that shows its history has no attribution yet: it is
// counted as backed by the DCP that retired it (it moves nothing) until that upload arrives, and the
// next settlement run moves it. Retired value that no DCP backs (made up by a compromised SE) is
// counted as backed by the DCP that retired it: that DCP bears the loss, no other pool owes it, and
// the settlements still sum to zero. Read in one transaction, so the figures are of one state.
import { assert } from '../../core/assert.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import type { Verifier } from '../../core/crypto.ts';
import { tokenIdOf } from '../../core/ids.ts';
import { issuanceFromCbor } from '../../core/issuance.ts';
import { transferFromCbor } from '../../core/transfer.ts';
import type { Executor } from '../../storage/database.ts';
import { columnBigint, columnText } from '../../storage/decode.ts';
import { mdsError } from '../api/errors.ts';
import type { EnclaveDcpSupply, EnclaveSupply } from '../channel/protocol.ts';
import {
  Attributor,
  addAttribution,
  unbackedBacker,
  type Producer,
  type TokenOrigin,
} from './attribution.ts';
import { queuedCredits } from './queued-credits.ts';
import type { EnclaveTables } from './store.ts';

/** Graph entries one supply computation loads at most; past it, `supplyGraphTooLarge`. */
export const supplyEntriesMax = 1_000_000;

/** Alert kinds whose value is value made up (created by fraud). */
const fraudKinds = ['fakeFunding', 'doubleSpend', 'counterReuse'] as const;

/** The graph as the attribution reads it, loaded from the entries and the reported issuances. */
interface LoadedGraph {
  readonly producers: Map<string, Producer>;
  readonly origins: Map<string, TokenOrigin>;
  /** Per DCP: the value of the issuances it reported. */
  readonly issued: Map<string, bigint>;
}

/** What the supply needs of recovery: per DCP of the payer, the value in flight and refunded. */
export interface RecoveryFigures {
  readonly inFlight: Map<string, bigint>;
  readonly refunded: Map<string, bigint>;
}

/** Recovery's figures (recovery.ts `recoveryFigures`), read in the supply's transaction. */
export type RecoveryFiguresReader = (tx: Executor) => Promise<RecoveryFigures>;

export async function computeSupply(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  recovery: RecoveryFiguresReader,
): Promise<EnclaveSupply> {
  const graph = await loadGraph(tx, tables, verifier);
  const attributor = new Attributor({
    origin: (tokenId) => graph.origins.get(tokenId),
    producer: (entryId) => graph.producers.get(entryId),
  });
  const retired = new Map<string, bigint>();
  const retiredBacked = new Map<string, bigint>();
  const retiredIds = new Set<string>();
  let unbackedRetired = 0n;
  for (const row of await tx.all(`SELECT token_id, dcp_id, value FROM ${tables.reportedRetirements}`)) {
    const tokenId = columnText(row, 'token_id');
    const dcpId = columnText(row, 'dcp_id');
    const value = columnBigint(row, 'value');
    retiredIds.add(tokenId);
    retired.set(dcpId, (retired.get(dcpId) ?? 0n) + value);
    const attribution = attributor.of(tokenId);
    const sum = attribution?.reduce((total, segment) => total + segment.amount, 0n);
    // A value that disagrees with the graph's is the DCP's error, not a backing: it moves nothing.
    const backing = sum === value && attribution ? attribution : [{ backer: dcpId, amount: value }];
    for (const segment of backing) {
      // Value no DCP backs stays the retiring DCP's loss (fraud, in createdByFraud): no pool owes it.
      if (segment.backer === unbackedBacker) unbackedRetired += segment.amount;
      const backer = segment.backer === unbackedBacker ? dcpId : segment.backer;
      addAttribution(retiredBacked, [{ backer, amount: segment.amount }]);
    }
  }
  const observed = await observedOffline(tx, tables, attributor, retiredIds);
  const figures = await recovery(tx);
  const queued = await queuedCredits(tx, tables);
  const dcpIds = new Set([
    ...graph.issued.keys(),
    ...queued.keys(),
    ...retired.keys(),
    ...retiredBacked.keys(),
    ...observed.keys(),
  ]);
  dcpIds.delete(unbackedBacker);
  for (const dcpId of [...figures.inFlight.keys(), ...figures.refunded.keys()]) dcpIds.add(dcpId);
  const dcps: EnclaveDcpSupply[] = [...dcpIds].sort().map((dcpId) => ({
    dcpId,
    // A queued credit is issued by its DCP until its issuance is reported (queued-credits.ts).
    issued: (graph.issued.get(dcpId) ?? 0n) + (queued.get(dcpId) ?? 0n),
    queued: queued.get(dcpId) ?? 0n,
    retired: retired.get(dcpId) ?? 0n,
    retiredBacked: retiredBacked.get(dcpId) ?? 0n,
    observedOffline: observed.get(dcpId) ?? 0n,
    inFlight: figures.inFlight.get(dcpId) ?? 0n,
    refunded: figures.refunded.get(dcpId) ?? 0n,
  }));
  return {
    dcps,
    unbackedObservedOffline: observed.get(unbackedBacker) ?? 0n,
    unbackedRetired,
    createdByFraud: await createdByFraud(tx, tables),
  };
}

async function loadGraph(tx: Executor, tables: EnclaveTables, verifier: Verifier): Promise<LoadedGraph> {
  const [count] = await tx.all(`SELECT COUNT(*) AS n FROM ${tables.entries}`);
  assert(count !== undefined, 'COUNT answers one row');
  if (columnBigint(count, 'n') > BigInt(supplyEntriesMax))
    throw mdsError('supplyGraphTooLarge', `the graph has more than ${supplyEntriesMax} entries`);
  const graph: LoadedGraph = { producers: new Map(), origins: new Map(), issued: new Map() };
  const add = (entryId: string, producer: Producer) => {
    graph.producers.set(entryId, producer);
    const id = hexOf(entryId);
    producer.outputs.forEach((_, outputIndex) =>
      graph.origins.set(toHex(tokenIdOf(verifier, id, outputIndex)), { entryId, outputIndex }),
    );
  };
  for (const row of await tx.all(`SELECT entry_id, kind, signer, backed, envelope FROM ${tables.entries}`)) {
    const envelope = decodeCbor(hexOf(columnText(row, 'envelope')));
    const entryId = columnText(row, 'entry_id');
    if (columnText(row, 'kind') === 'issuance') {
      const issuance = issuanceFromCbor(envelope);
      const backed = columnBigint(row, 'backed') === 1n;
      add(entryId, {
        kind: 'issuance',
        dcpId: backed ? columnText(row, 'signer') : null,
        outputs: issuance.body.outputs.map((output) => output.value),
      });
    } else {
      const transfer = transferFromCbor(envelope);
      add(entryId, {
        kind: 'transfer',
        inputs: transfer.body.inputs.map((input) => toHex(input)),
        outputs: transfer.body.outputs.map((output) => output.value),
      });
    }
  }
  // Reported issuances were checked as signed by their DCP (reports.ts): backed by it, uploaded or not.
  for (const row of await tx.all(`SELECT entry_id, dcp_id, envelope FROM ${tables.reportedIssuances}`)) {
    const dcpId = columnText(row, 'dcp_id');
    const outputs = issuanceFromCbor(decodeCbor(hexOf(columnText(row, 'envelope')))).body.outputs.map(
      (output) => output.value,
    );
    graph.issued.set(dcpId, (graph.issued.get(dcpId) ?? 0n) + outputs.reduce((a, b) => a + b, 0n));
    add(columnText(row, 'entry_id'), { kind: 'issuance', dcpId, outputs });
  }
  return graph;
}

/** Tokens the graph holds, neither spent by a transfer nor retired: their value by backer. */
async function observedOffline(
  tx: Executor,
  tables: EnclaveTables,
  attributor: Attributor,
  retiredIds: ReadonlySet<string>,
): Promise<Map<string, bigint>> {
  const totals = new Map<string, bigint>();
  const rows = await tx.all(
    `SELECT t.token_id FROM ${tables.tokens} t WHERE NOT EXISTS (SELECT 1 FROM ${tables.spends} s WHERE s.token_id = t.token_id)`,
  );
  for (const row of rows) {
    const tokenId = columnText(row, 'token_id');
    if (retiredIds.has(tokenId)) continue;
    const attribution = attributor.of(tokenId);
    if (attribution !== undefined) addAttribution(totals, attribution);
  }
  return totals;
}

async function createdByFraud(tx: Executor, tables: EnclaveTables): Promise<bigint> {
  const [row] = await tx.all(
    `SELECT COALESCE(SUM(value), 0) AS total FROM ${tables.alerts} WHERE kind IN (${fraudKinds.map(() => '?').join(', ')})`,
    [...fraudKinds],
  );
  assert(row !== undefined, 'SUM answers one row');
  return columnBigint(row, 'total');
}

function hexOf(hex: string): Uint8Array {
  const bytes = fromHex(hex);
  assert(bytes !== undefined, 'a stored envelope is hex');
  return bytes;
}
