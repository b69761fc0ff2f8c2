// The directory's typed HTTP client, for the DCP, the MDS and tools (docs/directory.md). It imports
// nothing but core, the directory's error catalogue and the shared client-side HTTP layer
// (`src/http-client/`, itself core-only; a test checks it), so any service may use it without
// depending on the directory's implementation.
//
// Every mutation carries the caller's idempotency key, so every call may be retried after a timeout
// or a lost connection: the directory answers a replay with the first answer. Retries are bounded,
// with exponential backoff and jitter (the shared `JsonCaller`); refusals (4xx) are never retried and
// surface as `DirectoryRefusal`, a `CbdcError` with the directory's (or core's) code.
import { toHex } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import { encodeSigned } from '../../core/signed.ts';
import {
  decodeCount,
  decodeDcpEndpoint,
  decodeDenyList,
  decodeParticipant,
  decodeSecureElement,
  decodeTrust,
  field,
  type DcpEndpoint,
  type DirectoryDenyList,
  type DirectoryParticipant,
  type DirectoryRole,
  type DirectorySecureElement,
  type PublishedTrust,
  type Replayable,
  type SecureElementStatus,
} from './decode.ts';
import {
  answerDefinition,
  directoryError,
  isDirectoryAnswerCode,
  type DirectoryAnswerCode,
} from './errors.ts';
import {
  JsonCaller,
  catalogueCallErrors,
  type JsonCall,
  type JsonCallerOptions,
} from '../../http-client/json-caller.ts';
import { catalogueRefusal } from '../../http-client/refusal.ts';

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
} from './decode.ts';

/** A full deny list is ≈ 40 KiB of JSON; anything far larger is not a directory answer. */
export const directoryAnswerBytesMax = 1024 * 1024;

export interface DirectoryClientOptions extends JsonCallerOptions {
  /** e.g. http://127.0.0.1:4200 */
  readonly baseUrl: string;
  /** Not needed for `trustAnchors()` and `denyList()`, which are public. */
  readonly apiKey?: string;
}

/** A refusal from the directory: `code` from its catalogue, core's or the generic service codes; `status` the HTTP status. */
export class DirectoryRefusal extends catalogueRefusal<DirectoryAnswerCode>(answerDefinition) {}

const directoryCallErrors = catalogueCallErrors(isDirectoryAnswerCode, DirectoryRefusal, {
  unavailable: (detail) => directoryError('directoryUnavailable', detail),
  answerInvalid: (detail) => directoryError('directoryAnswerInvalid', detail),
});

export class DirectoryClient {
  private readonly caller: JsonCaller;

  constructor(options: DirectoryClientOptions) {
    this.caller = new JsonCaller(options, directoryCallErrors, directoryAnswerBytesMax);
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

  private call(call: JsonCall) {
    return this.caller.call(call);
  }
}
