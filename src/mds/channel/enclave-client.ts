// The API process's side of the channel (docs/mds.md, "Enclave"): `startEnclave` forks the enclave
// process by file path (never an import: the enclave's modules stay out of the API process, and
// test/import-rules.test.ts checks it) and returns an `EnclavePort` over its IPC channel. Every
// call carries a request id, waits at most `callTimeoutMs`, and at most `callsInFlightMax` wait at
// once; past either, or once the enclave has exited, a call is refused `mdsEnclaveUnavailable`.
// Refusals come back as typed `CbdcError`s with their catalogue code.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mdsError } from '../api/errors.ts';
import {
  decodeAlertsPage,
  decodeDenyListCounts,
  decodedOrUnavailable,
  decodeEvidence,
  decodeReportCounts,
  decodeStatus,
  decodeUploadStatus,
} from './answers.ts';
import { decodeIndicators, decodeSupply } from './supply-answers.ts';
import { decodeAnswer, errorOfRefusal, type ChannelRequest, type EnclaveCall } from './codec.ts';
import { decodeRecoveries, decodeRefundExecution, decodeRefundsChunk } from './recovery-answers.ts';
import type { Bytes } from '../../core/bytes.ts';
import type {
  EnclaveRecoveries,
  RefundExecution,
  RefundsChunk,
  AlertsPage,
  DenyListCounts,
  EnclavePort,
  EnclaveStatus,
  EnclaveSupply,
  IndicatorBucket,
  IndicatorsRequest,
  EvidenceItem,
  RecordReportsRequest,
  ReportCounts,
  StoreUploadRequest,
  UploadStatus,
} from './protocol.ts';

/** The enclave's entry point, by path: forked, never imported. */
export const enclaveMainPath = fileURLToPath(new URL('../enclave/main.ts', import.meta.url));
export const enclaveCallTimeoutMsDefault = 10_000;
export const enclaveCallsInFlightMax = 256;
/** How long the enclave may take to migrate and load its key (2 busy cores, tsx compiling). */
export const enclaveStartMsMax = 30_000;
/** How long `close` waits for a clean exit before killing the process. */
export const enclaveStopMsMax = 10_000;
/** Bytes of the enclave's stderr kept for failure messages. */
export const enclaveStderrBytesMax = 16 * 1024;

export interface EnclaveOptions {
  readonly databaseUrl: string;
  readonly pkiDirectory: string;
  readonly workers?: number;
  readonly pollMs?: number;
  readonly callTimeoutMs?: number;
}

export interface EnclaveProcess extends EnclavePort {
  /** The child's process id, for tests and logs. */
  readonly pid: number | undefined;
  /** The enclave's recent stderr, for failure messages. */
  stderr(): string;
  /** Resolves when the process has exited, with its exit code or signal. */
  readonly exited: Promise<EnclaveExit>;
  close(): Promise<void>;
}

export interface EnclaveExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

export async function startEnclave(options: EnclaveOptions): Promise<EnclaveProcess> {
  const args = ['--db', options.databaseUrl, '--pki', options.pkiDirectory];
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.pollMs !== undefined) args.push('--poll-ms', String(options.pollMs));
  const child = fork(enclaveMainPath, args, {
    serialization: 'advanced',
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const client = new EnclaveClient(child, options.callTimeoutMs ?? enclaveCallTimeoutMsDefault);
  await client.ready();
  return client;
}

class EnclaveClient implements EnclaveProcess {
  readonly #child: ChildProcess;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly exited: Promise<EnclaveExit>;
  #nextId = 1;
  #alive = true;
  #stderr = '';

  constructor(child: ChildProcess, timeoutMs: number) {
    this.#child = child;
    this.#timeoutMs = timeoutMs;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-enclaveStderrBytesMax);
    });
    child.on('message', (message: unknown) => {
      this.#receive(message);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#alive = false;
        for (const [id, pending] of this.#pending) {
          clearTimeout(pending.timer);
          pending.reject(mdsError('mdsEnclaveUnavailable', 'the enclave process exited'));
          this.#pending.delete(id);
        }
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  stderr(): string {
    return this.#stderr;
  }

  /** Resolves on the enclave's `ready`; rejects if it exits first or takes longer than enclaveStartMsMax. */
  async ready(): Promise<void> {
    const readyMessage = new Promise<void>((resolve) => {
      const onMessage = (message: unknown) => {
        if (
          typeof message === 'object' &&
          message !== null &&
          (message as { kind?: unknown }).kind === 'ready'
        ) {
          this.#child.off('message', onMessage);
          resolve();
        }
      };
      this.#child.on('message', onMessage);
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyMessage.then(() => 'ready' as const),
      this.exited.then(() => 'exited' as const),
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => {
          resolve('late');
        }, enclaveStartMsMax);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') return;
    if (outcome === 'late') this.#child.kill('SIGKILL');
    throw mdsError(
      'mdsEnclaveUnavailable',
      `the enclave did not start (${outcome}): ${this.#stderr.slice(-2000)}`,
    );
  }

  storeUpload(request: StoreUploadRequest): Promise<UploadStatus> {
    return this.#call({ method: 'storeUpload', request }, (value) => decodeUploadStatus(value));
  }

  uploadStatus(dcpId: string, digest: string): Promise<UploadStatus | undefined> {
    return this.#call({ method: 'uploadStatus', dcpId, digest }, (value) =>
      value === undefined || value === null ? undefined : decodeUploadStatus(value),
    );
  }

  recordReports(request: RecordReportsRequest): Promise<ReportCounts> {
    return this.#call({ method: 'recordReports', request }, decodeReportCounts);
  }

  alertsAfter(after: number, limit: number): Promise<AlertsPage> {
    return this.#call({ method: 'alertsAfter', after, limit }, decodeAlertsPage);
  }

  evidence(alertId: string): Promise<readonly EvidenceItem[] | undefined> {
    return this.#call({ method: 'evidence', alertId }, decodeEvidence);
  }

  status(): Promise<EnclaveStatus> {
    return this.#call({ method: 'status' }, decodeStatus);
  }

  refundsFor(dcpId: string, after: number, limit: number): Promise<RefundsChunk> {
    return this.#call({ method: 'refundsFor', dcpId, after, limit }, decodeRefundsChunk);
  }

  executeRefund(
    dcpId: string,
    decisionId: string,
    executedAtMs: number,
  ): Promise<RefundExecution | undefined> {
    return this.#call({ method: 'executeRefund', dcpId, decisionId, executedAtMs }, decodeRefundExecution);
  }

  recoveries(): Promise<EnclaveRecoveries> {
    return this.#call({ method: 'recoveries' }, decodeRecoveries);
  }

  recordDenyList(list: Bytes): Promise<DenyListCounts> {
    return this.#call({ method: 'recordDenyList', list }, decodeDenyListCounts);
  }

  supply(): Promise<EnclaveSupply> {
    return this.#call({ method: 'supply' }, decodeSupply);
  }

  indicators(request: IndicatorsRequest): Promise<readonly IndicatorBucket[]> {
    return this.#call({ method: 'indicators', request }, decodeIndicators);
  }

  async close(): Promise<void> {
    if (!this.#alive) return;
    // Closing the channel is the enclave's signal to stop its workers, close its database and exit.
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => {
      this.#child.kill('SIGKILL');
    }, enclaveStopMsMax);
    await this.exited;
    clearTimeout(timer);
  }

  async #call<T>(call: EnclaveCall, decode: (value: unknown) => T): Promise<T> {
    if (!this.#alive || !this.#child.connected)
      throw mdsError('mdsEnclaveUnavailable', 'the enclave process is not running');
    if (this.#pending.size >= enclaveCallsInFlightMax)
      throw mdsError(
        'mdsEnclaveUnavailable',
        `${enclaveCallsInFlightMax} calls already wait for the enclave`,
      );
    const id = this.#nextId++;
    const value = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          mdsError(
            'mdsEnclaveUnavailable',
            `the enclave did not answer ${call.method} within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const request: ChannelRequest = { kind: 'request', id, call };
      this.#child.send(request, (error) => {
        if (error === null) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(mdsError('mdsEnclaveUnavailable', `the channel refused the call: ${error.message}`));
      });
    });
    return decodedOrUnavailable(() => decode(value));
  }

  #receive(message: unknown): void {
    if (typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'ready')
      return;
    let answer;
    try {
      answer = decodeAnswer(message);
    } catch (error) {
      this.#stderr += `\nundecodable answer from the enclave: ${String(error)}`;
      return;
    }
    const pending = this.#pending.get(answer.id);
    if (pending === undefined) return; // answered after its timeout: the caller has moved on
    this.#pending.delete(answer.id);
    clearTimeout(pending.timer);
    if (answer.kind === 'failed') pending.reject(new Error(`the enclave failed: ${answer.message}`));
    else if (answer.ok) pending.resolve(answer.value);
    else pending.reject(errorOfRefusal(answer.refusal));
  }
}
