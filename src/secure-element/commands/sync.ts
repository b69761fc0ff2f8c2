// BEGIN SYNC, COMPLETE SYNC, UPDATE LIMITS and UPDATE DENY LIST: the SE's online side (DESIGN §4, §7).
import type { Bytes } from '../../core/bytes.ts';
import { decodeCbor, encodeCbor, FieldReader } from '../../core/cbor.ts';
import { purposes } from '../../core/crypto.ts';
import { coreError } from '../../core/errors.ts';
import { idKey, nonceBytes } from '../../core/ids.ts';
import { claimBodyToCbor } from '../../core/claim.ts';
import { assert } from '../../core/assert.ts';
import { encodeUpload, uploadInfo } from '../../core/upload.ts';
import type { IdentifiedEntry } from '../../core/validate-bundle.ts';
import { issuanceFromCbor, type Issuance } from '../../core/issuance.ts';
import { signedLimitsFromCbor } from '../../core/limits.ts';
import { signedDenyListFromCbor } from '../../core/deny-list.ts';
import { signBody, signedToCbor } from '../../core/signed.ts';
import {
  claimedTokensMax,
  decodeInstalled,
  decodeRefused,
  encodeInstalled,
  encodeRefused,
  installedIssuancesMax,
  syncCreditsMax,
  encodeDenyListRecord,
  encodeIncoming,
  encodeLimitsRecord,
  encodeState,
  encodeToken,
  recordKeys,
  recordPrefixes,
  type SyncSession,
  type TokenRecord,
} from '../records.ts';
import { Changes, idFromKey, type Personalised, type SecureElementView } from '../view.ts';
import { checkDenyList, checkLimits, ownIssuer } from './checks.ts';
import { acceptIssuance, issuanceRecords, storeIssuedTokens } from './load.ts';
import { signLoadRefusal } from './refuse-load.ts';

/**
 * BEGIN SYNC [DCP nonce] → [signed claim, sealed upload]. Expires outstanding payment requests (the
 * upload reports them expired, which makes their payers refundable — DESIGN §8), locks every held
 * token until COMPLETE SYNC, and seals to the MDS everything done since the last sync.
 */
export function beginSync(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const dcpNonce = new FieldReader(decodeCbor(data), 'beginSync', 1).bytes(0, 'dcpNonce', nonceBytes);
  const state = se.state();
  const tokens = se.tokens();
  if (tokens.length > claimedTokensMax) throw coreError('storeFull', 'too many tokens for one claim');
  const changes = new Changes();
  const reportedKeys: string[] = [];
  const incoming = expireOutstanding(se, changes, reportedKeys);
  const outgoing = reportOutgoing(se, reportedKeys);
  const installed = se.store.keys(recordPrefixes.installed);
  reportedKeys.push(...installed);

  const upload = encodeUpload({
    seId: context.identity.seId,
    counter: state.counter,
    certificate: context.config.certificate,
    tokens: tokens.map((token) => ({ id: token.id, value: token.value, generation: token.generation })),
    entries: se.store.keys(recordPrefixes.entry).map((key) => se.entry(idFromKey(key))!),
    certificates: se.store.keys(recordPrefixes.certificate).map((key) => se.certificate(idFromKey(key))!),
    outgoing: outgoing.map(({ transferId, state, amount, bundle, receipt }) => ({
      transferId,
      state,
      amount,
      bundle,
      receipt,
    })),
    incoming: incoming.map(({ challenge, amount, state, transferId, receipt }) => {
      assert(state !== 'outstanding', 'BEGIN SYNC expired every outstanding request');
      return { challenge, amount, state, transferId, receipt };
    }),
    installed: installed.map(idFromKey),
    limitsVersion: context.limits.version,
    denyListVersion: context.denyList.body.version,
  });
  const sealed = se.platform.seal(
    context.config.mds.body.publicKey,
    uploadInfo,
    context.identity.seId,
    upload,
  );
  const claim = signBody(
    context.signer,
    purposes.claim,
    {
      seId: context.identity.seId,
      counter: state.counter,
      tokens: tokens.map((token) => ({ tokenId: token.id, value: token.value })),
      dcpNonce,
      uploadDigest: se.platform.verifier.sha256(sealed),
      lastSyncTime: state.lastSyncTime,
    },
    claimBodyToCbor,
  );
  const session: SyncSession = { dcpNonce, claimedTokenIds: tokens.map((token) => token.id), reportedKeys };
  for (const token of tokens)
    if (!token.locked) changes.put(recordKeys.token(token.id), encodeToken({ ...token, locked: true }));
  changes.put(recordKeys.state, encodeState({ ...state, session }));
  se.commit(changes);
  return encodeCbor([signedToCbor(claim), sealed]);
}

/**
 * Every payment request still outstanding becomes expired (the upload then reports it so, which makes
 * its payer refundable), and each request's key is reported for COMPLETE SYNC to erase.
 */
function expireOutstanding(se: SecureElementView, changes: Changes, reportedKeys: string[]) {
  return se.incomingAll().map((record) => {
    if (record.state === 'outstanding') {
      const expired = { ...record, state: 'expired' as const };
      changes
        .remove(recordKeys.incoming(record.challenge, 'outstanding'))
        .put(recordKeys.incoming(record.challenge, 'expired'), encodeIncoming(expired));
      record = expired;
    }
    reportedKeys.push(recordKeys.incoming(record.challenge, record.state));
    return record;
  });
}

/** Every payment signed since the last sync; the acknowledged ones' keys are reported for erasure. */
function reportOutgoing(se: SecureElementView, reportedKeys: string[]) {
  const outgoing = se.outgoingAll();
  for (const record of outgoing) {
    if (record.state === 'acknowledged')
      reportedKeys.push(recordKeys.outgoing(record.transferId, 'acknowledged'));
  }
  // A pending payment keeps its PAY index so that a re-tap still returns the same bundle.
  for (const key of se.store.keys(recordPrefixes.payIndex)) {
    const transferId = se.store.get(key)!;
    const record = se.outgoing(transferId);
    if (record === undefined || record.state === 'acknowledged') reportedKeys.push(key);
  }
  return outgoing;
}

/**
 * COMPLETE SYNC [renewal issuance, credits, [limits]?, [deny list]?] → [balance]. Installs the
 * renewal in place of exactly the claimed tokens, erases the history they covered and the records
 * the upload reported, stores credits and refunds, and installs newer limits and deny list.
 */
export function completeSync(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const state = se.state();
  const session = state.session;
  if (session === undefined) throw coreError('syncNotStarted');
  const r = new FieldReader(decodeCbor(data), 'completeSync', 4);
  const renewal = issuanceFromCbor(r.raw(0));
  const credits = r.array(1, 'credits', syncCreditsMax, (item) => issuanceFromCbor(item));
  const limits = r.array(2, 'limits', 1, (item) => signedLimitsFromCbor(item))[0];
  const denyList = r.array(3, 'denyList', 1, (item) => signedDenyListFromCbor(item))[0];

  const tokens = se.tokens();
  const claimed = checkRenewal(se, context, renewal, session, tokens);
  const changes = new Changes();
  const claimedKeys = new Set(session.claimedTokenIds.map(idKey));
  const kept = tokens.filter((token) => !claimedKeys.has(idKey(token.id)));
  const unclaimed = kept.length;
  let trustedTime = Math.max(state.trustedTime, renewal.body.time);
  const { entry: renewalEntry, tokens: renewed } = acceptIssuance(se, context, renewal);
  storeIssuedTokens(changes, renewalEntry, renewed);
  kept.push(...renewed);
  const fresh = newCredits(se, credits, state.lastSyncTime);
  const { installedCredits, refusedLoads } = installCredits(se, context, fresh, kept, changes);
  for (const credit of fresh) trustedTime = Math.max(trustedTime, credit.body.time);
  for (const token of claimed) changes.remove(recordKeys.token(token.id));
  removeUnneededEntries(se, kept, unclaimed, changes);
  removeUnneededCertificates(se, kept, changes);
  for (const key of session.reportedKeys) if (!key.startsWith(recordPrefixes.installed)) changes.remove(key);
  recordInstalled(se, session, renewal.body.time, installedCredits, refusedLoads, changes);
  if (limits !== undefined && limits.body.version > context.limits.version) {
    checkLimits(
      se.platform.verifier,
      ownIssuer(context.anchors, context.config.certificate),
      context.config.certificate,
      limits,
    );
    changes.put(recordKeys.limits, encodeLimitsRecord(limits));
    trustedTime = Math.max(trustedTime, limits.body.time);
  }
  if (denyList !== undefined && denyList.body.version > context.denyList.body.version) {
    checkDenyList(se.platform.verifier, context.config.directory, denyList);
    changes.put(recordKeys.denyList, encodeDenyListRecord(denyList));
    trustedTime = Math.max(trustedTime, denyList.body.time);
  }
  const balance = balanceOf(kept);
  changes.put(
    recordKeys.state,
    encodeState({
      ...state,
      balance,
      paymentsSinceSync: 0,
      trustedTime,
      lastSyncTime: renewal.body.time,
      session: undefined,
    }),
  );
  se.commit(changes);
  return encodeCbor([balance]);
}

/**
 * Every history entry no remaining token descends from goes: the claimed tokens' histories and those
 * of tokens spent since the last sync, all of which the upload reported. When no token but the ones
 * this sync issued remains (`unclaimed` 0), no entry stored unverified under lastHop remains either.
 */
function removeUnneededEntries(
  se: SecureElementView,
  kept: readonly TokenRecord[],
  unclaimed: number,
  changes: Changes,
): void {
  const needed = new Set(kept.flatMap((token) => token.entryIds.map(idKey)));
  for (const key of se.store.keys(recordPrefixes.entry)) {
    if (!needed.has(key.slice(recordPrefixes.entry.length))) changes.remove(key);
  }
  if (unclaimed === 0) changes.remove(recordKeys.unverifiedHistory);
}

/**
 * Keeps the record of installed issuances exact and bounded. The reported records the new last sync
 * time makes stale go: LOAD refuses and COMPLETE SYNC skips an issuance stamped no later than it
 * anyway. The credits installed now are recorded (the next upload reports them), so that a credit
 * stamped after the renewal is not installed again by LOAD. The renewal itself needs no record: its
 * time becomes the last sync time, and LOAD refuses renewals.
 */
function recordInstalled(
  se: SecureElementView,
  session: SyncSession,
  lastSyncTime: number,
  credits: readonly IdentifiedEntry[],
  refusedLoads: number,
  changes: Changes,
): void {
  let recorded = issuanceRecords(se) + refusedLoads;
  // A refusal stamped no later than the new last sync goes too: LOAD and this command refuse such
  // an issuance as stale from now on, so it can no more be installed than before.
  for (const key of se.store.keys(recordPrefixes.refused)) {
    if (decodeRefused(se.store.get(key)!).time > lastSyncTime) continue;
    changes.remove(key);
    recorded--;
  }
  for (const key of session.reportedKeys) {
    if (!key.startsWith(recordPrefixes.installed)) continue;
    const bytes = se.store.get(key);
    assert(bytes !== undefined, 'an installed record the upload reported is erased only by COMPLETE SYNC');
    if (decodeInstalled(bytes) > lastSyncTime) continue;
    changes.remove(key);
    recorded--;
  }
  for (const credit of credits) {
    changes.put(recordKeys.installed(credit.id), encodeInstalled(credit.signed.body.time));
    recorded++;
  }
  // Only a DCP stamping issuances after the renewal that comes with them keeps records past a sync.
  if (recorded > installedIssuancesMax)
    throw coreError('issuanceRecordFull', `${recorded} installed issuances would stay recorded`);
}

/** Stores the credits (and loads delivered again) beside `kept`, each installed or refused. */
function installCredits(
  se: SecureElementView,
  context: Personalised,
  credits: readonly Issuance[],
  kept: TokenRecord[],
  changes: Changes,
): { readonly installedCredits: IdentifiedEntry[]; readonly refusedLoads: number } {
  const installedCredits: IdentifiedEntry[] = [];
  let refusedLoads = 0;
  for (const issuance of credits) {
    if (issuance.body.kind === 'renewal')
      throw coreError('issuanceKindInvalid', 'a credit cannot be a renewal');
    const { entry, tokens } = acceptIssuance(se, context, issuance);
    if (refusedForBalance(context, issuance, entry, balanceOf(kept), balanceOf(tokens), changes)) {
      refusedLoads++;
      continue;
    }
    storeIssuedTokens(changes, entry, tokens);
    installedCredits.push(entry);
    kept.push(...tokens);
  }
  return { installedCredits, refusedLoads };
}

function balanceOf(tokens: readonly TokenRecord[]): bigint {
  return tokens.reduce((sum, token) => sum + token.value, 0n);
}

/**
 * A load the DCP delivered again with the renewal (it could otherwise go stale, docs/dcp.md) that the
 * SE cannot hold within its balance limit is refused here as REFUSE LOAD would refuse it: signed, and
 * recorded in this same commit, so the device app fetches the refusal with REFUSE LOAD afterwards
 * (it answers the recorded bytes) and the DCP returns the value to the wallet. Credits and refunds
 * are owed whatever the limit and are installed.
 */
function refusedForBalance(
  context: Personalised,
  issuance: Issuance,
  entry: IdentifiedEntry,
  held: bigint,
  value: bigint,
  changes: Changes,
): boolean {
  if (issuance.body.kind !== 'load' || held + value <= context.limits.balanceMax) return false;
  const refusal = signLoadRefusal(context, entry.id, held);
  changes.put(recordKeys.refused(entry.id), encodeRefused({ time: issuance.body.time, refusal }));
  return true;
}

/**
 * The credits to install: one LOAD stored since the last sync, one listed twice, one stamped no
 * later than the last sync (which delivered it, as LOAD's `issuanceStale` rule says) and one this SE
 * refused (REFUSE LOAD: its value went back to the wallet) are skipped, so a replayed credit never
 * pays twice and the balance stays the sum of the tokens held.
 */
function newCredits(se: SecureElementView, credits: readonly Issuance[], lastSyncTime: number): Issuance[] {
  const seen = new Set<string>();
  return credits.filter((credit) => {
    const id = se.platform.verifier.sha256(credit.bodyBytes);
    if (
      seen.has(idKey(id)) ||
      credit.body.time <= lastSyncTime ||
      se.store.has(recordKeys.installed(id)) ||
      se.store.has(recordKeys.refused(id))
    )
      return false;
    seen.add(idKey(id));
    return true;
  });
}

/** A renewal retires exactly the claimed tokens and pays back at most their value (the rest is unloaded). */
function checkRenewal(
  se: SecureElementView,
  context: Personalised,
  renewal: Issuance,
  session: SyncSession,
  tokens: readonly TokenRecord[],
): TokenRecord[] {
  if (renewal.body.kind !== 'renewal')
    throw coreError('issuanceKindInvalid', 'COMPLETE SYNC takes a renewal');
  const claimedKeys = new Set(session.claimedTokenIds.map(idKey));
  const retiredKeys = new Set(renewal.body.retiredTokenIds.map(idKey));
  if (retiredKeys.size !== claimedKeys.size || [...claimedKeys].some((key) => !retiredKeys.has(key))) {
    throw coreError('renewalMismatch', 'retired tokens differ from the claim');
  }
  acceptIssuance(se, context, renewal); // signature and owner
  const claimed = tokens.filter((token) => claimedKeys.has(idKey(token.id)));
  const claimedValue = claimed.reduce((sum, token) => sum + token.value, 0n);
  const renewedValue = renewal.body.outputs.reduce((sum, output) => sum + output.value, 0n);
  if (renewedValue > claimedValue)
    throw coreError('renewalMismatch', `renews ${renewedValue} for ${claimedValue} claimed`);
  return claimed;
}

/** Certificates are kept only for signers of transfers in the histories still held. */
function removeUnneededCertificates(
  se: SecureElementView,
  kept: readonly TokenRecord[],
  changes: Changes,
): void {
  const needed = new Set<string>();
  for (const token of kept) {
    for (const id of token.entryIds) {
      const entry = changes.map.has(recordKeys.entry(id)) ? undefined : se.entry(id);
      if (entry?.kind === 'transfer') needed.add(idKey(entry.signed.body.payerId));
    }
  }
  for (const key of se.store.keys(recordPrefixes.certificate)) {
    if (!needed.has(key.slice(recordPrefixes.certificate.length))) changes.remove(key);
  }
}

/** UPDATE LIMITS [signed limits]: installs newer limits from this SE's DCP. */
export function updateLimits(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const limits = signedLimitsFromCbor(new FieldReader(decodeCbor(data), 'updateLimits', 1).raw(0));
  checkLimits(
    se.platform.verifier,
    ownIssuer(context.anchors, context.config.certificate),
    context.config.certificate,
    limits,
  );
  if (limits.body.version <= context.limits.version)
    throw coreError('limitsVersionStale', `installed ${context.limits.version}`);
  const state = se.state();
  se.commit(
    new Changes()
      .put(recordKeys.limits, encodeLimitsRecord(limits))
      .put(
        recordKeys.state,
        encodeState({ ...state, trustedTime: Math.max(state.trustedTime, limits.body.time) }),
      ),
  );
  return new Uint8Array(0);
}

/** UPDATE DENY LIST [signed deny list]: installs a newer list from the directory. */
export function updateDenyList(se: SecureElementView, data: Bytes): Bytes {
  const context = se.personalised();
  const list = signedDenyListFromCbor(new FieldReader(decodeCbor(data), 'updateDenyList', 1).raw(0));
  checkDenyList(se.platform.verifier, context.config.directory, list);
  if (list.body.version <= context.denyList.body.version)
    throw coreError('denyListVersionStale', `installed ${context.denyList.body.version}`);
  const state = se.state();
  se.commit(
    new Changes()
      .put(recordKeys.denyList, encodeDenyListRecord(list))
      .put(
        recordKeys.state,
        encodeState({ ...state, trustedTime: Math.max(state.trustedTime, list.body.time) }),
      ),
  );
  return new Uint8Array(0);
}
