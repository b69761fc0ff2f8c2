// Real uploads for the MDS enclave's tests and benchmark: secure elements driven through their APDUs
// pay each other and seal their uploads with BEGIN SYNC, exactly as a DCP would relay them; the
// frauds come from the attacker tooling (forge.ts): a compromised key spending one token twice or
// reusing a counter towards honest payees, a cloned chip, and a compromised SE's own upload over
// value no DCP minted (which test support seals itself, as a thief holding the key could).
// Test support only: no product module imports src/testing/ (import-rules.test.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex, type Bytes } from '../core/bytes.ts';
import { claimBodyToCbor, type ClaimBody } from '../core/claim.ts';
import { purposes, type Purpose } from '../core/crypto.ts';
import { encodeSigned, signBody } from '../core/signed.ts';
import { buildTrustAnchors, type TrustAnchors } from '../core/trust.ts';
import { encodeUpload, uploadInfo, type Upload } from '../core/upload.ts';
import type { HistoryEntry } from '../core/bundle.ts';
import type { Certificate } from '../core/certificate.ts';
import { hpkeOpener, hpkeSeal } from '../crypto/hpke.ts';
import { NodeSigner } from '../crypto/node-crypto.ts';
import type { DoubleSpendPolicy } from '../core/renewal-verdict.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import type { EnclaveCrypto } from '../mds/enclave/open-upload.ts';
import type { ReportedRetirement, StoreUploadRequest } from '../mds/channel/protocol.ts';
import { EnclaveService } from '../mds/enclave/service.ts';
import { enclaveMigrations } from '../mds/enclave/migrations.ts';
import { countRows, EnclaveTables } from '../mds/enclave/store.ts';
import { migrate } from '../storage/migrations.ts';
import { openDatabase } from '../storage/open.ts';
import type { Database, Engine } from '../storage/database.ts';
import { cloneDevice, publicData } from './devices.ts';
import { createScratchDatabase } from './scratch.ts';
import { Forge, type ForgedToken, type SecureElementKey } from './forge.ts';
import { TestPki } from './test-pki.ts';

/** One upload as the DCP relays it: the claim envelope and the sealed bytes it binds. */
export interface RelayedUpload {
  readonly label: string;
  readonly claim: Bytes;
  readonly sealed: Bytes;
}

export class MdsUploads {
  readonly pki: TestPki;
  readonly forge: Forge;
  readonly anchors: TrustAnchors;
  readonly crypto: EnclaveCrypto;
  #nonces = 0;

  constructor(pki = new TestPki(2)) {
    this.pki = pki;
    this.forge = new Forge(pki);
    this.anchors = buildTrustAnchors(
      pki.verifier,
      pki.root.publicKey,
      pki.dcps.map((dcp) => dcp.certificate),
      pki.time,
    );
    const keys = pki.mdsKeys;
    const open = hpkeOpener(keys.privateKey, keys.publicKey);
    this.crypto = {
      verifier: pki.verifier,
      open: (aad, sealed) => open(uploadInfo, aad, sealed),
    };
  }

  /** The fixture's crypto, counting signature verifications by purpose, and hashes. */
  countingCrypto(): { crypto: EnclaveCrypto; counts: CryptoCounts } {
    const counts: CryptoCounts = { byPurpose: new Map(), verifications: 0, hashes: 0 };
    const inner = this.crypto;
    const crypto: EnclaveCrypto = {
      open: (aad, sealed) => inner.open(aad, sealed),
      verifier: {
        sha256: (data) => {
          counts.hashes++;
          return inner.verifier.sha256(data);
        },
        verify: (publicKey, purpose, message, signature) => {
          counts.verifications++;
          counts.byPurpose.set(purpose, (counts.byPurpose.get(purpose) ?? 0) + 1);
          return inner.verifier.verify(publicKey, purpose, message, signature);
        },
      },
    };
    return { crypto, counts };
  }

  /** The hex id of the first DCP (the relaying DCP in requests). */
  get dcpId(): string {
    return toHex(this.pki.dcp.id);
  }

  seIdOf(device: Device): string {
    return toHex(publicData(device).seId);
  }

  /**
   * Writes this PKI's `trust.json` and `mds.json` into `directory`, in the layout of
   * src/pki/deployment-pki.ts, so that an enclave process opens the uploads sealed here.
   */
  writePkiDirectory(directory: string): void {
    const hex = (certificate: Certificate) => toHex(encodeSigned(certificate));
    const trust = {
      rootPublicKey: toHex(this.pki.root.publicKey),
      dcpIssuers: this.pki.dcps.map((dcp) => hex(dcp.certificate)),
      directory: hex(this.pki.directory),
      mds: hex(this.pki.mds),
    };
    writeFileSync(join(directory, 'trust.json'), JSON.stringify(trust));
    const mds = { certificate: hex(this.pki.mds), privateKey: toHex(this.pki.mdsKeys.privateKey) };
    writeFileSync(join(directory, 'mds.json'), JSON.stringify(mds), { mode: 0o600 });
  }

  /** BEGIN SYNC on `device`: its claim and sealed upload, as the DCP receives them. */
  sync(device: Device, label = device.name): RelayedUpload {
    this.#nonces++;
    const nonce = new Uint8Array(16).fill(this.#nonces & 0xff);
    const { claim, sealedUpload } = device.client().beginSync(nonce);
    return { label, claim: encodeSigned(claim), sealed: sealedUpload };
  }

  request(upload: RelayedUpload, receivedAtMs = 1_000, dcpId = this.dcpId): StoreUploadRequest {
    return { dcpId, claim: upload.claim, sealed: upload.sealed, receivedAtMs };
  }

  /** Three phones: a pays b, b pays c, c pays a; each syncs. No fraud at all. */
  honest(): { uploads: RelayedUpload[]; devices: Device[] } {
    const [a, b, c] = ['alice', 'bob', 'carol'].map((name) => this.pki.newDevice('phone', name));
    for (const device of [a!, b!, c!]) this.pki.load(device, 5_000n);
    assert.deepEqual(new OfflinePayment(a!, b!, 1_200n).tap(), { outcome: 'completed' });
    assert.deepEqual(new OfflinePayment(b!, c!, 3_000n).tap(), { outcome: 'completed' });
    assert.deepEqual(new OfflinePayment(c!, a!, 700n).tap(), { outcome: 'completed' });
    const devices = [a!, b!, c!];
    return { uploads: devices.map((device) => this.sync(device)), devices };
  }

  /**
   * `payersCount` phones loaded with 10,000 each pay 10 to one of as many shop phones in every one
   * of `rounds` rounds (payer i pays shop i + round), so generations stay at most `rounds`; then
   * every phone syncs. Honest traffic for the benchmark.
   */
  shops(payersCount: number, rounds: number): { uploads: RelayedUpload[]; transfers: number } {
    const payers = Array.from({ length: payersCount }, (_, index) =>
      this.pki.newDevice('phone', `payer-${index}`),
    );
    const shops = Array.from({ length: payersCount }, (_, index) =>
      this.pki.newDevice('phone', `shop-${index}`),
    );
    for (const payer of payers) this.pki.load(payer, 10_000n);
    for (let round = 0; round < rounds; round++) {
      payers.forEach((payer, index) => {
        const shop = shops[(index + round) % shops.length]!;
        assert.deepEqual(new OfflinePayment(payer, shop, 10n).tap(), { outcome: 'completed' });
      });
    }
    const devices = [...payers, ...shops];
    return { uploads: devices.map((device) => this.sync(device)), transfers: payersCount * rounds };
  }

  /**
   * The upload a compromised key holding one DCP-minted token of `value` makes of it, as BEGIN SYNC
   * would: well formed, its own (seal it with `sealUpload`).
   */
  thiefUpload(value: bigint): { thief: SecureElementKey; token: ForgedToken; upload: Upload } {
    const { thief, token } = this.fundedThief(value);
    const upload: Upload = {
      seId: thief.id,
      counter: 1,
      certificate: thief.certificate,
      tokens: [{ id: token.id, value: token.value, generation: 0 }],
      entries: [...token.history],
      certificates: [],
      outgoing: [],
      incoming: [],
      installed: [],
      limitsVersion: 1,
      denyListVersion: 0,
    };
    return { thief, token, upload };
  }

  /** A compromised key holding one DCP-minted token of `value` (a genuine load it then abuses). */
  fundedThief(value: bigint): { thief: SecureElementKey; token: ForgedToken } {
    const thief = this.forge.compromisedSecureElement('phone');
    const [token] = this.forge.issue(thief.id, [value]);
    return { thief, token: token! };
  }

  /** `payee` receives a forged payment of `amount` (its RECEIVE verifies everything it can). */
  receiveForged(
    payee: Device,
    thief: SecureElementKey,
    inputs: readonly ForgedToken[],
    amount: bigint,
    counter?: number,
  ): void {
    const request = payee.client().paymentRequest(amount);
    const bundle = this.forge.pay(thief, inputs, request, counter === undefined ? {} : { counter });
    payee.client().receive(bundle);
  }

  /** The thief spends its one token of 1,000 twice: 600 to one honest payee, 400 to another. */
  doubleSpend(): { uploads: RelayedUpload[]; thief: SecureElementKey; payees: Device[] } {
    const { thief, token } = this.fundedThief(1_000n);
    const payees = ['dana', 'erin'].map((name) => this.pki.newDevice('phone', name));
    this.receiveForged(payees[0]!, thief, [token], 600n);
    this.receiveForged(payees[1]!, thief, [token], 400n);
    return { uploads: payees.map((payee) => this.sync(payee)), thief, payees };
  }

  /**
   * The thief pays its one token of 800 away offline (to an honest payee, who syncs) and still claims
   * it at its DCP: `retirement` is the report the DCP then makes of retiring it.
   */
  spentAndRetired(): { uploads: RelayedUpload[]; thief: SecureElementKey; retirement: ReportedRetirement } {
    const { thief, token } = this.fundedThief(800n);
    const payee = this.pki.newDevice('phone', 'fay');
    this.receiveForged(payee, thief, [token], 800n);
    const retirement: ReportedRetirement = {
      tokenId: toHex(token.id),
      value: 800n,
      seId: toHex(thief.id),
      uploadDigest: '00'.repeat(32),
      retiredAtMs: 2_000,
    };
    return { uploads: [this.sync(payee)], thief, retirement };
  }

  /** The thief signs two payments (250 and 100, from two tokens) with the same counter 7. */
  counterReuse(): { uploads: RelayedUpload[]; thief: SecureElementKey } {
    const thief = this.forge.compromisedSecureElement('phone');
    const [first, second] = this.forge.issue(thief.id, [300n, 300n]);
    const payees = ['fay', 'gus'].map((name) => this.pki.newDevice('phone', name));
    this.receiveForged(payees[0]!, thief, [first!], 250n, 7);
    this.receiveForged(payees[1]!, thief, [second!], 100n, 7);
    return { uploads: payees.map((payee) => this.sync(payee)), thief };
  }

  /**
   * A cloned chip: a copy of a phone's memory pays a second payee from the same state, so both
   * spend the same token with the same counter. The payees' uploads carry both payments.
   */
  clone(): { uploads: RelayedUpload[]; original: Device } {
    const original = this.pki.newDevice('phone', 'hal');
    this.pki.load(original, 2_000n);
    const copy = cloneDevice(original);
    const payees = ['ivy', 'jon'].map((name) => this.pki.newDevice('phone', name));
    assert.deepEqual(new OfflinePayment(original, payees[0]!, 500n).tap(), { outcome: 'completed' });
    assert.deepEqual(new OfflinePayment(copy, payees[1]!, 800n).tap(), { outcome: 'completed' });
    return { uploads: payees.map((payee) => this.sync(payee)), original };
  }

  /**
   * A compromised SE's own upload: it claims a token of `value` that a "DCP" the root never certified
   * minted to it, with the upload's history built and sealed by the key's holder.
   */
  fakeFunding(value: bigint): { upload: RelayedUpload; thief: SecureElementKey } {
    const thief = this.forge.compromisedSecureElement('phone');
    const [token] = this.forge.issue(thief.id, [value], this.forge.fakeDcp());
    return { upload: this.forgedUpload(thief, [token!], token!.history), thief };
  }

  /**
   * A transfer that creates value: the thief turns a genuine token of 300 into a payment of 500 to a
   * second compromised SE, which uploads it (no honest payee would have stored it).
   */
  valueCreation(): { upload: RelayedUpload; thief: SecureElementKey } {
    const { thief, token } = this.fundedThief(300n);
    const receiver = this.forge.compromisedSecureElement('phone');
    const [paid] = this.forge.transfer(thief, [token], [{ value: 500n, owner: receiver.id }]);
    return { upload: this.forgedUpload(receiver, [paid!], paid!.history, [thief.certificate]), thief };
  }

  /**
   * An SE certified by a fake DCP pays a compromised (genuinely certified) SE, which uploads the
   * payment: the payer never chains to a DCP issuer of trust.json.
   */
  unknownSigner(): { upload: RelayedUpload; stranger: SecureElementKey } {
    const fake = this.forge.fakeDcp();
    const stranger = this.forge.compromisedSecureElement('phone', { issuer: fake });
    const [funding] = this.forge.issue(stranger.id, [900n]);
    const receiver = this.forge.compromisedSecureElement('phone');
    const [paid] = this.forge.transfer(stranger, [funding!], [{ value: 900n, owner: receiver.id }]);
    return {
      upload: this.forgedUpload(receiver, [paid!], paid!.history, [stranger.certificate]),
      stranger,
    };
  }

  /** Seals an upload for `key` holding `tokens` with `entries`, as its holder could, with a signed claim. */
  forgedUpload(
    key: SecureElementKey,
    tokens: readonly ForgedToken[],
    entries: readonly HistoryEntry[],
    certificates: readonly Certificate[] = [],
    options: SealOptions & { readonly counter?: number } = {},
  ): RelayedUpload {
    const upload: Upload = {
      seId: key.id,
      counter: options.counter ?? 1,
      certificate: key.certificate,
      tokens: tokens.map((token) => ({ id: token.id, value: token.value, generation: 0 })),
      entries: entries.map((entry) => ({ kind: entry.kind, signed: entry.signed }) as HistoryEntry),
      certificates,
      outgoing: [],
      incoming: [],
      installed: [],
      limitsVersion: 1,
      denyListVersion: 0,
    };
    return this.sealUpload(key, upload, `forged ${toHex(key.id).slice(0, 8)}`, options);
  }

  /**
   * Seals `upload` to the MDS and signs the claim over it with `key`. `options` break one thing for
   * the refusal tests: the plaintext, the sealing (another key or info), the claimed counter.
   */
  sealUpload(key: SecureElementKey, upload: Upload, label: string, options: SealOptions = {}): RelayedUpload {
    const plaintext = options.plaintext ?? encodeUpload(upload);
    const sealed =
      options.seal?.(plaintext) ?? hpkeSeal(this.pki.mdsKeys.publicKey, uploadInfo, upload.seId, plaintext);
    return { label, claim: this.claimOver(key, upload, sealed, options), sealed };
  }

  /** A claim envelope by `key` over `sealed`, for `upload`'s SE, counter and tokens. */
  claimOver(key: SecureElementKey, upload: Upload, sealed: Bytes, options: SealOptions = {}): Bytes {
    const body: ClaimBody = {
      seId: upload.seId,
      counter: options.claimCounter ?? upload.counter,
      tokens: upload.tokens.map((token) => ({ tokenId: token.id, value: token.value })),
      dcpNonce: options.dcpNonce ?? new Uint8Array(16),
      uploadDigest: this.pki.verifier.sha256(sealed),
      lastSyncTime: 0,
    };
    return encodeSigned(signBody(key.signer, purposes.claim, body, claimBodyToCbor));
  }
}

/** What `MdsUploads.countingCrypto` counted so far. */
export interface CryptoCounts {
  readonly byPurpose: Map<Purpose, number>;
  verifications: number;
  hashes: number;
}

export interface SealOptions {
  readonly plaintext?: Bytes;
  readonly seal?: (plaintext: Bytes) => Bytes;
  readonly claimCounter?: number;
  readonly dcpNonce?: Bytes;
}

/** Rows of the token graph, for "nothing merged" and "same graph" assertions. */
export interface GraphCounts {
  readonly entries: number;
  readonly tokens: number;
  readonly spends: number;
  readonly counters: number;
  readonly holdings: number;
  readonly evidence: number;
}

/**
 * An `EnclaveService` in-process on a scratch database of `engine`, migrated, with a manual clock,
 * signing renewal verdicts with the test MDS key under `options.policy` (and `options.crypto` in place
 * of the fixture's, e.g. to count verifications).
 */
export interface ScratchEnclave {
  readonly service: EnclaveService;
  readonly database: Database;
  readonly clock: { nowMs: () => number; ms: number };
  graphCounts(): Promise<GraphCounts>;
  close(): Promise<void>;
}

export async function scratchEnclave(
  uploads: MdsUploads,
  engine: Engine,
  options: { readonly crypto?: EnclaveCrypto; readonly policy?: DoubleSpendPolicy } = {},
): Promise<ScratchEnclave> {
  const scratch = await createScratchDatabase(engine);
  const database = openDatabase(scratch.url);
  await migrate(database, enclaveMigrations, 0);
  const clock = {
    ms: 1_000,
    nowMs() {
      return this.ms;
    },
  };
  const service = new EnclaveService({
    database,
    crypto: options.crypto ?? uploads.crypto,
    anchors: uploads.anchors,
    directory: uploads.pki.directory,
    clock,
    verdicts: {
      signer: NodeSigner.fromScalar(uploads.pki.mdsKeys.privateKey, uploads.pki.mdsKeys.publicKey),
      mdsId: uploads.pki.mds.body.subjectId,
      policy: options.policy ?? 'honour',
      sha256: (bytes) => uploads.pki.verifier.sha256(bytes),
    },
  });
  const tables = new EnclaveTables(engine);
  return {
    service,
    database,
    clock,
    graphCounts: async () => ({
      entries: await countRows(database, tables.entries),
      tokens: await countRows(database, tables.tokens),
      spends: await countRows(database, tables.spends),
      counters: await countRows(database, tables.counters),
      holdings: await countRows(database, tables.holdings),
      evidence: await countRows(database, tables.evidence),
    }),
    close: async () => {
      await database.close();
      await scratch.drop();
    },
  };
}
