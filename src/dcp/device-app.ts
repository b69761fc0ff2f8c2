// What a phone app or a card reader does against the DCP's HTTP API (docs/dcp.md): it drives the SE
// through its typed APDU client and the DCP through HTTP. Every mutation carries an idempotency key
// the caller chooses, so a step that failed (a lost answer, a crash of either side) is retried with
// the same key and gets the first answer; the SE's own idempotency (LOAD by issuance) and COMPLETE
// SYNC's checks make installing a replayed answer safe.
import { fromHex, toHex, type Bytes } from '../core/bytes.ts';
import { decodeCbor } from '../core/cbor.ts';
import { certificateFromCbor, type Certificate, type SecureElementKind } from '../core/certificate.ts';
import type { Claim } from '../core/claim.ts';
import type { Verifier } from '../core/crypto.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../core/deny-list.ts';
import type { DeviceRequest } from '../core/device-request.ts';
import { issuanceFromCbor, type Issuance } from '../core/issuance.ts';
import { signedLimitsFromCbor, type SignedLimits } from '../core/limits.ts';
import { encodeSigned } from '../core/signed.ts';
import { loadRequestDigest, transferRequestDigest, unloadRequestDigest } from '../core/request-digests.ts';

/** The SE instructions the app uses (structurally `SecureElementClient` from src/device). */
export interface SecureElementPort {
  initialise(): { seId: Bytes; publicKey: Bytes };
  personalise(personalisation: {
    readonly certificate: Certificate;
    readonly rootPublicKey: Bytes;
    readonly dcpIssuers: readonly Certificate[];
    readonly directory: Certificate;
    readonly mds: Certificate;
    readonly limits: SignedLimits;
    readonly denyList: SignedDenyList;
  }): void;
  getData(): {
    readonly seId: Bytes;
    readonly publicKey: Bytes;
    readonly certificate: Certificate | undefined;
    readonly balance: bigint;
    readonly limitsVersion: number;
    readonly denyListVersion: number;
  };
  load(issuance: Issuance): bigint;
  beginSync(dcpNonce: Bytes): { claim: Claim; sealedUpload: Bytes };
  completeSync(
    renewal: Issuance,
    credits: readonly Issuance[],
    limits?: SignedLimits,
    denyList?: SignedDenyList,
  ): bigint;
  authenticate(dcpNonce: Bytes, requestDigest: Bytes): DeviceRequest;
  updateLimits(limits: SignedLimits): void;
  updateDenyList(denyList: SignedDenyList): void;
}

/** A refusal from the DCP: its error code, number and HTTP status. */
export class DcpRefused extends Error {
  override readonly name = 'DcpRefused';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface SettleWire {
  readonly operationId: string;
  readonly renewal: string;
  readonly credits: readonly string[];
  readonly limits: { readonly card: string; readonly phone: string };
  readonly denyList: string;
}

export interface DeviceAppOptions {
  readonly baseUrl: string;
  readonly verifier: Verifier;
  readonly fetch?: typeof fetch;
}

export class DeviceApp {
  readonly #baseUrl: string;
  readonly #verifier: Verifier;
  readonly #fetch: typeof fetch;

  constructor(options: DeviceAppOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#verifier = options.verifier;
    this.#fetch = options.fetch ?? fetch;
  }

  /** One HTTP call; a non-2xx answer throws `DcpRefused` with the DCP's code. */
  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await this.#fetch(`${this.#baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = JSON.parse(text) as T & { error?: { code: string; message: string } };
    if (response.status >= 400) {
      throw new DcpRefused(response.status, parsed.error?.code ?? 'unknown', parsed.error?.message ?? text);
    }
    return parsed;
  }

  /** Onboarding: INITIALISE, the DCP certifies the key (agent API key), PERSONALISE. Returns the SE id. */
  async personalise(
    se: SecureElementPort,
    kind: SecureElementKind,
    walletId: string,
    agentKey: string,
    key: string,
  ): Promise<string> {
    const data = se.getData();
    const publicKey = data.seId.length === 0 ? se.initialise().publicKey : data.publicKey;
    const { personalisation: p } = await this.call<{ personalisation: Record<string, string | string[]> }>(
      'POST',
      `/v1/wallets/${walletId}/devices`,
      { kind, publicKey: toHex(publicKey) },
      { authorization: `Bearer ${agentKey}`, 'idempotency-key': key },
    );
    const certificate = (hex: string) => certificateFromCbor(decodeCbor(fromHex(hex)!));
    se.personalise({
      certificate: certificate(p['certificate'] as string),
      rootPublicKey: fromHex(p['rootPublicKey'] as string)!,
      dcpIssuers: (p['dcpIssuers'] as string[]).map(certificate),
      directory: certificate(p['directory'] as string),
      mds: certificate(p['mds'] as string),
      limits: signedLimitsFromCbor(decodeCbor(fromHex(p['limits'] as string)!)),
      denyList: signedDenyListFromCbor(decodeCbor(fromHex(p['denyList'] as string)!)),
    });
    return p['seId'] as string;
  }

  async nonce(seId: string): Promise<Bytes> {
    const answer = await this.call<{ nonce: string }>('POST', '/v1/nonces', { seId });
    return fromHex(answer.nonce)!;
  }

  /** Load: nonce, AUTHENTICATE over [amount, balance], post, LOAD. Returns the new balance. */
  async load(se: SecureElementPort, amount: bigint, key: string): Promise<bigint> {
    const data = se.getData();
    const seId = toHex(data.seId);
    const nonce = await this.nonce(seId);
    const request = se.authenticate(nonce, loadRequestDigest(this.#verifier, amount, data.balance));
    const answer = await this.call<{ issuance: string }>(
      'POST',
      '/v1/loads',
      {
        seId,
        amount: amount.toString(),
        balance: data.balance.toString(),
        deviceRequest: toHex(encodeSigned(request)),
      },
      { 'idempotency-key': key },
    );
    return se.load(issuanceFromCbor(decodeCbor(fromHex(answer.issuance)!)));
  }

  /** Renewal (and sync): nonce, BEGIN SYNC, post, COMPLETE SYNC. Returns the new balance. */
  async renew(se: SecureElementPort, key: string): Promise<bigint> {
    const nonce = await this.nonce(toHex(se.getData().seId));
    const { claim, sealedUpload } = se.beginSync(nonce);
    const answer = await this.call<SettleWire>(
      'POST',
      '/v1/renewals',
      { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) },
      { 'idempotency-key': key },
    );
    return this.complete(se, answer);
  }

  /** Unload `amount` to the wallet: BEGIN SYNC, AUTHENTICATE over [amount, claim], post, COMPLETE SYNC. */
  async unload(se: SecureElementPort, amount: bigint, key: string): Promise<bigint> {
    const nonce = await this.nonce(toHex(se.getData().seId));
    const { claim, sealedUpload } = se.beginSync(nonce);
    const request = se.authenticate(nonce, unloadRequestDigest(this.#verifier, amount, claim.bodyBytes));
    const answer = await this.call<SettleWire>(
      'POST',
      '/v1/unloads',
      {
        claim: toHex(encodeSigned(claim)),
        sealedUpload: toHex(sealedUpload),
        amount: amount.toString(),
        deviceRequest: toHex(encodeSigned(request)),
      },
      { 'idempotency-key': key },
    );
    return this.complete(se, answer);
  }

  /** Online transfer of `amount` to another SE (of any DCP). */
  async transfer(se: SecureElementPort, payeeSeId: string, amount: bigint, key: string): Promise<bigint> {
    const nonce = await this.nonce(toHex(se.getData().seId));
    const { claim, sealedUpload } = se.beginSync(nonce);
    const request = se.authenticate(
      nonce,
      transferRequestDigest(this.#verifier, amount, fromHex(payeeSeId)!, claim.bodyBytes),
    );
    const answer = await this.call<SettleWire>(
      'POST',
      '/v1/transfers',
      {
        claim: toHex(encodeSigned(claim)),
        sealedUpload: toHex(sealedUpload),
        amount: amount.toString(),
        payeeSeId,
        deviceRequest: toHex(encodeSigned(request)),
      },
      { 'idempotency-key': key },
    );
    return this.complete(se, answer);
  }

  /** Installs newer limits and deny list without a renewal (UPDATE LIMITS, UPDATE DENY LIST). */
  async updates(se: SecureElementPort, kind: SecureElementKind): Promise<void> {
    const data = se.getData();
    const answer = await this.call<{ limits: string; denyList: string }>(
      'GET',
      `/v1/devices/${toHex(data.seId)}/updates`,
    );
    const limits = signedLimitsFromCbor(decodeCbor(fromHex(answer.limits)!));
    const denyList = signedDenyListFromCbor(decodeCbor(fromHex(answer.denyList)!));
    if (limits.body.version > data.limitsVersion && limits.body.kind === kind) se.updateLimits(limits);
    if (denyList.body.version > data.denyListVersion) se.updateDenyList(denyList);
  }

  #complete(se: SecureElementPort, answer: SettleWire): bigint {
    const data = se.getData();
    const limits = signedLimitsFromCbor(decodeCbor(fromHex(answer.limits[kindOf(se)])!));
    const denyList = signedDenyListFromCbor(decodeCbor(fromHex(answer.denyList)!));
    return se.completeSync(
      issuanceFromCbor(decodeCbor(fromHex(answer.renewal)!)),
      answer.credits.map((hex) => issuanceFromCbor(decodeCbor(fromHex(hex)!))),
      limits.body.version > data.limitsVersion ? limits : undefined,
      denyList.body.version > data.denyListVersion ? denyList : undefined,
    );
  }

  complete(se: SecureElementPort, answer: SettleWire): bigint {
    return this.#complete(se, answer);
  }
}

function kindOf(se: SecureElementPort): SecureElementKind {
  return se.getData().certificate?.body.role === 'card' ? 'card' : 'phone';
}
