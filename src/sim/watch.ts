// The simulator's view of the MDS, through its HTTP API alone: an analyst reads the alerts, the
// operator reads the ingest counts. The MDS works on its own timers (DCPs forward, workers ingest,
// the response revokes), so after each day the simulator waits until every upload the day's
// settlements stored was ingested and every alert was answered: the next day then starts from the
// same MDS state on every run, and the report replays from the seed.
import { setTimeout as sleep } from 'node:timers/promises';
import { toHex, utf8 } from '../core/bytes.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { MdsClient } from '../mds/api/client.ts';
import { alertsPageMax, type MdsAlert, type MdsStatus } from '../mds/api/types.ts';
import { newApiKey, type RunningSystem } from '../system/launcher.ts';

/** How long the MDS may take to catch up with one day (forwarding and ingest run on 1 s timers). */
export const settleMsMax = 60_000;
/**
 * The MDS API process copies the enclave's new alerts once a second (src/mds/domain/limits.ts,
 * `responseIntervalMs`, restated: the simulator reaches the MDS through its API alone); waiting this
 * long after an ingest means a copy began after it.
 */
const alertCopyWaitMs = 1_500;
/*
 * The MDS's default response policy (src/mds/domain/rules.ts) revokes the SE of every alert
 * automatically but `revokedSigner`'s, which names an SE revoked already and waits for an analyst.
 */
/** Between two looks at the MDS while waiting. */
const pollMs = 100;
/** Pages of alerts read at most (alertsPageMax each): a bound on the loop, far above any scenario. */
const alertPagesMax = 64;

const verifier = new NodeVerifier();

export interface MdsWatch {
  readonly operator: MdsClient;
  readonly analyst: MdsClient;
  /** Uploads the MDS had taken in at the last wait: when none came since, no alert can be new. */
  takenIn: number;
  /** The value of the refunds of value in flight the DCPs executed, as of the last wait. */
  refunded: bigint;
  /**
   * What the MDS had taken in and refunded before the run: 0 on services started for it; with
   * `--against`, the running system's earlier work, which the run's figures leave out.
   */
  readonly before: { readonly uploads: number; readonly refunded: bigint };
}

export async function watchMds(system: RunningSystem, idempotencyKey: () => string): Promise<MdsWatch> {
  const operator = new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey });
  const analystKey = newApiKey();
  await operator.createParticipant(idempotencyKey(), {
    name: 'simulator analyst',
    role: 'analyst',
    apiKeySha256: toHex(verifier.sha256(utf8(analystKey))),
  });
  const { uploads } = await operator.status();
  const { refunds } = await operator.recoveries();
  return {
    operator,
    analyst: new MdsClient({ baseUrl: system.mdsUrl, apiKey: analystKey }),
    takenIn: 0,
    refunded: 0n,
    before: { uploads: uploads.ingested + uploads.refused, refunded: refunds.executedValue },
  };
}

/** Every alert, in the MDS's order. */
export async function alertsOf(watch: MdsWatch): Promise<MdsAlert[]> {
  const alerts: MdsAlert[] = [];
  let after: string | undefined;
  for (let page = 0; page < alertPagesMax; page++) {
    const answer = await watch.analyst.listAlerts({
      limit: alertsPageMax,
      ...(after === undefined ? {} : { after }),
    });
    alerts.push(...answer.alerts);
    if (answer.next === null) return alerts;
    after = answer.next;
  }
  throw new Error(`more than ${alertPagesMax * alertsPageMax} alerts`);
}

function uploadsDone(watch: MdsWatch, status: MdsStatus, expected: number): boolean {
  const { stored, ingested, refused } = status.uploads;
  return stored === 0 && ingested + refused - watch.before.uploads >= expected;
}

/**
 * Waits until the MDS ingested (or refused) `uploadsExpected` uploads with none left stored; when
 * some came since the last wait, until the API process copied the alerts they raised; until every
 * refund of value in flight it decided was executed by its DCP (the DCPs' refund passes run on their
 * own 1 s timers: a payer's next sync then meets the same refund on every run); then until every
 * alert but a `revokedSigner` was revoked by the response. Returns the alerts.
 */
export async function settledAlerts(watch: MdsWatch, uploadsExpected: number): Promise<MdsAlert[]> {
  const deadline = Date.now() + settleMsMax;
  for (;;) {
    const status = await watch.operator.status();
    if (uploadsDone(watch, status, uploadsExpected)) break;
    if (Date.now() > deadline) throw new Error(`the MDS did not ingest ${uploadsExpected} uploads in time`);
    await sleep(pollMs);
  }
  if (uploadsExpected > watch.takenIn) await sleep(alertCopyWaitMs);
  watch.takenIn = uploadsExpected;
  for (;;) {
    const { refunds } = await watch.operator.recoveries();
    watch.refunded = refunds.executedValue - watch.before.refunded;
    if (refunds.executedCount === refunds.count) break;
    if (Date.now() > deadline) throw new Error('the DCPs did not execute every refund in time');
    await sleep(pollMs);
  }
  for (;;) {
    const alerts = await alertsOf(watch);
    if (alerts.every((alert) => alert.kind === 'revokedSigner' || alert.status === 'revoked')) return alerts;
    if (Date.now() > deadline) throw new Error('the MDS did not answer every alert in time');
    await sleep(pollMs);
  }
}
