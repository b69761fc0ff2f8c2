// The second half of ingest (docs/mds.md, "Enclave"): turn an opened upload into facts for the token
// graph. Every rule here is a function of the upload alone, so the facts (and the fake-funding
// findings) of an upload are the same whenever it is ingested; the graph is their set union.
//
// Rules, in order, each refusing the whole upload (nothing merged) with a core code:
//   1. every bundle of an outgoing payment decodes;
//   2. every entry has outputs, and every transfer is signed by the key of a certificate carried in
//      the upload for its payer (`certificateChainInvalid` when none, `certificateIdMismatch`,
//      `signatureInvalid`): a signature that fails proves nothing about anyone, so it is no evidence;
//   3. every transfer's inputs are produced by an entry of this upload (an honest SE keeps the whole
//      history of what it holds and spent since its last sync): `historyIncomplete`; no transfer
//      names an input twice (`duplicateInput`), every input belongs to the payer (`tokenNotOwned`),
//      and no transfer destroys value (`transferNotConserving`);
//   4. no token's generation exceeds generationCeiling (`generationLimitExceeded`);
//   5. every claimed token is produced, for this SE and with its value, by an entry of the upload
//      (`historyIncomplete`).
// What is fraud rather than a broken upload is kept as a fact: an issuance not signed by a DCP issuer
// of trust.json is merged unbacked; a transfer whose signer's certificate does not chain is merged
// unbacked (unknownSigner); a transfer paying out more than its backed inputs, and a claimed token an
// unbacked issuance produced, are fake-funding findings.
import { present } from './present.ts';
import { bytesEqual, toHex } from '../../core/bytes.ts';
import { decodeBundle } from '../../core/bundle.ts';
import { purposes } from '../../core/crypto.ts';
import { coreError, isCbdcError } from '../../core/errors.ts';
import { idKey, principalIdOf } from '../../core/ids.ts';
import { generationCeiling } from '../../core/limits.ts';
import { assert } from '../../core/assert.ts';
import { transferInputsMax } from '../../core/transfer.ts';
import { encodeSigned } from '../../core/signed.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import { identifyEntry, type IdentifiedEntry } from '../../core/validate-bundle.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { VerifiedCertificates } from '../../core/verified-certificates.ts';
import type { Upload } from '../../core/upload.ts';
import type { EnclaveCrypto } from './open-upload.ts';

export interface EntryFact {
  readonly id: string;
  readonly kind: 'transfer' | 'issuance';
  /** The DCP id of an issuance, the payer of a transfer. */
  readonly signer: string;
  readonly backed: boolean;
  /** The sum of the entry's outputs. */
  readonly value: bigint;
  /** A transfer's payment (output 0); an issuance's value. */
  readonly paid: bigint;
  readonly envelope: string;
  /** A transfer's advisory time (the payer's clock), an issuance's time (the DCP's); seconds. */
  readonly time: number;
}

export interface TokenFact {
  readonly id: string;
  readonly value: bigint;
  readonly owner: string;
  readonly parent: string;
  readonly generation: number;
}

/** A fake-funding finding: `subject` is the transfer or the claimed token it is about. */
export interface FakeFunding {
  readonly subject: string;
  readonly seId: string;
  readonly value: bigint;
  readonly evidence: readonly string[];
}

export interface UploadFacts {
  readonly entries: readonly EntryFact[];
  readonly tokens: readonly TokenFact[];
  readonly spends: readonly { readonly tokenId: string; readonly transferId: string }[];
  readonly counters: readonly {
    readonly seId: string;
    readonly counter: number;
    readonly transferId: string;
  }[];
  readonly holdings: readonly { readonly tokenId: string; readonly value: bigint }[];
  readonly fakeFunding: readonly FakeFunding[];
}

/** Every history entry of an upload, each once: its stored entries and its outgoing bundles'. */
export interface CollectedEntries {
  readonly entries: ReadonlyMap<string, IdentifiedEntry>;
  readonly certificates: ReadonlyMap<string, Certificate>;
}

/**
 * What ingest remembers between uploads: SE certificates whose chain it checked (a bounded memory,
 * src/core/verified-certificates.ts), so a payer seen in many histories costs one verification.
 */
export interface IngestMemory {
  readonly certificates: VerifiedCertificates;
}

/** An entry already in the graph with these very bytes, verified when it was merged. */
export type KnownEntries = ReadonlyMap<string, { readonly envelope: string; readonly backed: boolean }>;

export function collectEntries(crypto: EnclaveCrypto, upload: Upload): CollectedEntries {
  const entries = new Map<string, IdentifiedEntry>();
  const certificates = new Map<string, Certificate>();
  const addCertificate = (certificate: Certificate) => {
    const key = idKey(certificate.body.subjectId);
    if (!certificates.has(key)) certificates.set(key, certificate);
  };
  // An outgoing bundle repeats history the upload lists already (honest uploads: nearly half their
  // entries): the same signature over the same body is the same entry, kept once, as its id would
  // say, without hashing it and its outputs again.
  const bySignature = new Map<string, IdentifiedEntry>();
  const addEntries = (list: Upload['entries']) => {
    for (const entry of list) {
      const signatureKey = toHex(entry.signed.signature);
      const seen = bySignature.get(signatureKey);
      if (seen?.kind === entry.kind && bytesEqual(seen.signed.bodyBytes, entry.signed.bodyBytes)) continue;
      const identified = identifyEntry(crypto.verifier, entry);
      const key = idKey(identified.id);
      if (!entries.has(key)) entries.set(key, identified);
      bySignature.set(signatureKey, identified);
    }
  };
  addCertificate(upload.certificate);
  upload.certificates.forEach(addCertificate);
  addEntries(upload.entries);
  for (const record of upload.outgoing) {
    const bundle = decodeBundle(record.bundle);
    bundle.certificates.forEach(addCertificate);
    addEntries(bundle.entries);
  }
  return { entries, certificates };
}

/** A token an entry of the upload produces; the keys are hex, computed once (map keys everywhere). */
interface Produced {
  readonly value: bigint;
  readonly ownerKey: string;
  readonly parent: IdentifiedEntry;
  readonly parentKey: string;
}

/** Applies the rules above; throws the core code of the first one broken. */
export function uploadFacts(
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  upload: Upload,
  collected: CollectedEntries,
  known: KnownEntries,
  memory: IngestMemory,
): UploadFacts {
  const produced = new Map<string, Produced>();
  for (const [parentKey, entry] of collected.entries) {
    entry.signed.body.outputs.forEach((output, index) => {
      produced.set(idKey(present(entry.outputIds[index], 'one id per output')), {
        value: output.value,
        ownerKey: idKey(output.owner),
        parent: entry,
        parentKey,
      });
    });
  }
  const backed = new Map<string, boolean>();
  const entries: EntryFact[] = [];
  // Entries the graph holds with these very bytes were merged with their tokens, spends and
  // counters: the rules below still run on them (they are rules of this upload), but their facts are
  // not merged again, which is most of an upload's history once its payers have synced.
  const merged = new Set<string>();
  for (const entry of collected.entries.values()) {
    // A renewal that unloaded everything has no output (docs/protocol.md §3): it produces nothing
    // the graph could hold, and is no fault of the SE that keeps it.
    if (entry.kind === 'issuance' && entry.signed.body.outputs.length === 0) continue;
    const fact = entryFact(crypto, anchors, entry, collected.certificates, known, memory);
    backed.set(fact.id, fact.backed);
    if (known.get(fact.id)?.envelope === fact.envelope) merged.add(fact.id);
    else entries.push(fact);
  }
  const spends: { tokenId: string; transferId: string }[] = [];
  const counters: { seId: string; counter: number; transferId: string }[] = [];
  const fakeFunding: FakeFunding[] = [];
  for (const entry of collected.entries.values()) {
    if (entry.kind !== 'transfer') continue;
    const finding = checkTransfer(entry, produced, backed);
    if (finding !== undefined) fakeFunding.push(finding);
    const transferId = idKey(entry.id);
    if (merged.has(transferId)) continue;
    for (const input of entry.signed.body.inputs) spends.push({ tokenId: idKey(input), transferId });
    counters.push({
      seId: idKey(entry.signed.body.payerId),
      counter: entry.signed.body.payerCounter,
      transferId,
    });
  }
  const generations = generationsOf(collected.entries, produced);
  const tokens: TokenFact[] = [];
  for (const [id, token] of produced) {
    const parent = token.parentKey;
    if (merged.has(parent)) continue;
    tokens.push({
      id,
      value: token.value,
      owner: token.ownerKey,
      parent,
      generation: present(generations.get(parent), 'every entry has a generation'),
    });
  }
  const holdings = upload.tokens.map((token) => ({ tokenId: idKey(token.id), value: token.value }));
  fakeFunding.push(...unbackedHoldings(upload, produced, backed));
  return { entries, tokens, spends, counters, holdings, fakeFunding };
}

function entryFact(
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  entry: IdentifiedEntry,
  certificates: ReadonlyMap<string, Certificate>,
  known: KnownEntries,
  memory: IngestMemory,
): EntryFact {
  const id = idKey(entry.id);
  const envelope = toHex(encodeSigned(entry.signed));
  const value = entry.signed.body.outputs.reduce((sum, output) => sum + output.value, 0n);
  if (value === 0n) throw coreError('historyIncomplete', `entry ${id} has no outputs`);
  const paid =
    entry.kind === 'transfer' ? present(entry.signed.body.outputs[0], 'a transfer has outputs').value : value;
  const held = known.get(id);
  const time = entry.signed.body.time;
  if (entry.kind === 'issuance') {
    const signer = idKey(entry.signed.body.dcpId);
    if (held !== undefined && held.envelope === envelope)
      return { id, kind: 'issuance', signer, backed: held.backed, value, paid, envelope, time };
    const issuer = anchors.dcpIssuers.get(signer);
    const signed =
      issuer !== undefined &&
      crypto.verifier.verify(
        issuer.body.publicKey,
        purposes.issuance,
        entry.signed.bodyBytes,
        entry.signed.signature,
      );
    return { id, kind: 'issuance', signer, backed: signed, value, paid, envelope, time };
  }
  const signer = idKey(entry.signed.body.payerId);
  if (held !== undefined && held.envelope === envelope)
    return { id, kind: 'transfer', signer, backed: held.backed, value, paid, envelope, time };
  const certificate = certificates.get(signer);
  if (certificate === undefined)
    throw coreError('certificateChainInvalid', `no certificate for the payer of ${id}`);
  const publicKey = certificate.body.publicKey;
  if (toHex(principalIdOf(crypto.verifier, publicKey)) !== signer) throw coreError('certificateIdMismatch');
  if (!crypto.verifier.verify(publicKey, purposes.transfer, entry.signed.bodyBytes, entry.signed.signature))
    throw coreError('signatureInvalid', `transfer ${id}`);
  return {
    id,
    kind: 'transfer',
    signer,
    backed: chains(crypto, anchors, certificate, memory),
    value,
    paid,
    envelope,
    time,
  };
}

function chains(
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  certificate: Certificate,
  memory: IngestMemory,
): boolean {
  try {
    memory.certificates.verify(crypto.verifier, anchors, certificate, undefined);
    return true;
  } catch (error) {
    if (isCbdcError(error)) return false;
    throw error;
  }
}

/** Rules 2 and 3 for one transfer; the fake-funding finding when it pays out more than its backed inputs. */
function checkTransfer(
  entry: IdentifiedEntry & { kind: 'transfer' },
  produced: ReadonlyMap<string, Produced>,
  backed: ReadonlyMap<string, boolean>,
): FakeFunding | undefined {
  const body = entry.signed.body;
  const id = idKey(entry.id);
  const payer = idKey(body.payerId);
  const seen = new Set<string>();
  let inputTotal = 0n;
  let backedTotal = 0n;
  const unbackedParents = new Set<string>();
  for (const input of body.inputs) {
    const key = idKey(input);
    if (seen.has(key)) throw coreError('duplicateInput', `transfer ${id}`);
    seen.add(key);
    const token = produced.get(key);
    if (token === undefined)
      throw coreError('historyIncomplete', `transfer ${id} spends a token no entry produced`);
    if (token.ownerKey !== payer) throw coreError('tokenNotOwned', `transfer ${id}`);
    inputTotal += token.value;
    const parent = token.parentKey;
    // Value passed on by a transfer counts as backed here: the transfer that created it is blamed.
    if (token.parent.kind === 'transfer' || backed.get(parent) === true) backedTotal += token.value;
    else unbackedParents.add(parent);
  }
  const outputTotal = body.outputs.reduce((sum, output) => sum + output.value, 0n);
  if (outputTotal < inputTotal)
    throw coreError('transferNotConserving', `transfer ${id}: inputs ${inputTotal}, outputs ${outputTotal}`);
  if (outputTotal === backedTotal) return undefined;
  return {
    subject: id,
    seId: payer,
    value: outputTotal - backedTotal,
    evidence: [id, ...[...unbackedParents].sort()],
  };
}

/** A claimed token straight from an unbacked issuance: the claiming SE vouched for value nobody minted. */
function unbackedHoldings(
  upload: Upload,
  produced: ReadonlyMap<string, Produced>,
  backed: ReadonlyMap<string, boolean>,
): FakeFunding[] {
  const findings: FakeFunding[] = [];
  const seId = idKey(upload.seId);
  for (const token of upload.tokens) {
    const source = produced.get(idKey(token.id));
    if (source?.value !== token.value || source.ownerKey !== seId)
      throw coreError(
        'historyIncomplete',
        `claimed token ${idKey(token.id)} is not produced for this SE here`,
      );
    const parent = source.parentKey;
    if (source.parent.kind === 'issuance' && backed.get(parent) !== true)
      findings.push({
        subject: idKey(token.id),
        seId,
        value: token.value,
        evidence: [parent],
      });
  }
  return findings;
}

/** The generation of each entry's outputs (rule 5); entries form a DAG, walked with an explicit stack. */
function generationsOf(
  entries: ReadonlyMap<string, IdentifiedEntry>,
  produced: ReadonlyMap<string, Produced>,
): Map<string, number> {
  const generations = new Map<string, number>();
  for (const start of entries.keys()) {
    const stack: string[] = [start];
    while (stack.length > 0) {
      const key = present(stack.at(-1), 'the stack is not empty');
      if (generations.has(key)) {
        stack.pop();
        continue;
      }
      const entry = present(entries.get(key), 'the stack holds entries of the upload');
      if (entry.kind === 'issuance') {
        generations.set(key, 0);
        stack.pop();
        continue;
      }
      const parents = entry.signed.body.inputs.map(
        (input) => present(produced.get(idKey(input)), 'rule 3 checked every input').parentKey,
      );
      const pending = parents.filter((parent) => !generations.has(parent));
      if (pending.length > 0) {
        // Ids are digests, so a cycle cannot occur: the walk pushes each entry's parents at most
        // once per visit, and this bound only guards against a bug.
        assert(stack.length <= entries.size * transferInputsMax, 'the entries form no cycle');
        stack.push(...pending);
        continue;
      }
      const generation =
        1 + Math.max(...parents.map((parent) => present(generations.get(parent), 'every parent is done')));
      if (generation > generationCeiling) throw coreError('generationLimitExceeded', `entry ${key}`);
      generations.set(key, generation);
      stack.pop();
    }
  }
  return generations;
}
