// What a phone app or a card reader does against its DCP (docs/dcp.md): it drives the SE through its
// typed APDU client and the DCP through `DcpClient` (src/dcp/api/): every call has a timeout and a
// bounded, decoded answer. Every mutation carries an idempotency key the caller chooses, so a step
// that failed (a lost answer, a crash of either side) is retried with the same key and gets the
// first answer; the SE's own idempotency (LOAD by issuance) and COMPLETE SYNC's checks make
// installing a replayed answer safe.
import { fromHex, toHex, type Bytes } from '../core/bytes.ts';
import type { Certificate, SecureElementKind } from '../core/certificate.ts';
import type { Claim } from '../core/claim.ts';
import type { Verifier } from '../core/crypto.ts';
import type { SignedDenyList } from '../core/deny-list.ts';
import type { DeviceRequest } from '../core/device-request.ts';
import { principalIdBytes } from '../core/ids.ts';
import type { Issuance } from '../core/issuance.ts';
import type { LoadRefusal } from '../core/load-refusal.ts';
import type { SignedLimits } from '../core/limits.ts';
import { loadRequestDigest, transferRequestDigest, unloadRequestDigest } from '../core/request-digests.ts';
import { encodeSigned } from '../core/signed.ts';
import {
  DcpClient,
  type DcpClientOptions,
  type LoadBody,
  type LoadRefusalAnswer,
  type SettleAnswer,
  type SettleSubmission,
} from '../dcp/api/client.ts';
import type { Personalisation } from '../dcp/api/types.ts';
import { SecureElementRefused } from './se-client.ts';
import { SecureElementTurns } from './se-turns.ts';

/** The SE instructions the app uses (structurally `SecureElementClient`, se-client.ts). */
export interface SecureElementPort {
  initialise(): { seId: Bytes; publicKey: Bytes };
  personalise(personalisation: Omit<Personalisation, 'seId' | 'walletId'>): void;
  getData(): {
    readonly seId: Bytes;
    readonly publicKey: Bytes;
    readonly certificate: Certificate | undefined;
    readonly balance: bigint;
    readonly limitsVersion: number;
    readonly denyListVersion: number;
  };
  load(issuance: Issuance): bigint;
  refuseLoad(issuance: Issuance): LoadRefusal;
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

/** The DCP's address and call bounds (`DcpClientOptions` without a key), and the crypto of digests. */
export interface DeviceAppOptions extends Omit<DcpClientOptions, 'apiKey'> {
  readonly verifier: Verifier;
}

/** A settlement prepared by the SE (BEGIN SYNC, AUTHENTICATE), with the claim it signed. */
export type PreparedSettlement = SettleSubmission & { readonly claim: Claim };

export class DeviceApp {
  /** The DCP's device routes (no API key). */
  readonly client: DcpClient;
  readonly #options: DeviceAppOptions;
  readonly #verifier: Verifier;
  readonly #turns = new SecureElementTurns();

  constructor(options: DeviceAppOptions) {
    this.#options = options;
    this.#verifier = options.verifier;
    this.client = new DcpClient(options);
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
    const agent = new DcpClient({ ...this.#options, apiKey: agentKey });
    const personalisation = await agent.personalise(key, walletId, { kind, publicKey: toHex(publicKey) });
    se.personalise(personalisation);
    return personalisation.seId;
  }

  async nonce(seId: string): Promise<Bytes> {
    return (await this.client.nonce(seId)).nonce;
  }

  /** A load as the device posts it: a nonce, then AUTHENTICATE over [amount, balance]. */
  async prepareLoad(se: SecureElementPort, amount: bigint): Promise<LoadBody> {
    const data = se.getData();
    const seId = toHex(data.seId);
    const nonce = await this.nonce(seId);
    const request = se.authenticate(nonce, loadRequestDigest(this.#verifier, amount, data.balance));
    return {
      seId,
      amount: amount.toString(),
      balance: data.balance.toString(),
      deviceRequest: toHex(encodeSigned(request)),
    };
  }

  /**
   * Load: the prepared request, posted, then LOAD. Returns the new balance. A load the SE cannot
   * hold (it received value since it signed its balance) goes back to the wallet instead: the SE
   * signs and records its refusal, the DCP returns the value, and the balance is unchanged.
   */
  async load(se: SecureElementPort, amount: bigint, key: string): Promise<bigint> {
    return this.#turns.load(toHex(se.getData().seId), async () => {
      const answer = await this.client.load(key, await this.prepareLoad(se, amount));
      return (await this.install(se, answer.issuance)).balance;
    });
  }

  /**
   * LOAD of an issuance the DCP answered; past the balance limit, REFUSE LOAD and the refusal posted
   * (each step safe to repeat: REFUSE LOAD answers the same refusal, the DCP returns it once).
   */
  async install(
    se: SecureElementPort,
    issuance: Issuance,
  ): Promise<{ readonly balance: bigint; readonly returned?: LoadRefusalAnswer }> {
    try {
      return { balance: se.load(issuance) };
    } catch (error) {
      if (!(error instanceof SecureElementRefused && error.code === 'balanceLimitExceeded')) throw error;
    }
    const refusal = se.refuseLoad(issuance);
    const returned = await this.client.returnRefusedLoad({ refusal: toHex(encodeSigned(refusal)) });
    return { balance: se.getData().balance, returned };
  }

  /**
   * A settlement as the device posts it: a nonce, BEGIN SYNC, and for an unload or a transfer
   * AUTHENTICATE over [amount, (payee,) claim] with the claim's nonce.
   */
  async prepareSettlement(
    se: SecureElementPort,
    request:
      | { readonly kind: 'renewal' }
      | { readonly kind: 'unload'; readonly amount: bigint }
      | { readonly kind: 'transfer'; readonly amount: bigint; readonly payeeSeId: string },
  ): Promise<PreparedSettlement> {
    const nonce = await this.nonce(toHex(se.getData().seId));
    const { claim, sealedUpload } = se.beginSync(nonce);
    const base = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) };
    if (request.kind === 'renewal') return { kind: 'renewal', body: base, claim };
    const amount = request.amount.toString();
    if (request.kind === 'unload') {
      const digest = unloadRequestDigest(this.#verifier, request.amount, claim.bodyBytes);
      const deviceRequest = toHex(encodeSigned(se.authenticate(nonce, digest)));
      return { kind: 'unload', body: { ...base, amount, deviceRequest }, claim };
    }
    const payee = seIdBytes(request.payeeSeId);
    const digest = transferRequestDigest(this.#verifier, request.amount, payee, claim.bodyBytes);
    const deviceRequest = toHex(encodeSigned(se.authenticate(nonce, digest)));
    const body = { ...base, amount, payeeSeId: request.payeeSeId, deviceRequest };
    return { kind: 'transfer', body, claim };
  }

  /** Renewal (and sync): nonce, BEGIN SYNC, post, COMPLETE SYNC. Returns the new balance. */
  async renew(se: SecureElementPort, key: string): Promise<bigint> {
    return this.#settle(se, key, { kind: 'renewal' });
  }

  /** Unload `amount` to the wallet: BEGIN SYNC, AUTHENTICATE over [amount, claim], post, COMPLETE SYNC. */
  async unload(se: SecureElementPort, amount: bigint, key: string): Promise<bigint> {
    return this.#settle(se, key, { kind: 'unload', amount });
  }

  /** Online transfer of `amount` to another SE (of any DCP). */
  async transfer(se: SecureElementPort, payeeSeId: string, amount: bigint, key: string): Promise<bigint> {
    return this.#settle(se, key, { kind: 'transfer', amount, payeeSeId });
  }

  /** Installs newer limits and deny list without a renewal (UPDATE LIMITS, UPDATE DENY LIST). */
  async updates(se: SecureElementPort, kind: SecureElementKind): Promise<void> {
    const data = se.getData();
    const { limits, denyList } = await this.client.updates(toHex(data.seId));
    if (limits.body.version > data.limitsVersion && limits.body.kind === kind) se.updateLimits(limits);
    if (denyList.body.version > data.denyListVersion) se.updateDenyList(denyList);
  }

  /** COMPLETE SYNC with a settlement's answer, and the limits and deny list when they are newer. */
  complete(se: SecureElementPort, answer: SettleAnswer): bigint {
    const data = se.getData();
    const limits = answer.limits[data.certificate?.body.role === 'card' ? 'card' : 'phone'];
    return se.completeSync(
      answer.renewal,
      [...answer.credits, ...answer.loads],
      limits.body.version > data.limitsVersion ? limits : undefined,
      answer.denyList.body.version > data.denyListVersion ? answer.denyList : undefined,
    );
  }

  /** A settlement in its own turn on the SE (se-turns.ts): no load of it in flight meanwhile. */
  async #settle(
    se: SecureElementPort,
    key: string,
    request: Parameters<DeviceApp['prepareSettlement']>[1],
  ): Promise<bigint> {
    return this.#turns.settlement(toHex(se.getData().seId), async () => {
      const prepared = await this.prepareSettlement(se, request);
      const answer = await this.client.settle(key, prepared);
      const balance = this.complete(se, answer);
      await this.returnRefusedDeliveries(se, answer.loads);
      return balance;
    });
  }

  /**
   * The loads a sync delivered again that COMPLETE SYNC refused for the balance limit: REFUSE LOAD
   * answers each one's recorded refusal, which goes to the DCP (the value back to the wallet). One
   * installed answers `issuanceNotRefusable`, one installed before the last sync `issuanceStale`.
   */
  async returnRefusedDeliveries(se: SecureElementPort, loads: readonly Issuance[]): Promise<void> {
    for (const issuance of loads) {
      let refusal;
      try {
        refusal = se.refuseLoad(issuance);
      } catch (error) {
        const installed = ['issuanceNotRefusable', 'issuanceStale'];
        if (error instanceof SecureElementRefused && installed.includes(error.code ?? '')) continue;
        throw error;
      }
      await this.client.returnRefusedLoad({ refusal: toHex(encodeSigned(refusal)) });
    }
  }
}

/** A payee SE id given by the caller: 32 hex digits, or a RangeError naming it. */
function seIdBytes(hex: string): Bytes {
  const bytes = /^[0-9a-f]{32}$/.test(hex) ? fromHex(hex) : undefined;
  if (bytes?.length !== principalIdBytes)
    throw new RangeError(`payeeSeId ${hex} is not 32 lowercase hex digits`);
  return bytes;
}
