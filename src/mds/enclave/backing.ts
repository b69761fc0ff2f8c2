// Whether the tokens of a claim are backed (docs/mds.md, "Renewal check"; issue 9): the enclave's
// answer to a DCP's renewal check, read from the graph after the claim's own upload was ingested.
// Backed means, for every claimed token, in this order of reasons:
//
//   1. the claimer is not blamed by any alert                              (renewalClaimerBlamed)
//   2. no claimed token was retired at a DCP under another claim, nor
//      spent offline by the claimer                                         (renewalTokenRetired,
//                                                                             renewalDoubleSpent)
//   3. its ancestry, walked back through transfers (their inputs) and renewals (the tokens each
//      retired), ends in issuances a DCP issuer of trust.json signed and its DCP reported, and
//      every transfer on the way is signed by a certified SE                 (renewalTokenNotBacked,
//                                                                             renewalIssuanceUnreported,
//                                                                             renewalHistoryUnknown)
//   4. no ancestor token was spent twice: by two transfers, by a transfer and a claim (a DCP's
//      reported retirement, or any upload's claim covering it), by a renewal and a transfer, or
//      retired at two DCPs                                                  (renewalDoubleSpent)
//
// Rule 4 is where the policy applies: when the claimer is not the SE that spent the token twice
// (an honest payee further down), `honour` answers yes (`doubleSpendHonoured`: offline payments
// are final, the loss is the blamed SE's fraud) and `refuse` answers no. Signatures, certificate
// chains, conservation and generations were checked when each upload was ingested, so the walk
// reads only facts that are already verified.
//
// The walk is bounded (`backingTokensVisitedMax`). Renewals found backed are remembered (in memory,
// bounded): value once renewed on a yes is not walked again through its whole past.
import { decodeCbor } from '../../core/cbor.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { issuanceFromCbor } from '../../core/issuance.ts';
import type { ClaimedToken } from '../../core/claim.ts';
import type { DoubleSpendPolicy } from '../../core/renewal-verdict.ts';
import { assert } from '../../core/assert.ts';
import type { Executor } from '../../storage/database.ts';
import { columnBigint, columnText } from '../../storage/decode.ts';
import type { MdsErrorCode } from '../api/errors.ts';
import type { EnclaveTables } from './store.ts';

/** Tokens one check may visit; past it the answer is `renewalAncestryTooLarge`. */
export const backingTokensVisitedMax = 4096;
/** Renewal issuances remembered as backed (64 hex characters each: about 1 MB). */
export const backedRenewalsRememberedMax = 8192;

export type Backing =
  | { readonly backed: true; readonly reason: 'backed' | 'doubleSpendHonoured' }
  | { readonly backed: false; readonly reason: MdsErrorCode };

export interface BackingQuestion {
  /** The claiming SE (hex). */
  readonly seId: string;
  readonly tokens: readonly ClaimedToken[];
  /** The upload the claim binds: a retirement under this very claim is not "before". */
  readonly uploadDigest: string;
  readonly policy: DoubleSpendPolicy;
}

/** Renewal issuance ids found backed once; the oldest is forgotten first. */
export class BackedRenewals {
  readonly #ids = new Set<string>();
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    if (this.#ids.has(id)) return;
    if (this.#ids.size >= backedRenewalsRememberedMax) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    this.#ids.add(id);
  }
}

/** How the walk reached a token: as an input of a transfer, as retired by a DCP's renewal, or claimed. */
type Reached =
  | { readonly via: 'claim' }
  | { readonly via: 'transfer' }
  | { readonly via: 'renewal'; readonly dcpId: string };

class Refusal extends Error {
  constructor(readonly reason: MdsErrorCode) {
    super(reason);
  }
}

export async function decideBacking(
  tx: Executor,
  tables: EnclaveTables,
  question: BackingQuestion,
  remembered: BackedRenewals,
): Promise<Backing> {
  const walk = new Walk(tx, tables, question, remembered);
  try {
    await walk.run();
  } catch (error) {
    if (error instanceof Refusal) return { backed: false, reason: error.reason };
    throw error;
  }
  if (walk.honoured) return { backed: true, reason: 'doubleSpendHonoured' };
  for (const id of walk.renewals) remembered.add(id);
  return { backed: true, reason: 'backed' };
}

class Walk {
  honoured = false;
  readonly renewals: string[] = [];
  readonly #queue: { readonly tokenId: string; readonly reached: Reached }[] = [];
  readonly #tokens = new Set<string>();
  readonly #entries = new Set<string>();

  constructor(
    private readonly tx: Executor,
    private readonly tables: EnclaveTables,
    private readonly question: BackingQuestion,
    private readonly remembered: BackedRenewals,
  ) {}

  async run(): Promise<void> {
    const { seId, tokens } = this.question;
    if (
      (await this.tx.all(`SELECT id FROM ${this.tables.alerts} WHERE se_id = ? LIMIT 1`, [seId])).length > 0
    )
      throw new Refusal('renewalClaimerBlamed');
    for (const token of tokens) this.#enqueue(toHex(token.tokenId), { via: 'claim' });
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift())
      await this.#visit(next.tokenId, next.reached);
  }

  #enqueue(tokenId: string, reached: Reached): void {
    if (this.#tokens.has(tokenId)) return;
    if (this.#tokens.size >= backingTokensVisitedMax) throw new Refusal('renewalAncestryTooLarge');
    this.#tokens.add(tokenId);
    this.#queue.push({ tokenId, reached });
  }

  async #visit(tokenId: string, reached: Reached): Promise<void> {
    const row = (
      await this.tx.all(`SELECT owner, parent_entry FROM ${this.tables.tokens} WHERE token_id = ?`, [tokenId])
    )[0];
    // Claimed tokens and transfer inputs came in verified uploads; a renewal's may not have yet.
    if (row === undefined) throw new Refusal('renewalHistoryUnknown');
    await this.#checkSpends(tokenId, columnText(row, 'owner'), reached);
    const parent = columnText(row, 'parent_entry');
    if (this.#entries.has(parent)) return;
    this.#entries.add(parent);
    await this.#visitEntry(parent);
  }

  /** Rules 2 and 4: who spent or retired this token, and how often. */
  async #checkSpends(tokenId: string, owner: string, reached: Reached): Promise<void> {
    const spends = await this.tx.all(`SELECT transfer_id FROM ${this.tables.spends} WHERE token_id = ?`, [
      tokenId,
    ]);
    const retirements = await this.tx.all(
      `SELECT dcp_id, upload_digest FROM ${this.tables.reportedRetirements} WHERE token_id = ?`,
      [tokenId],
    );
    const retired = retirements[0];
    if (reached.via === 'claim') {
      if (retired !== undefined && columnText(retired, 'upload_digest') !== this.question.uploadDigest)
        throw new Refusal('renewalTokenRetired');
      if (spends.length > 0) throw new Refusal('renewalDoubleSpent');
      return;
    }
    if (reached.via === 'renewal') {
      // A token a renewal retired may be retired by that renewal's DCP alone, and spent by nobody.
      if ((retired !== undefined && columnText(retired, 'dcp_id') !== reached.dcpId) || spends.length > 0)
        this.#doubleSpent(owner);
      return;
    }
    // An input of a transfer: spent once, and never claimed online. A claim covering it (its upload
    // ingested by a renewal check or a worker) counts before the DCP's report of the retirement
    // arrives, so a check at DCP B sees a renewal at DCP A the moment A's check saw it.
    if (spends.length > 1 || retired !== undefined || (await this.#claimed(tokenId)))
      this.#doubleSpent(owner);
  }

  async #claimed(tokenId: string): Promise<boolean> {
    const rows = await this.tx.all(
      `SELECT upload_digest FROM ${this.tables.holdings} WHERE token_id = ? LIMIT 1`,
      [tokenId],
    );
    return rows.length > 0;
  }

  #doubleSpent(spender: string): void {
    if (spender === this.question.seId || this.question.policy === 'refuse')
      throw new Refusal('renewalDoubleSpent');
    this.honoured = true;
  }

  /** Rule 3: a transfer by a certified SE (walk its inputs) or a signed, reported issuance. */
  async #visitEntry(entryId: string): Promise<void> {
    const entry = (
      await this.tx.all(`SELECT kind, backed, envelope FROM ${this.tables.entries} WHERE entry_id = ?`, [
        entryId,
      ])
    )[0];
    assert(entry !== undefined, 'a token in the graph has its producing entry');
    if (columnBigint(entry, 'backed') !== 1n) throw new Refusal('renewalTokenNotBacked');
    if (columnText(entry, 'kind') === 'transfer') {
      for (const input of await this.tx.all(
        `SELECT token_id FROM ${this.tables.spends} WHERE transfer_id = ? ORDER BY token_id`,
        [entryId],
      ))
        this.#enqueue(columnText(input, 'token_id'), { via: 'transfer' });
      return;
    }
    const reported = await this.tx.all(
      `SELECT dcp_id FROM ${this.tables.reportedIssuances} WHERE entry_id = ?`,
      [entryId],
    );
    if (reported.length === 0) throw new Refusal('renewalIssuanceUnreported');
    const issuance = issuanceFromCbor(decodeCbor(envelopeBytes(columnText(entry, 'envelope'))));
    if (issuance.body.kind !== 'renewal' || this.remembered.has(entryId)) return;
    this.renewals.push(entryId);
    const dcpId = toHex(issuance.body.dcpId);
    for (const retired of issuance.body.retiredTokenIds)
      this.#enqueue(toHex(retired), { via: 'renewal', dcpId });
  }
}

function envelopeBytes(hex: string) {
  const bytes = fromHex(hex);
  assert(bytes !== undefined, 'a stored envelope is hex');
  return bytes;
}
