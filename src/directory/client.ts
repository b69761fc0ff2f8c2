// The directory's typed HTTP client, for the DCP, the MDS and tools (docs/directory.md). It imports
// nothing but core and the directory's error catalogue (a test checks it), so any service may use
// it without depending on the directory's implementation.
//
// Every mutation carries the caller's idempotency key, so every call may be retried after a timeout
// or a lost connection: the directory answers a replay with the first answer. Retries are bounded,
// with exponential backoff and jitter; refusals (4xx) are never retried and surface as
// `DirectoryRefusal`, a `CbdcError` with the directory's (or core's) code.
import { toHex } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import { CbdcError } from '../core/errors.ts';
import { encodeSigned } from '../core/signed.ts';
import {
  decodeCount,
  decodeDcpEndpoint,
  decodeDenyList,
  decodeParticipant,
  decodeSecureElement,
  decodeTrust,
  field,
  object,
  type DcpEndpoint,
  type DirectoryDenyList,
  type DirectoryParticipant,
  type DirectoryRole,
  type DirectorySecureElement,
  type PublishedTrust,
  type Replayable,
  type SecureElementStatus,
} from './client-decode.ts';
import {
  answerDefinition,
  directoryError,
  isDirectoryAnswerCode,
  type DirectoryAnswerCode,
} from './errors.ts';

export type {
  DcpEndpoint,
  DenyListDelta,
  DirectoryDenyList,
  DirectoryParticipant,
  DirectoryRole,
  DirectorySecureElement,
  PublishedTrust,
  Replayable,
  SecureElementStatus,
  StatusChange,
} from './client-decode.ts';

export const directoryCallTimeoutMsDefault = 5_000;
export const directoryCallAttemptsMaxDefault = 5;
export const directoryBackoffMsDefault = 50;
export const directoryBackoffMsMax = 2_000;
/** A full deny list is ≈ 40 KiB of JSON; anything far larger is not a directory answer. */
export const directoryAnswerBytesMax = 1024 * 1024;

export interface DirectoryClientOptions {
  /** e.g. http://127.0.0.1:4200 */
  readonly baseUrl: string;
  /** Not needed for `trustAnchors()` and `denyList()`, which are public. */
  readonly apiKey?: string;
  /** Per attempt. */
  readonly timeoutMs?: number;
  /** Attempts per call, the first included. */
  readonly attemptsMax?: number;
  readonly backoffMs?: number;
  /** Injected for tests (no real waiting) and deterministic runs. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ random() < 1, for backoff jitter. */
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

/** A refusal from the directory: `code` from its catalogue or core's, `status` the HTTP status. */
export class DirectoryRefusal extends CbdcError<DirectoryAnswerCode> {
  constructor(
    code: DirectoryAnswerCode,
    readonly status: number,
    message: string,
  ) {
    super(code, answerDefinition(code), message);
  }
}

interface Call {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string;
}

interface Answer {
  readonly body: unknown;
  readonly replayed: boolean;
}

type Attempt = { kind: 'answer'; answer: Answer } | { kind: 'retry'; problem: string };

export class DirectoryClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly attemptsMax: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: DirectoryClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? directoryCallTimeoutMsDefault;
    this.attemptsMax = Math.max(1, options.attemptsMax ?? directoryCallAttemptsMaxDefault);
    this.backoffMs = options.backoffMs ?? directoryBackoffMsDefault;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? fetch;
  }

  async whoAmI(): Promise<DirectoryParticipant> {
    const answer = await this.call({ method: 'GET', path: '/v1/participants/me' });
    return decodeParticipant(field(answer.body, 'participant'));
  }

  async createParticipant(
    idempotencyKey: string,
    request: { readonly name: string; readonly role: DirectoryRole; readonly dcpId?: string },
  ): Promise<Replayable<{ readonly participant: DirectoryParticipant; readonly apiKey: string }>> {
    const answer = await this.call({
      method: 'POST',
      path: '/v1/participants',
      body: request,
      idempotencyKey,
    });
    const apiKey = field(answer.body, 'apiKey');
    if (typeof apiKey !== 'string') throw directoryError('directoryAnswerInvalid', 'answer.apiKey');
    return {
      value: { participant: decodeParticipant(field(answer.body, 'participant')), apiKey },
      replayed: answer.replayed,
    };
  }

  async registerSecureElement(
    idempotencyKey: string,
    request: { readonly certificate: Certificate; readonly walletId: string },
  ): Promise<Replayable<DirectorySecureElement>> {
    const body = { certificate: toHex(encodeSigned(request.certificate)), walletId: request.walletId };
    const answer = await this.call({ method: 'POST', path: '/v1/secure-elements', body, idempotencyKey });
    return { value: decodeSecureElement(field(answer.body, 'secureElement')), replayed: answer.replayed };
  }

  async secureElement(seId: string): Promise<DirectorySecureElement> {
    const answer = await this.call({
      method: 'GET',
      path: `/v1/secure-elements/${encodeURIComponent(seId)}`,
    });
    return decodeSecureElement(field(answer.body, 'secureElement'));
  }

  async changeStatus(
    idempotencyKey: string,
    seId: string,
    request: { readonly status: SecureElementStatus; readonly reason: string },
  ): Promise<
    Replayable<{ readonly secureElement: DirectorySecureElement; readonly denyListVersion: number }>
  > {
    const answer = await this.call({
      method: 'POST',
      path: `/v1/secure-elements/${encodeURIComponent(seId)}/status`,
      body: request,
      idempotencyKey,
    });
    return {
      value: {
        secureElement: decodeSecureElement(field(answer.body, 'secureElement')),
        denyListVersion: decodeCount(answer.body, 'denyListVersion'),
      },
      replayed: answer.replayed,
    };
  }

  /** The current signed list; with `since`, also what changed since that version. */
  async denyList(since?: number): Promise<DirectoryDenyList> {
    const query = since === undefined ? '' : `?since=${since}`;
    const answer = await this.call({ method: 'GET', path: `/v1/deny-list${query}` });
    return decodeDenyList(answer.body);
  }

  async trustAnchors(): Promise<PublishedTrust> {
    const answer = await this.call({ method: 'GET', path: '/v1/trust-anchors' });
    return decodeTrust(answer.body);
  }

  async putDcpEndpoint(
    idempotencyKey: string,
    dcpId: string,
    request: { readonly baseUrl: string },
  ): Promise<Replayable<DcpEndpoint>> {
    const answer = await this.call({
      method: 'PUT',
      path: `/v1/dcps/${encodeURIComponent(dcpId)}`,
      body: request,
      idempotencyKey,
    });
    return { value: decodeDcpEndpoint(field(answer.body, 'dcp')), replayed: answer.replayed };
  }

  async dcpEndpoint(dcpId: string): Promise<DcpEndpoint> {
    const answer = await this.call({ method: 'GET', path: `/v1/dcps/${encodeURIComponent(dcpId)}` });
    return decodeDcpEndpoint(field(answer.body, 'dcp'));
  }

  private async call(call: Call): Promise<Answer> {
    let lastProblem = 'no attempt';
    for (let attempt = 1; attempt <= this.attemptsMax; attempt++) {
      if (attempt > 1) await this.sleep(this.backoff(attempt - 1));
      const outcome = await this.attempt(call);
      if (outcome.kind === 'answer') return outcome.answer;
      lastProblem = outcome.problem;
    }
    throw directoryError(
      'directoryUnavailable',
      `${call.method} ${call.path}: ${lastProblem} (${this.attemptsMax} attempts)`,
    );
  }

  private backoff(retry: number): number {
    const ceiling = Math.min(directoryBackoffMsMax, this.backoffMs * 2 ** (retry - 1));
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  /** One attempt: an answer, a refusal (thrown), or a transient problem worth a retry. */
  private async attempt(call: Call): Promise<Attempt> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey !== undefined) headers['authorization'] = `Bearer ${this.options.apiKey}`;
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      return {
        kind: 'retry',
        problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (text.length > directoryAnswerBytesMax)
      throw directoryError('directoryAnswerInvalid', `answer of ${text.length} characters`);
    if (response.status >= 500) return { kind: 'retry', problem: `HTTP ${response.status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw directoryError('directoryAnswerInvalid', `HTTP ${response.status} answer is not JSON`);
    }
    if (response.status >= 400) throw refusal(response.status, body);
    return {
      kind: 'answer',
      answer: { body, replayed: response.headers.get('idempotent-replayed') === 'true' },
    };
  }
}

function refusal(status: number, body: unknown): CbdcError {
  const error = object(field(body, 'error'), 'error');
  const code = error['code'];
  const message = error['message'];
  if (typeof code !== 'string' || !isDirectoryAnswerCode(code) || typeof message !== 'string') {
    return directoryError('directoryAnswerInvalid', `HTTP ${status} refusal without a known error code`);
  }
  return new DirectoryRefusal(code, status, message);
}
