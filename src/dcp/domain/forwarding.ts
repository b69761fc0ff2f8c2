// The MDS forwarding (DESIGN §7: "forwards the sealed upload to the MDS through a durable outbox";
// docs/dcp.md, "Forwarding to the MDS"). A renewal, unload or transfer only stores its sealed upload
// and the SE's claim in `dcp_uploads`, in its own commit; this pass, run periodically beside the
// operations (never in a request), delivers them to the MDS, and reports in cleartext every issuance
// the DCP minted (a credit or refund issuance naming the queued credits it minted), every token it
// retired and every credit it queued and has not minted yet (its value is in the pool already). The
// MDS being down therefore never fails an operation.
//
//   upload:     pending --MDS acknowledged (202)--> forwarded
//               pending --MDS refused the content (4xx)--> refused   (kept with its code, counted)
//               pending --no answer--> pending, attempts + 1, next attempt after a backoff
//               (a row from before migration 4 has no claim: unforwardable, counted)
//   issuance,
//   retirement,
//   queued credit: pending --in a report the MDS acknowledged--> reported
//               pending --refused alone--> refused   (a refused batch is halved until the item is found)
//
// A row is marked only after the MDS acknowledged it, so a crash between the two posts it again; the
// MDS answers the same upload and the same report items the same (idempotent by content, and under
// the same idempotency key, made from the content). An upload that is not acknowledged waits its own
// doubling backoff and the pass goes on with the next one, so one upload the MDS keeps failing on
// never holds back the ones behind it; two failures in a row mean the MDS is down: the pass stops
// and the next passes wait a doubling backoff too.
import { AssertionFailed } from '../../core/assert.ts';
import { toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { reportItemsMax } from '../../mds/api/types.ts';
import {
  mdsBackoffMsFirst,
  mdsBackoffMsMax,
  mdsReportCallsPerPassMax,
  mdsUploadBatchMax,
  mdsUploadsPerPassMax,
} from './limits.ts';
import type {
  Clock,
  CreditReport,
  IssuanceReport,
  MdsOutboxStore,
  MdsPort,
  ReportBatch,
  RetirementReport,
} from './ports.ts';

export interface ForwardReport {
  readonly uploadsForwarded: number;
  readonly uploadsRefused: number;
  /** Not acknowledged: each waits its own backoff. */
  readonly uploadsPostponed: number;
  readonly itemsReported: number;
  readonly itemsRefused: number;
  /** The MDS did not answer in this pass (or an earlier one's backoff had not passed). */
  readonly unavailable: boolean;
}

export interface MdsForwarderOptions {
  readonly store: MdsOutboxStore;
  readonly mds: MdsPort;
  readonly clock: Clock;
  readonly sha256: (bytes: Bytes) => Bytes;
  /** How a failed delivery is logged (the pass itself never throws for the MDS). */
  readonly log?: (error: unknown, what: string) => void;
}

/** The wait after `failures` consecutive failures: first, doubled each time, at most the max. */
export function backoffMs(failures: number): number {
  return Math.min(mdsBackoffMsMax, mdsBackoffMsFirst * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** Thrown inside a pass when the MDS did not answer twice in a row: ends the pass. */
class MdsDown extends Error {}

/** Failed deliveries in a row after which the MDS counts as down for this pass. */
const failuresInARowMax = 2;

interface Tally {
  uploadsForwarded: number;
  uploadsRefused: number;
  uploadsPostponed: number;
  itemsReported: number;
  itemsRefused: number;
}

export class MdsForwarder {
  readonly #options: MdsForwarderOptions;
  #failures = 0;
  #pausedUntilMs = 0;
  /** Failed deliveries in a row within the current pass. */
  #failuresInARow = 0;

  constructor(options: MdsForwarderOptions) {
    this.#options = options;
  }

  /** One bounded pass: due uploads oldest first, then reports. Never throws for the MDS's sake. */
  async pass(): Promise<ForwardReport> {
    const tally: Tally = {
      uploadsForwarded: 0,
      uploadsRefused: 0,
      uploadsPostponed: 0,
      itemsReported: 0,
      itemsRefused: 0,
    };
    const nowMs = this.#options.clock.nowMs();
    if (nowMs < this.#pausedUntilMs) return { ...tally, unavailable: true };
    this.#failuresInARow = 0;
    try {
      await this.#forwardUploads(nowMs, tally);
      await this.#forwardReports(tally);
      this.#failures = 0;
      return { ...tally, unavailable: false };
    } catch (error) {
      if (!(error instanceof MdsDown)) throw error;
      this.#failures++;
      this.#pausedUntilMs = nowMs + backoffMs(this.#failures);
      return { ...tally, unavailable: true };
    }
  }

  async #forwardUploads(nowMs: number, tally: Tally): Promise<void> {
    const { store, mds } = this.#options;
    for (let posted = 0; posted < mdsUploadsPerPassMax;) {
      const due = await store.dueUploads(nowMs, Math.min(mdsUploadBatchMax, mdsUploadsPerPassMax - posted));
      for (const upload of due) {
        posted++;
        const delivery = await this.#attempt(`upload ${upload.digest}`, () => mds.forwardUpload(upload));
        if (delivery === undefined) {
          const attempts = upload.attempts + 1;
          await store.postponeUpload(upload.digest, attempts, nowMs + backoffMs(attempts));
          tally.uploadsPostponed++;
          this.#stopWhenDown();
        } else if (delivery === 'acknowledged') {
          await store.markUploadForwarded(upload.digest, nowMs);
          tally.uploadsForwarded++;
        } else {
          this.#options.log?.(new Error(delivery.message), `upload ${upload.digest} refused by the MDS`);
          await store.markUploadRefused(upload.digest, delivery.refused);
          tally.uploadsRefused++;
        }
      }
      if (due.length < mdsUploadBatchMax) return;
    }
  }

  async #forwardReports(tally: Tally): Promise<void> {
    for (let call = 0; call < mdsReportCallsPerPassMax; call++) {
      const batch = await this.#options.store.unreported(reportItemsMax);
      if (itemsOf(batch).length === 0) return;
      await this.#report(batch, tally);
      const full = [batch.issuances, batch.retirements, batch.credits].some(
        (items) => items.length >= reportItemsMax,
      );
      // The store may cut the issuances short where the credit ids they name would pass the bound
      // (mds-outbox.ts): when any names credits, the next call looks for the rest.
      const cut = batch.issuances.some((issuance) => issuance.credits.length > 0);
      if (!full && !cut) return;
    }
  }

  /**
   * Reports a batch; when the MDS refuses it, halves it until each refused item stands alone (a
   * batch of n with k bad items costs about 2k·log2(n) calls), so good items are never held back.
   */
  async #report(batch: ReportBatch, tally: Tally): Promise<void> {
    const { store, mds } = this.#options;
    const size = itemsOf(batch).length;
    const delivery = await this.#attempt('report', () => mds.report(this.#reportKey(batch), batch));
    if (delivery === undefined) {
      // Nothing to postpone: the same items are read again by the next pass, after its backoff.
      this.#failuresInARow = failuresInARowMax;
      this.#stopWhenDown();
      return;
    }
    if (delivery === 'acknowledged') {
      await store.markReported(batch);
      tally.itemsReported += size;
      return;
    }
    if (size === 1) {
      this.#options.log?.(new Error(delivery.message), 'a report item refused by the MDS');
      await store.markReportRefused(batch, delivery.refused);
      tally.itemsRefused++;
      return;
    }
    for (const half of halves(batch)) await this.#report(half, tally);
  }

  /** The batch's idempotency key, made from its content: the same items, the same key. */
  #reportKey(batch: ReportBatch): string {
    const ids = [
      ...batch.issuances.map((issuance) => `i:${issuance.id}`),
      ...batch.retirements.map((retirement) => `r:${retirement.tokenId}`),
      ...batch.credits.map((credit) => `c:${credit.creditId}`),
    ];
    return `dcp-reports-${toHex(this.#options.sha256(utf8(ids.join(',')))).slice(0, 48)}`;
  }

  /** A delivery, or undefined when it threw (no answer, the DCP's own setup refused): logged, counted. */
  async #attempt<T>(what: string, deliver: () => Promise<T>): Promise<T | undefined> {
    try {
      const delivered = await deliver();
      this.#failuresInARow = 0;
      return delivered;
    } catch (error) {
      // A broken invariant (a stored row that does not decode) is a bug, not an MDS that is away.
      if (error instanceof AssertionFailed) throw error;
      this.#options.log?.(error, `${what} not acknowledged by the MDS`);
      this.#failuresInARow++;
      return undefined;
    }
  }

  #stopWhenDown(): void {
    if (this.#failuresInARow >= failuresInARowMax) throw new MdsDown('the MDS does not answer');
  }
}

type Item =
  | { readonly issuance: IssuanceReport }
  | { readonly retirement: RetirementReport }
  | { readonly credit: CreditReport };

/** A batch's items in one list: an issuance with the credit ids it names is one item. */
function itemsOf(batch: ReportBatch): Item[] {
  return [
    ...batch.issuances.map((issuance) => ({ issuance })),
    ...batch.retirements.map((retirement) => ({ retirement })),
    ...batch.credits.map((credit) => ({ credit })),
  ];
}

/** Two non-empty halves of a batch of at least two items. */
function halves(batch: ReportBatch): [ReportBatch, ReportBatch] {
  const items = itemsOf(batch);
  const middle = Math.ceil(items.length / 2);
  const of = (part: readonly Item[]): ReportBatch => ({
    issuances: part.flatMap((item) => ('issuance' in item ? [item.issuance] : [])),
    retirements: part.flatMap((item) => ('retirement' in item ? [item.retirement] : [])),
    credits: part.flatMap((item) => ('credit' in item ? [item.credit] : [])),
  });
  return [of(items.slice(0, middle)), of(items.slice(middle))];
}
