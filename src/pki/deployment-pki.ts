// A deployment's keys and certificates, as files (DESIGN §3): the root certifies each DCP issuer, the
// directory and the MDS. `cbdc pki init` creates them for a test or demo deployment; each service
// loads only its own principal file plus the public trust file.
//
//   <dir>/trust.json            public: root public key, every DCP issuer, directory and MDS certificate
//   <dir>/root.json             the root's private key (a real deployment keeps it offline, in an HSM)
//   <dir>/dcp-<name>.json       a DCP issuer's certificate and private key
//   <dir>/directory.json        the directory's certificate and private key
//   <dir>/mds.json              the MDS certificate and its HPKE private key
//
// Keys and certificates are hex: private keys as the 32-byte P-256 scalar, certificates as the
// canonical CBOR envelope. Private files are written with mode 0600.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex, type Bytes } from '../core/bytes.ts';
import { decodeCbor } from '../core/cbor.ts';
import {
  certificateBodyToCbor,
  certificateFromCbor,
  type Certificate,
  type CertificateRole,
} from '../core/certificate.ts';
import { purposes } from '../core/crypto.ts';
import { principalIdOf, type PrincipalId } from '../core/ids.ts';
import { encodeSigned, signBody } from '../core/signed.ts';
import { buildTrustAnchors, verifyRootCertificate, type TrustAnchors } from '../core/trust.ts';
import { NodeSigner, NodeVerifier } from '../crypto/node-crypto.ts';
import { hpkeGenerateKeyPair } from '../crypto/hpke.ts';

/** Lifetime of the certificates `cbdc pki init` makes: ten years. */
export const principalCertificateSeconds = 10 * 365 * 24 * 3600;
/** DCP names become file names. */
const dcpNamePattern = /^[a-z0-9-]{1,32}$/;

export interface Trust {
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
}

/** A principal's certificate and its private key: a P-256 signing scalar, or the MDS's HPKE key. */
export interface Principal {
  readonly certificate: Certificate;
  readonly privateKey: Bytes;
}

export interface CreatedPki {
  readonly trust: Trust;
  readonly dcps: ReadonlyMap<string, Principal>;
  readonly directory: Principal;
  readonly mds: Principal;
}

/** Creates a root, the named DCP issuers, a directory and an MDS, and writes them under `directory`. */
export function createDeploymentPki(
  directory: string,
  dcpNames: readonly string[],
  nowSeconds: number,
): CreatedPki {
  for (const name of dcpNames)
    if (!dcpNamePattern.test(name)) throw new RangeError(`DCP name must match ${dcpNamePattern}: ${name}`);
  const verifier = new NodeVerifier();
  const root = NodeSigner.generate();
  const rootId = principalIdOf(verifier, root.publicKey);
  const certify = (role: CertificateRole, publicKey: Bytes): Certificate =>
    signBody(
      root,
      purposes.certificate,
      {
        role,
        subjectId: principalIdOf(verifier, publicKey),
        publicKey,
        issuerId: rootId,
        validFrom: nowSeconds - 60,
        validUntil: nowSeconds + principalCertificateSeconds,
        profile: '',
      },
      certificateBodyToCbor,
    );
  const signingPrincipal = (role: CertificateRole): Principal => {
    const signer = NodeSigner.generate();
    return { certificate: certify(role, signer.publicKey), privateKey: signer.exportPrivateScalar() };
  };
  const dcps = new Map(dcpNames.map((name) => [name, signingPrincipal('dcpIssuer')]));
  const directoryPrincipal = signingPrincipal('directory');
  const mdsKeys = hpkeGenerateKeyPair();
  const mds = { certificate: certify('mds', mdsKeys.publicKey), privateKey: mdsKeys.privateKey };
  const trust: Trust = {
    rootPublicKey: root.publicKey,
    dcpIssuers: [...dcps.values()].map((principal) => principal.certificate),
    directory: directoryPrincipal.certificate,
    mds: mds.certificate,
  };
  mkdirSync(directory, { recursive: true });
  writeJson(join(directory, 'trust.json'), trustToJson(trust), false);
  writeJson(
    join(directory, 'root.json'),
    { privateKey: toHex(root.exportPrivateScalar()), publicKey: toHex(root.publicKey) },
    true,
  );
  for (const [name, principal] of dcps)
    writeJson(join(directory, `dcp-${name}.json`), principalToJson(principal), true);
  writeJson(join(directory, 'directory.json'), principalToJson(directoryPrincipal), true);
  writeJson(join(directory, 'mds.json'), principalToJson(mds), true);
  return { trust, dcps, directory: directoryPrincipal, mds };
}

/** Reads and verifies `trust.json`: every certificate must be the root's, for its role. */
export function loadTrust(directory: string, nowSeconds: number): Trust & { readonly anchors: TrustAnchors } {
  const json = readJson(join(directory, 'trust.json'));
  const verifier = new NodeVerifier();
  const rootPublicKey = hexField(json, 'rootPublicKey');
  const dcpIssuers = arrayField(json, 'dcpIssuers').map((hex) => certificateFromHex(hex));
  const directoryCertificate = verifyRootCertificate(
    verifier,
    rootPublicKey,
    certificateFromHex(stringField(json, 'directory')),
    'directory',
    nowSeconds,
  );
  const mds = verifyRootCertificate(
    verifier,
    rootPublicKey,
    certificateFromHex(stringField(json, 'mds')),
    'mds',
    nowSeconds,
  );
  const anchors = buildTrustAnchors(verifier, rootPublicKey, dcpIssuers, nowSeconds);
  return { rootPublicKey, dcpIssuers, directory: directoryCertificate, mds, anchors };
}

/** Reads a principal file (`dcp-<name>.json`, `directory.json`, `mds.json`). */
export function loadPrincipal(directory: string, fileName: string): Principal {
  const json = readJson(join(directory, fileName));
  return {
    certificate: certificateFromHex(stringField(json, 'certificate')),
    privateKey: hexField(json, 'privateKey'),
  };
}

/** The signer of a signing principal (DCP issuer, directory). */
export function principalSigner(principal: Principal): NodeSigner {
  return NodeSigner.fromScalar(principal.privateKey, principal.certificate.body.publicKey);
}

export function principalId(principal: Principal): PrincipalId {
  return principal.certificate.body.subjectId;
}

function trustToJson(trust: Trust): Record<string, unknown> {
  return {
    rootPublicKey: toHex(trust.rootPublicKey),
    dcpIssuers: trust.dcpIssuers.map((certificate) => toHex(encodeSigned(certificate))),
    directory: toHex(encodeSigned(trust.directory)),
    mds: toHex(encodeSigned(trust.mds)),
  };
}

function principalToJson(principal: Principal): Record<string, unknown> {
  return { certificate: toHex(encodeSigned(principal.certificate)), privateKey: toHex(principal.privateKey) };
}

function certificateFromHex(hex: string): Certificate {
  const bytes = fromHex(hex);
  if (bytes === undefined) throw new RangeError('certificate is not hex');
  return certificateFromCbor(decodeCbor(bytes));
}

function writeJson(path: string, value: Record<string, unknown>, secret: boolean): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n', { mode: secret ? 0o600 : 0o644 });
}

function readJson(path: string): Record<string, unknown> {
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RangeError(`${path} is not a JSON object`);
  return value as Record<string, unknown>;
}

function stringField(json: Record<string, unknown>, name: string): string {
  const value = json[name];
  if (typeof value !== 'string') throw new RangeError(`${name} must be a string`);
  return value;
}

function hexField(json: Record<string, unknown>, name: string): Bytes {
  const bytes = fromHex(stringField(json, name));
  if (bytes === undefined) throw new RangeError(`${name} must be hex`);
  return bytes;
}

function arrayField(json: Record<string, unknown>, name: string): string[] {
  const value = json[name];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new RangeError(`${name} must be an array of strings`);
  return value;
}
