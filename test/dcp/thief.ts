// Attacker tooling for the renewal check and unload gate tests, over HTTP: a secure element whose key
// the attacker holds (generated here and personalised by the real DCP, as if extracted from a chip),
// which signs whatever the holder wants — loads, offline transfers, claims over any tokens with any
// history it builds and seals to the MDS itself — and posts it to the DCP like a device app.
import { fromHex, toHex, type Bytes } from '../../src/core/bytes.ts';
import type { HistoryEntry } from '../../src/core/bundle.ts';
import type { Certificate } from '../../src/core/certificate.ts';
import { claimBodyToCbor } from '../../src/core/claim.ts';
import { purposes } from '../../src/core/crypto.ts';
import { deviceRequestBodyToCbor } from '../../src/core/device-request.ts';
import { tokenIdOf, type PrincipalId } from '../../src/core/ids.ts';
import { issuanceBodyToCbor, type Issuance } from '../../src/core/issuance.ts';
import {
  loadRequestDigest,
  transferRequestDigest,
  unloadRequestDigest,
} from '../../src/core/request-digests.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import { transferBodyToCbor, type Transfer } from '../../src/core/transfer.ts';
import { encodeUpload, uploadInfo } from '../../src/core/upload.ts';
import { hpkeSeal } from '../../src/crypto/hpke.ts';
import { NodeSigner } from '../../src/crypto/node-crypto.ts';
import type { DcpClient, SettleSubmission } from '../../src/dcp/api/client.ts';
import { adminClient, freshKey, verifier, type TestDcp } from './fixtures.ts';

/** A token the thief holds, with the history entries that produce it (oldest first). */
export interface HeldToken {
  readonly id: Bytes;
  readonly value: bigint;
  readonly history: readonly HistoryEntry[];
}

export class Thief {
  #counter = 1;

  private constructor(
    readonly signer: NodeSigner,
    readonly dcp: TestDcp,
    readonly client: DcpClient,
    readonly seId: PrincipalId,
    readonly certificate: Certificate,
    readonly mdsPublicKey: Bytes,
  ) {}

  /** A fresh key personalised as a phone of `dcp` under `walletId`. */
  static async at(dcp: TestDcp, walletId: string, client: DcpClient): Promise<Thief> {
    const signer = NodeSigner.generate();
    const personalisation = await adminClient(dcp.server.url, dcp.operatorKey).personalise(
      freshKey(),
      walletId,
      {
        kind: 'phone',
        publicKey: toHex(signer.publicKey),
      },
    );
    return new Thief(
      signer,
      dcp,
      client,
      personalisation.certificate.body.subjectId,
      personalisation.certificate,
      personalisation.mds.body.publicKey,
    );
  }

  get seIdHex(): string {
    return toHex(this.seId);
  }

  /** A genuine load from the wallet: the DCP's issuance, and the token it makes. */
  async load(amount: bigint): Promise<HeldToken> {
    const { nonce } = await this.client.nonce(this.seIdHex);
    const answer = await this.client.load(freshKey(), {
      seId: this.seIdHex,
      amount: amount.toString(),
      balance: '0',
      deviceRequest: this.#deviceRequest(nonce, loadRequestDigest(verifier, amount, 0n)),
    });
    return issued(answer.issuance);
  }

  /** Value no DCP minted: an "issuance" signed by a key the root never certified. */
  invent(value: bigint): HeldToken {
    const fake = NodeSigner.generate();
    const issuance = signBody(
      fake,
      purposes.issuance,
      {
        dcpId: verifier.sha256(fake.publicKey).subarray(0, 16),
        kind: 'load',
        requestReference: verifier.sha256(fake.publicKey).subarray(16, 32),
        outputs: [{ value, owner: this.seId }],
        retiredTokenIds: [],
        time: 1,
      },
      issuanceBodyToCbor,
    );
    return issued(issuance);
  }

  /** An offline payment of all of `token` to `payee`, signed with the stolen key. */
  pay(token: HeldToken, payee: PrincipalId): HeldToken {
    const transfer: Transfer = signBody(
      this.signer,
      purposes.transfer,
      {
        payerId: this.seId,
        payerCounter: this.#counter++,
        inputs: [token.id],
        outputs: [{ value: token.value, owner: payee }],
        payeeId: payee,
        challenge: verifier.sha256(token.id).subarray(0, 16),
        time: 1,
      },
      transferBodyToCbor,
    );
    const id = tokenIdOf(verifier, verifier.sha256(transfer.bodyBytes), 0);
    return { id, value: token.value, history: [...token.history, { kind: 'transfer', signed: transfer }] };
  }

  /**
   * A renewal, unload or transfer claiming `tokens`, with an upload holding their histories (and the
   * certificates of `payers`), sealed to the MDS and signed over a fresh DCP nonce.
   */
  async settlement(
    kind: SettleSubmission['kind'],
    tokens: readonly HeldToken[],
    options: {
      readonly amount?: bigint;
      readonly payeeSeId?: string;
      readonly payers?: readonly Certificate[];
    } = {},
  ): Promise<SettleSubmission> {
    const { nonce } = await this.client.nonce(this.seIdHex);
    const counter = this.#counter++;
    const plaintext = encodeUpload({
      seId: this.seId,
      counter,
      certificate: this.certificate,
      tokens: tokens.map((token) => ({ id: token.id, value: token.value, generation: generationOf(token) })),
      entries: uniqueEntries(tokens),
      certificates: options.payers ?? [],
      outgoing: [],
      incoming: [],
      installed: [],
      limitsVersion: 1,
      denyListVersion: 0,
    });
    const sealed = hpkeSeal(this.mdsPublicKey, uploadInfo, this.seId, plaintext);
    const claim = signBody(
      this.signer,
      purposes.claim,
      {
        seId: this.seId,
        counter,
        tokens: tokens.map((token) => ({ tokenId: token.id, value: token.value })),
        dcpNonce: nonce,
        uploadDigest: verifier.sha256(sealed),
        lastSyncTime: 0,
      },
      claimBodyToCbor,
    );
    const base = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealed) };
    if (kind === 'renewal') return { kind, body: base };
    const amount = options.amount ?? tokens.reduce((sum, token) => sum + token.value, 0n);
    if (kind === 'unload') {
      const digest = unloadRequestDigest(verifier, amount, claim.bodyBytes);
      return {
        kind,
        body: { ...base, amount: amount.toString(), deviceRequest: this.#deviceRequest(nonce, digest) },
      };
    }
    const payeeSeId = options.payeeSeId ?? '';
    const payee = fromHex(payeeSeId) ?? new Uint8Array(0);
    const digest = transferRequestDigest(verifier, amount, payee, claim.bodyBytes);
    return {
      kind,
      body: {
        ...base,
        amount: amount.toString(),
        payeeSeId,
        deviceRequest: this.#deviceRequest(nonce, digest),
      },
    };
  }

  #deviceRequest(nonce: Bytes, requestDigest: Bytes): string {
    const signed = signBody(
      this.signer,
      purposes.deviceRequest,
      { seId: this.seId, dcpNonce: nonce, requestDigest },
      deviceRequestBodyToCbor,
    );
    return toHex(encodeSigned(signed));
  }
}

/** The token of an issuance's first output, its history the issuance alone. */
export function issued(issuance: Issuance): HeldToken {
  const output = issuance.body.outputs[0];
  if (output === undefined) throw new RangeError('the issuance has no output');
  return {
    id: tokenIdOf(verifier, verifier.sha256(issuance.bodyBytes), 0),
    value: output.value,
    history: [{ kind: 'issuance', signed: issuance }],
  };
}

function generationOf(token: HeldToken): number {
  return token.history.filter((entry) => entry.kind === 'transfer').length;
}

function uniqueEntries(tokens: readonly HeldToken[]): HistoryEntry[] {
  const seen = new Set<string>();
  const entries: HistoryEntry[] = [];
  for (const entry of tokens.flatMap((token) => token.history)) {
    const id = toHex(verifier.sha256(entry.signed.bodyBytes));
    if (seen.has(id)) continue;
    seen.add(id);
    entries.push(entry);
  }
  return entries;
}
