// LOAD: stores value the DCP issued to this SE (DESIGN §7): a load, an online credit or a refund.
import { decodeCbor, encodeCbor, FieldReader } from '../../core/cbor.ts';
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import { coreError } from '../../core/errors.ts';
import { encodeEntry } from '../../core/bundle.ts';
import { issuanceFromCbor, type Issuance } from '../../core/issuance.ts';
import { identifyEntry, type IdentifiedEntry } from '../../core/validate-bundle.ts';
import {
  decodeRefused,
  encodeInstalled,
  encodeState,
  encodeToken,
  loadedIssuancesMax,
  recordKeys,
  recordPrefixes,
  type State,
  type TokenRecord,
} from '../records.ts';
import { Changes, type Personalised, type SecureElementView } from '../view.ts';
import { checkIssuance, ownIssuer } from './checks.ts';

/**
 * Checks an issuance from this SE's DCP paying only this SE and returns it identified with the
 * tokens it creates (generation 0, history = the issuance alone).
 */
export function acceptIssuance(
  se: SecureElementView,
  context: Personalised,
  issuance: Issuance,
): { entry: IdentifiedEntry; tokens: TokenRecord[] } {
  checkIssuance(se.platform.verifier, ownIssuer(context.anchors, context.config.certificate), issuance);
  for (const output of issuance.body.outputs) {
    if (!bytesEqual(output.owner, context.identity.seId)) throw coreError('issuanceNotForThisSecureElement');
  }
  const entry = identifyEntry(se.platform.verifier, { kind: 'issuance', signed: issuance });
  const tokens = entry.outputIds.map((id, index) => ({
    id,
    value: issuance.body.outputs[index]!.value,
    generation: 0,
    entryIds: [entry.id],
    locked: false,
  }));
  return { entry, tokens };
}

export function storeIssuedTokens(
  changes: Changes,
  entry: IdentifiedEntry,
  tokens: readonly TokenRecord[],
): void {
  // An issuance with no outputs (the renewal of a full unload) is no token's history: kept, it would
  // reach every later upload, whose ingest refuses an entry without outputs (historyIncomplete).
  if (tokens.length > 0) changes.put(recordKeys.entry(entry.id), encodeEntry(entry));
  for (const token of tokens) changes.put(recordKeys.token(token.id), encodeToken(token));
}

/** An issuance LOAD may install or REFUSE LOAD may refuse, after the checks both share. */
export interface LoadCandidate {
  readonly context: Personalised;
  readonly issuance: Issuance;
  readonly entry: IdentifiedEntry;
  readonly tokens: readonly TokenRecord[];
  readonly state: State;
  /** What the SE would hold with it. */
  readonly balance: bigint;
}

/**
 * Decodes `[issuance]` and checks it is this SE's own (not a renewal). Returns `installed` when it
 * is recorded as installed and the refusal bytes when it is recorded as refused; otherwise checks
 * staleness and room in the record, in that order, and returns the candidate.
 */
export function loadCandidate(
  se: SecureElementView,
  data: Bytes,
  instruction: string,
): LoadCandidate | { readonly installed: true } | { readonly refusal: Bytes } {
  const context = se.personalised();
  const issuance = issuanceFromCbor(new FieldReader(decodeCbor(data), instruction, 1).raw(0));
  if (issuance.body.kind === 'renewal')
    throw coreError('issuanceKindInvalid', 'a renewal is installed by COMPLETE SYNC');
  const { entry, tokens } = acceptIssuance(se, context, issuance);
  if (se.store.has(recordKeys.installed(entry.id))) return { installed: true };
  const refused = se.store.get(recordKeys.refused(entry.id));
  if (refused !== undefined) return { refusal: decodeRefused(refused).refusal };
  const state = se.state();
  if (issuance.body.time <= state.lastSyncTime)
    throw coreError('issuanceStale', 'issued before the last sync');
  const recorded = issuanceRecords(se);
  if (recorded >= loadedIssuancesMax)
    throw coreError('issuanceRecordFull', `${recorded} issuances installed or refused since the last sync`);
  const value = tokens.reduce((sum, token) => sum + token.value, 0n);
  return { context, issuance, entry, tokens, state, balance: state.balance + value };
}

/** Issuances recorded as installed or refused: both count against `installedIssuancesMax`. */
export function issuanceRecords(se: SecureElementView): number {
  return se.store.keys(recordPrefixes.installed).length + se.store.keys(recordPrefixes.refused).length;
}

/**
 * LOAD [issuance] → [balance]. Idempotent by issuance id: an issuance recorded as installed (by LOAD
 * or COMPLETE SYNC) is a no-op, one this SE refused is refused again (`issuanceRefused`: its value
 * went back to the wallet), and once a sync erased the record it is stale.
 */
export function load(se: SecureElementView, data: Bytes): Bytes {
  const candidate = loadCandidate(se, data, 'load');
  // Installed already (by LOAD or by COMPLETE SYNC): a no-op, so an issuance never pays twice.
  if ('installed' in candidate) return encodeCbor([se.state().balance]);
  if ('refusal' in candidate) throw coreError('issuanceRefused');
  const { context, issuance, entry, tokens, state, balance } = candidate;
  if (balance > context.limits.balanceMax) throw coreError('balanceLimitExceeded', `would hold ${balance}`);
  const changes = new Changes();
  storeIssuedTokens(changes, entry, tokens);
  changes
    .put(recordKeys.installed(entry.id), encodeInstalled(issuance.body.time))
    .put(
      recordKeys.state,
      encodeState({ ...state, balance, trustedTime: Math.max(state.trustedTime, issuance.body.time) }),
    );
  se.commit(changes);
  return encodeCbor([balance]);
}
