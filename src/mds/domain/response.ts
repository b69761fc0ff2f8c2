// The response to alerts (issue 14, "Response"; docs/mds.md): the API process copies the enclave's
// alerts into its own database by the enclave's sequence, confirms those whose kind the policy
// confirms automatically, and asks the directory to revoke the SE each confirmed alert blames. An
// analyst's confirmation is written to the audit log in the transaction that makes it.
//
//   enclave raises ──mirror──▶ open ──policy or analyst──▶ confirmed ──directory revokes──▶ revoked
//                                                            │  directory down: stays, retried next run
//                                                            └─ directory refuses: stays, refusal kept
//
// A directory that does not answer leaves the alert confirmed; the next maintenance run retries
// with the same idempotency key, so the directory sees a replay, never a second revocation.
import { isCbdcError } from '../../core/errors.ts';
import type { EnclavePort } from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { nextAuditEntry } from './audit.ts';
import { alertsPageMax, mirrorPagesPerRunMax, revocationsPerRunMax } from './limits.ts';
import type { DenyListPort, MdsStore, MdsTransaction, RevocationPort } from './ports.ts';
import { revocationKey, revocationReason, type ResponsePolicy } from './rules.ts';
import type { AlertRecord, AuditEntry, AuditEvent, Clock, Hasher } from './types.ts';

/** Appends one entry after the locked head, in the caller's transaction. */
export async function appendAudit(
  tx: MdsTransaction,
  hasher: Hasher,
  event: AuditEvent,
  nowMs: number,
): Promise<AuditEntry> {
  const entry = nextAuditEntry(hasher, await tx.lockAuditHead(), event, nowMs);
  await tx.appendAuditEntry(entry);
  return entry;
}

export interface ResponseDependencies {
  readonly store: MdsStore;
  readonly enclave: EnclavePort;
  readonly revocations: RevocationPort;
  /** Where the directory's deny list is read, to hand to the enclave (revokedSigner); none in unit tests. */
  readonly denyLists?: DenyListPort;
  readonly hasher: Hasher;
  readonly clock: Clock;
  readonly policy: ResponsePolicy;
}

export interface RevocationFailure {
  readonly code: 'mdsDirectoryUnavailable';
  readonly message: string;
  readonly atMs: number;
}

export class AlertResponse {
  /** The last time the directory did not answer, until it answers again (for /v1/status). */
  private failure: RevocationFailure | null = null;
  /** The version of the last deny list the enclave recorded (0: none yet, in this process). */
  private denyListVersion = 0;
  /** Told every revocation's outcome (the process counts them on /metrics). */
  observe: (outcome: 'revoked' | 'refused' | 'unavailable') => void = () => {};

  constructor(private readonly deps: ResponseDependencies) {}

  get lastRevocationFailure(): RevocationFailure | null {
    return this.failure;
  }

  /**
   * One maintenance run: copies new alerts, then asks for the pending revocations. Returns how many
   * alerts it copied and revoked; throws `mdsDirectoryUnavailable` (logged by the maintenance
   * task) after copying when the directory did not answer.
   */
  async run(): Promise<number> {
    await this.forwardDenyList();
    const copied = await this.mirror();
    const revoked = await this.revokePending();
    if (revoked === 'unavailable') {
      throw mdsError('mdsDirectoryUnavailable', this.failure?.message ?? 'the directory did not answer');
    }
    return copied + revoked;
  }

  /**
   * Hands the directory's deny list to the enclave when its version moved (the enclave checks the
   * directory's signature and raises revokedSigner). A directory that does not answer is logged
   * like a revocation it did not answer, and does not hold the rest of the run back.
   */
  async forwardDenyList(): Promise<void> {
    if (this.deps.denyLists === undefined) return;
    try {
      const list = await this.deps.denyLists.latest();
      if (list.version === this.denyListVersion) return;
      await this.deps.enclave.recordDenyList(list.signed);
      this.denyListVersion = list.version;
    } catch (error) {
      if (!(isCbdcError(error) && error.code === 'mdsDirectoryUnavailable')) throw error;
      this.failure = {
        code: 'mdsDirectoryUnavailable',
        message: error.message,
        atMs: this.deps.clock.nowMs(),
      };
    }
  }

  /** Copies alerts raised or updated after the cursor, a bounded number of pages; returns how many. */
  async mirror(): Promise<number> {
    let copied = 0;
    for (let page = 0; page < mirrorPagesPerRunMax; page++) {
      const cursor = await this.deps.store.alertCursor();
      const answer = await this.deps.enclave.alertsAfter(cursor, alertsPageMax);
      if (answer.alerts.length === 0) break;
      const moved = await this.deps.store.transaction(async (tx) => {
        // Another instance copied this page meanwhile: its copy stands, ours is dropped.
        if ((await tx.lockAlertCursor()) !== cursor) return false;
        const nowMs = this.deps.clock.nowMs();
        for (const alert of answer.alerts) {
          const outcome = await tx.mirrorAlert(alert);
          if (outcome === 'inserted' && this.deps.policy[alert.kind] === 'automatic')
            await this.confirmIn(tx, alert.id, null, nowMs);
        }
        await tx.setAlertCursor(answer.sequence);
        return true;
      });
      if (moved) copied += answer.alerts.length;
      if (answer.alerts.length < alertsPageMax) break;
    }
    return copied;
  }

  /** Marks an open alert confirmed, in the caller's transaction; an analyst's act (not the policy's) is audited. */
  async confirmIn(
    tx: MdsTransaction,
    alertId: string,
    analyst: Pick<AuditEvent, 'participantId' | 'role'> | null,
    nowMs: number,
  ): Promise<void> {
    await tx.setAlertStatus(alertId, 'confirmed', null);
    if (analyst !== null) {
      const event = { ...analyst, action: 'alertConfirmed', subject: alertId } as const;
      await appendAudit(tx, this.deps.hasher, event, nowMs);
    }
  }

  /** Asks for the revocations still pending, oldest first; stops at the first unanswered call. */
  async revokePending(): Promise<number | 'unavailable'> {
    let revoked = 0;
    for (const alert of await this.deps.store.revocationsPending(revocationsPerRunMax)) {
      const outcome = await this.revoke(alert);
      if (outcome === 'unavailable') return 'unavailable';
      if (outcome === 'revoked') revoked++;
    }
    return revoked;
  }

  /** Asks the directory to revoke the SE a confirmed alert blames, and records what it answered. */
  async revoke(alert: AlertRecord): Promise<'revoked' | 'refused' | 'unavailable' | 'unchanged'> {
    let outcome;
    try {
      outcome = await this.deps.revocations.revoke(
        alert.seId,
        revocationReason(alert.kind, alert.id),
        revocationKey(alert.id),
      );
    } catch (error) {
      if (!isCbdcError(error) || error.code !== 'mdsDirectoryUnavailable') throw error;
      this.failure = {
        code: 'mdsDirectoryUnavailable',
        message: error.message,
        atMs: this.deps.clock.nowMs(),
      };
      return 'unavailable';
    }
    this.failure = null;
    return this.deps.store.transaction(async (tx) => {
      const current = await tx.lockAlert(alert.id);
      if (current?.status !== 'confirmed' || current.revocationRefusal !== null) return 'unchanged';
      if (outcome.kind === 'refused') {
        await tx.setAlertStatus(alert.id, 'confirmed', outcome.code);
        return 'refused';
      }
      await tx.setAlertStatus(alert.id, 'revoked', null);
      return 'revoked';
    });
  }
}
