// A small test PKI — root, one or more DCP issuers, directory, MDS — so tests, the demo and the
// benchmarks can mint issuances and personalise devices with the same core functions the DCP server
// uses. Test support only: no product module imports src/testing/ (import-rules.test.ts).
import {
  certificateBodyToCbor,
  type Certificate,
  type CertificateRole,
  type SecureElementKind,
} from '../core/certificate.ts';
import { purposes } from '../core/crypto.ts';
import { denyListToCbor, type SignedDenyList } from '../core/deny-list.ts';
import { principalIdOf, requestReferenceBytes, type PrincipalId, type TokenId } from '../core/ids.ts';
import { issuanceBodyToCbor, type Issuance, type IssuanceKind, type Output } from '../core/issuance.ts';
import { defaultLimits, limitsToCbor, type Limits, type SignedLimits } from '../core/limits.ts';
import { signBody } from '../core/signed.ts';
import { u32be, concatBytes, type Bytes } from '../core/bytes.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import { hpkeGenerateKeyPair, type HpkeKeyPair } from '../crypto/hpke.ts';
import { Device } from '../device/device.ts';
import { MemoryMedium } from '../secure-element/store/medium.ts';
import { nodePlatform } from '../secure-element/node-platform.ts';
import type { SecureElementPlatform } from '../secure-element/platform.ts';
import type { Signer } from '../core/crypto.ts';

/** Test time: 2026-01-01T00:00:00Z in seconds; certificates last a year by default. */
export const testEpoch = 1_767_225_600;
export const yearSeconds = 365 * 24 * 3600;

export class TestDcp {
  readonly signer: NodeSigner;
  readonly id: PrincipalId;
  readonly certificate: Certificate;
  readonly #pki: TestPki;
  #references = 0;

  constructor(pki: TestPki, signer: NodeSigner, certificate: Certificate) {
    this.#pki = pki;
    this.signer = signer;
    this.id = certificate.body.subjectId;
    this.certificate = certificate;
  }

  /** A fresh, unique 16-byte request reference. */
  nextReference(): Bytes {
    this.#references++;
    return concatBytes(this.id.subarray(0, requestReferenceBytes - 4), u32be(this.#references));
  }

  issue(
    kind: IssuanceKind,
    outputs: readonly Output[],
    retiredTokenIds: readonly TokenId[] = [],
    time = this.#pki.time,
  ): Issuance {
    return signBody(
      this.signer,
      purposes.issuance,
      { dcpId: this.id, kind, requestReference: this.nextReference(), outputs, retiredTokenIds, time },
      issuanceBodyToCbor,
    );
  }

  limits(kind: SecureElementKind, version: number, overrides: Partial<Limits> = {}): SignedLimits {
    const body = { ...defaultLimits(this.id, kind, version, this.#pki.time), ...overrides };
    return signBody(this.signer, purposes.limits, body, limitsToCbor);
  }

  certifySecureElement(
    publicKey: Bytes,
    kind: SecureElementKind,
    validUntil = this.#pki.time + yearSeconds,
  ): Certificate {
    return this.#pki.certify(this.signer, this.id, kind, publicKey, this.#pki.time - 60, validUntil);
  }
}

export class TestPki {
  readonly verifier = new NodeVerifier();
  readonly platform: SecureElementPlatform;
  readonly root = NodeSigner.generate();
  readonly rootId: PrincipalId;
  readonly directorySigner = NodeSigner.generate();
  readonly directory: Certificate;
  readonly mdsKeys: HpkeKeyPair = hpkeGenerateKeyPair();
  readonly mds: Certificate;
  readonly dcps: TestDcp[] = [];
  /** The test clock, in seconds: what the DCP and directory stamp on what they sign. */
  time = testEpoch;
  #denyListVersion = 0;

  constructor(dcpCount = 1, platform?: SecureElementPlatform) {
    this.platform = platform ?? nodePlatform(this.verifier);
    this.rootId = principalIdOf(this.verifier, this.root.publicKey);
    this.directory = this.certify(this.root, this.rootId, 'directory', this.directorySigner.publicKey);
    this.mds = this.certify(this.root, this.rootId, 'mds', this.mdsKeys.publicKey);
    for (let index = 0; index < dcpCount; index++) {
      const signer = NodeSigner.generate();
      this.dcps.push(
        new TestDcp(this, signer, this.certify(this.root, this.rootId, 'dcpIssuer', signer.publicKey)),
      );
    }
  }

  get dcp(): TestDcp {
    return this.dcps[0]!;
  }

  certify(
    issuer: Signer,
    issuerId: PrincipalId,
    role: CertificateRole,
    publicKey: Bytes,
    validFrom = this.time - 60,
    validUntil = this.time + 10 * yearSeconds,
  ): Certificate {
    const body = {
      role,
      subjectId: principalIdOf(this.verifier, publicKey),
      publicKey,
      issuerId,
      validFrom,
      validUntil,
      profile: role === 'card' || role === 'phone' ? 'standard' : '',
    };
    return signBody(issuer, purposes.certificate, body, certificateBodyToCbor);
  }

  denyList(entries: readonly PrincipalId[], version = ++this.#denyListVersion): SignedDenyList {
    const body = { directoryId: this.directory.body.subjectId, version, time: this.time, entries };
    return signBody(this.directorySigner, purposes.denyList, body, denyListToCbor);
  }

  /**
   * A new device of `kind`, initialised and personalised through its APDUs by `dcp`, holding nothing.
   * Optional limit overrides and certificate expiry for limit and expiry tests.
   */
  newDevice(
    kind: SecureElementKind,
    name: string,
    options: { dcp?: TestDcp; limits?: Partial<Limits>; validUntil?: number } = {},
  ): Device {
    const dcp = options.dcp ?? this.dcp;
    const device = new Device(kind, name, new MemoryMedium(), this.platform);
    const client = device.client();
    const { publicKey } = client.initialise();
    client.personalise({
      certificate: dcp.certifySecureElement(publicKey, kind, options.validUntil),
      rootPublicKey: this.root.publicKey,
      dcpIssuers: this.dcps.map((each) => each.certificate),
      directory: this.directory,
      mds: this.mds,
      limits: dcp.limits(kind, 1, options.limits),
      denyList: this.denyList([], 0),
    });
    return device;
  }

  /** Loads `value` into `device` with a fresh load issuance from `dcp`; returns the new balance. */
  load(device: Device, value: bigint, dcp: TestDcp = this.dcp): bigint {
    const seId = device.client().getData().seId;
    return device.client().load(dcp.issue('load', [{ value, owner: seId }]));
  }
}
