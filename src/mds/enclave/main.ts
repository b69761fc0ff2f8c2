// The enclave process (docs/mds.md, "Enclave"): started by the API process's `startEnclave`
// (src/mds/channel/enclave-client.ts) as a forked child, never imported by it. It alone opens the
// enclave's database and reads the MDS key file (`mds.json`); it serves `EnclavePort` over the IPC
// channel and runs the ingest workers. It exits cleanly when the channel closes or on SIGTERM.
//
//   node --import tsx src/mds/enclave/main.ts --db URL --pki DIR [--workers N] [--poll-ms N]
//     [--report-window-ms N]
//     [--double-spend-policy honour|refuse]
import { parseArgs } from 'node:util';
import { uploadInfo } from '../../core/upload.ts';
import { hpkeOpener } from '../../crypto/hpke.ts';
import { NodeSigner, NodeVerifier } from '../../crypto/node-crypto.ts';
import { loadPrincipal, loadTrust } from '../../pki/deployment-pki.ts';
import { openDatabase } from '../../storage/open.ts';
import { migrate } from '../../storage/migrations.ts';
import { StorageUnavailable } from '../../storage/database.ts';
import { mdsError } from '../api/errors.ts';
import { decodeCall, refusalOf, type ChannelAnswer, type EnclaveCall } from '../channel/codec.ts';
import { enclaveMigrations } from './migrations.ts';
import { EnclaveService } from './service.ts';
import { IngestWorkers } from './workers.ts';
import { reportWindowVariable } from './unreported.ts';

/** Ingest workers per enclave process by default; on SQLite more than one would only queue. */
export const enclaveWorkersDefault = 1;
/** How long an idle worker sleeps before looking for stored uploads again. */
export const enclavePollMsDefault = 200;

function reportWindow(text: string | undefined): { issuanceReportWindowMs?: number } {
  if (text === undefined) return {};
  const windowMs = Number(text);
  if (!Number.isSafeInteger(windowMs) || windowMs < 0)
    throw new TypeError(`the report window must be a non-negative integer of ms, not ${text}`);
  return { issuanceReportWindowMs: windowMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      pki: { type: 'string' },
      workers: { type: 'string' },
      'poll-ms': { type: 'string' },
      'report-window-ms': { type: 'string' },
      'double-spend-policy': { type: 'string' },
    },
  });
  if (values.db === undefined || values.pki === undefined) throw new TypeError('--db and --pki are required');
  const send = process.send?.bind(process);
  if (send === undefined) throw new TypeError('the enclave runs as a forked child with an IPC channel');
  const clock = { nowMs: () => Date.now() };
  const trust = loadTrust(values.pki, Math.floor(clock.nowMs() / 1000));
  const key = loadPrincipal(values.pki, 'mds.json');
  const publicKey = key.certificate.body.publicKey;
  const verifier = new NodeVerifier();
  const policy = values['double-spend-policy'] ?? 'honour';
  if (policy !== 'honour' && policy !== 'refuse')
    throw new TypeError('--double-spend-policy must be honour or refuse');
  const database = openDatabase(values.db);
  await migrate(database, enclaveMigrations, clock.nowMs());
  const open = hpkeOpener(key.privateKey, publicKey);
  const service = new EnclaveService({
    database,
    anchors: trust.anchors,
    directory: trust.directory,
    clock,
    ...reportWindow(values['report-window-ms'] ?? process.env[reportWindowVariable]),
    crypto: { verifier, open: (aad, sealed) => open(uploadInfo, aad, sealed) },
    // Verdicts are signed with the certified MDS key (a P-256 scalar, as HPKE's DHKEM(P-256) key):
    // the DCPs hold its certificate in trust.json; the purpose tag keeps the signatures apart.
    verdicts: {
      signer: NodeSigner.fromScalar(key.privateKey, publicKey),
      mdsId: key.certificate.body.subjectId,
      policy,
      sha256: (bytes) => verifier.sha256(bytes),
    },
  });
  const workers = new IngestWorkers(service, {
    workers: Number(values.workers ?? enclaveWorkersDefault),
    pollMs: Number(values['poll-ms'] ?? enclavePollMsDefault),
    onError: (error) => process.stderr.write(`mds enclave: ingest failed: ${String(error)}\n`),
  });
  workers.start();

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await workers.stop();
    await database.close();
    process.exit(0);
  };
  process.on('message', (message: unknown) => {
    void answer(service, workers, message).then((reply) => {
      if (reply !== undefined && process.connected) send(reply);
    });
  });
  process.on('disconnect', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  send({ kind: 'ready' });
}

async function answer(
  service: EnclaveService,
  workers: IngestWorkers,
  message: unknown,
): Promise<ChannelAnswer | undefined> {
  const id = requestId(message);
  if (id === undefined) return undefined;
  try {
    const call = decodeCall((message as { call: unknown }).call);
    const value = await dispatch(service, call);
    if (call.method === 'storeUpload') workers.wake();
    return { kind: 'answer', id, ok: true, value };
  } catch (error) {
    const typed =
      error instanceof StorageUnavailable
        ? mdsError('mdsEnclaveUnavailable', 'the enclave database is unavailable')
        : error;
    const refusal = refusalOf(typed);
    if (refusal !== undefined) return { kind: 'answer', id, ok: false, refusal };
    process.stderr.write(`mds enclave: ${String(error)}\n`);
    return { kind: 'failed', id, message: 'the enclave failed to answer (see its log)' };
  }
}

function requestId(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { kind, id } = message as { kind?: unknown; id?: unknown };
  return kind === 'request' && typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

function dispatch(service: EnclaveService, call: EnclaveCall): Promise<unknown> {
  switch (call.method) {
    case 'storeUpload':
      return service.storeUpload(call.request);
    case 'uploadStatus':
      return service.uploadStatus(call.dcpId, call.digest);
    case 'recordReports':
      return service.recordReports(call.request);
    case 'alertsAfter':
      return service.alertsAfter(call.after, call.limit);
    case 'evidence':
      return service.evidence(call.alertId);
    case 'status':
      return service.status();
    case 'refundsFor':
      return service.refundsFor(call.dcpId, call.after, call.limit);
    case 'executeRefund':
      return service.executeRefund(call.dcpId, call.decisionId, call.executedAtMs);
    case 'recoveries':
      return service.recoveries();
    case 'recordDenyList':
      return service.recordDenyList(call.list);
    case 'supply':
      return service.supply();
    case 'indicators':
      return service.indicators(call.request);
    case 'checkRenewal':
      return service.checkRenewal(call.request);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mds enclave: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
