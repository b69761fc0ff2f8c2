// The DCP's typed HTTP client: what a phone app or card reader (src/device/device-app.ts), an agent's
// tool and a peer DCP (an online transfer's credit) call. It imports nothing but core, the shared
// client-side HTTP layer (src/http-client/, itself core-only) and this folder, so any device or
// service may use it without depending on the DCP's implementation (a test checks it).
//
// Every call has a timeout per attempt, bounded attempts and a bound on the answer (the shared
// `JsonCaller`); every answer is decoded field by field (decode.ts). Every mutation carries the
// caller's idempotency key, so a call may be retried after a timeout or a lost connection: the DCP
// answers a replay with the first answer. Refusals (4xx) are never retried and surface as
// `DcpRefusal`, a `CbdcError` with the DCP's code.
import {
  JsonCaller,
  catalogueCallErrors,
  type JsonCall,
  type JsonCallerOptions,
} from '../../http-client/json-caller.ts';
import { catalogueRefusal } from '../../http-client/refusal.ts';
import {
  decodeCredit,
  decodeDescription,
  decodeLoadAnswer,
  decodeLoadRefusalAnswer,
  decodeNonce,
  decodeParticipant,
  decodePersonalisation,
  decodeSettleAnswer,
  decodeSupply,
  decodeUpdates,
  decodeWallet,
  decodeWalletBalance,
  field,
} from './decode.ts';
import { dcpAnswers, dcpError, type DcpAnswerCode } from './errors.ts';
import type {
  CreditAnswer,
  CreditBody,
  DcpDescription,
  DcpNonce,
  DcpParticipant,
  DcpSupply,
  DcpWallet,
  DcpWalletBalance,
  DeviceUpdates,
  LoadAnswer,
  LoadBody,
  LoadRefusalAnswer,
  LoadRefusalBody,
  ParticipantBody,
  Personalisation,
  PersonaliseBody,
  SettleAnswer,
  SettleKind,
  SettleSubmission,
  WalletBody,
} from './types.ts';

export type * from './types.ts';

/**
 * The largest answer is a settlement: a renewal, up to 16 credit issuances, both kinds' limits and
 * the full deny list (1,024 ids, ≈ 40 KiB of hex). Anything far larger is not a DCP answer.
 */
export const dcpAnswerBytesMax = 1024 * 1024;

export interface DcpClientOptions extends JsonCallerOptions {
  /** e.g. http://127.0.0.1:4300 */
  readonly baseUrl: string;
  /** An operator's or agent's key; device routes and the peer routes need none. */
  readonly apiKey?: string;
}

/** A refusal from the DCP: `code` from its catalogue or a generic service code, `status` the HTTP status. */
export class DcpRefusal extends catalogueRefusal<DcpAnswerCode>(dcpAnswers.definition) {}

const dcpCallErrors = catalogueCallErrors(dcpAnswers.isCode, DcpRefusal, {
  unavailable: (detail) => dcpError('dcpUnavailable', detail),
  answerInvalid: (detail) => dcpError('dcpAnswerInvalid', detail),
});

/** The route of each settlement kind. */
export const settlePaths: Readonly<Record<SettleKind, string>> = {
  renewal: '/v1/renewals',
  unload: '/v1/unloads',
  transfer: '/v1/transfers',
};

export class DcpClient {
  private readonly caller: JsonCaller;

  constructor(options: DcpClientOptions) {
    this.caller = new JsonCaller(options, dcpCallErrors, dcpAnswerBytesMax);
  }

  /** `GET /v1/dcp`: what peers need to pay this DCP's pool. */
  async describe(): Promise<DcpDescription> {
    return decodeDescription((await this.call({ method: 'GET', path: '/v1/dcp' })).body);
  }

  async createParticipant(idempotencyKey: string, body: ParticipantBody): Promise<DcpParticipant> {
    const answer = await this.call({ method: 'POST', path: '/v1/participants', body, idempotencyKey });
    return decodeParticipant(field(answer.body, 'participant'));
  }

  async createWallet(idempotencyKey: string, body: WalletBody): Promise<DcpWallet> {
    const answer = await this.call({ method: 'POST', path: '/v1/wallets', body, idempotencyKey });
    return decodeWallet(field(answer.body, 'wallet'));
  }

  async wallet(walletId: string): Promise<DcpWalletBalance> {
    const answer = await this.call({ method: 'GET', path: `/v1/wallets/${encodeURIComponent(walletId)}` });
    return decodeWalletBalance(field(answer.body, 'wallet'));
  }

  async personalise(
    idempotencyKey: string,
    walletId: string,
    body: PersonaliseBody,
  ): Promise<Personalisation> {
    const path = `/v1/wallets/${encodeURIComponent(walletId)}/devices`;
    const answer = await this.call({ method: 'POST', path, body, idempotencyKey });
    return decodePersonalisation(field(answer.body, 'personalisation'));
  }

  async supply(): Promise<DcpSupply> {
    return decodeSupply((await this.call({ method: 'GET', path: '/v1/supply' })).body);
  }

  async nonce(seId: string): Promise<DcpNonce> {
    const answer = await this.call({ method: 'POST', path: '/v1/nonces', body: { seId } });
    return decodeNonce(answer.body);
  }

  async load(idempotencyKey: string, body: LoadBody): Promise<LoadAnswer> {
    const answer = await this.call({ method: 'POST', path: '/v1/loads', body, idempotencyKey });
    return decodeLoadAnswer(answer.body);
  }

  /** A load its SE refused, returned to the wallet (idempotent by the issuance the refusal names). */
  async returnRefusedLoad(body: LoadRefusalBody): Promise<LoadRefusalAnswer> {
    const answer = await this.call({ method: 'POST', path: '/v1/loads/refusals', body });
    return decodeLoadRefusalAnswer(answer.body);
  }

  /** A renewal, an unload or an online transfer: the submission's kind names the route. */
  async settle(idempotencyKey: string, submission: SettleSubmission): Promise<SettleAnswer> {
    const path = settlePaths[submission.kind];
    const answer = await this.call({ method: 'POST', path, body: submission.body, idempotencyKey });
    return decodeSettleAnswer(answer.body);
  }

  /** Announces a ledger payment into this DCP's pool for one of its devices (idempotent by payment). */
  async credit(body: CreditBody): Promise<CreditAnswer> {
    return decodeCredit((await this.call({ method: 'POST', path: '/v1/credits', body })).body);
  }

  async updates(seId: string): Promise<DeviceUpdates> {
    const path = `/v1/devices/${encodeURIComponent(seId)}/updates`;
    return decodeUpdates((await this.call({ method: 'GET', path })).body);
  }

  private call(call: JsonCall) {
    return this.caller.call(call);
  }
}
