// Strict decoders for the directory's answers, for `client.ts`. A field that does not decode names
// itself in a `directoryAnswerInvalid` error: the client never passes on a value it did not check.
// Imports nothing but core, the directory's catalogue and the shared readers (see client.ts).
import { fromHex, type Bytes } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { certificateFromCbor, type Certificate } from '../../core/certificate.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../../core/deny-list.ts';
import { isCbdcError } from '../../core/errors.ts';
import { answerDecoders, type Fields } from '../../http-client/answer-decode.ts';
import { directoryError } from './errors.ts';

export type DirectoryRole = 'operator' | 'dcp' | 'mds';
export type SecureElementStatus = 'active' | 'suspended' | 'revoked';

export interface DirectoryParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: DirectoryRole;
  readonly dcpId: string | null;
}

export interface StatusChange {
  readonly status: SecureElementStatus;
  readonly reason: string;
  readonly changedBy: string;
  readonly changedAt: string;
}

export interface DirectorySecureElement {
  readonly seId: string;
  readonly dcpId: string;
  readonly kind: 'card' | 'phone';
  readonly status: SecureElementStatus;
  /** Decoded; its signature is not re-checked by the client (the directory checked the chain). */
  readonly certificate: Certificate;
  /** Null unless the caller is the owning DCP or an operator. */
  readonly walletId: string | null;
  readonly registeredAt: string;
  readonly history: readonly StatusChange[];
}

export interface DenyListDelta {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface DirectoryDenyList {
  readonly version: number;
  /** What `SecureElementClient.updateDenyList` and `completeSync` take. */
  readonly signed: SignedDenyList;
  readonly delta: DenyListDelta | null;
}

export interface PublishedTrust {
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
}

export interface DcpEndpoint {
  readonly dcpId: string;
  readonly baseUrl: string;
  readonly updatedAt: string;
}

export type { Replayable } from '../../http-client/json-caller.ts';

const idPattern = /^[0-9a-f]{32}$/;
const statuses = ['active', 'suspended', 'revoked'] as const;

const decoders = answerDecoders((detail) => directoryError('directoryAnswerInvalid', detail));
export const { field } = decoders;
const { object, invalid, text, textOrNull, oneOf, count, id } = decoders;

function idList(fields: Fields, name: string, path: string): string[] {
  const value = fields[name];
  if (!Array.isArray(value)) throw invalid(`${path}.${name}`, 'an array');
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !idPattern.test(item))
      throw invalid(`${path}.${name}[${index}]`, 'an id');
    return item;
  });
}

function hexBytes(fields: Fields, name: string, path: string): Bytes {
  const bytes = fromHex(text(fields, name, path));
  if (bytes === undefined) throw invalid(`${path}.${name}`, 'hex');
  return bytes;
}

/** Decodes with a core decoder; a core refusal becomes `directoryAnswerInvalid` naming the field. */
function decoded<T>(bytes: Bytes, path: string, decode: (bytes: Bytes) => T): T {
  try {
    return decode(bytes);
  } catch (error) {
    if (isCbdcError(error)) throw invalid(path, `a valid structure (${error.message})`);
    throw error;
  }
}

function certificateAt(hex: unknown, path: string): Certificate {
  const bytes = typeof hex === 'string' ? fromHex(hex) : undefined;
  if (bytes === undefined) throw invalid(path, 'hex');
  return decoded(bytes, path, (value) => certificateFromCbor(decodeCbor(value)));
}

export function decodeParticipant(value: unknown, path = 'participant'): DirectoryParticipant {
  const fields = object(value, path);
  const dcpId = textOrNull(fields, 'dcpId', path);
  if (dcpId !== null && !idPattern.test(dcpId)) throw invalid(`${path}.dcpId`, 'an id');
  return {
    id: text(fields, 'id', path),
    name: text(fields, 'name', path),
    role: oneOf(fields, 'role', path, ['operator', 'dcp', 'mds']),
    dcpId,
  };
}

export function decodeSecureElement(value: unknown, path = 'secureElement'): DirectorySecureElement {
  const fields = object(value, path);
  const history = fields['history'];
  if (!Array.isArray(history)) throw invalid(`${path}.history`, 'an array');
  const certificate = certificateAt(fields['certificate'], `${path}.certificate`);
  const seId = id(fields, 'seId', path);
  return {
    seId,
    dcpId: id(fields, 'dcpId', path),
    kind: oneOf(fields, 'kind', path, ['card', 'phone']),
    status: oneOf(fields, 'status', path, statuses),
    certificate,
    walletId: textOrNull(fields, 'walletId', path),
    registeredAt: text(fields, 'registeredAt', path),
    history: history.map((item: unknown, index) => {
      const where = `${path}.history[${index}]`;
      const change = object(item, where);
      return {
        status: oneOf(change, 'status', where, statuses),
        reason: text(change, 'reason', where),
        changedBy: text(change, 'changedBy', where),
        changedAt: text(change, 'changedAt', where),
      };
    }),
  };
}

export function decodeDenyList(value: unknown): DirectoryDenyList {
  const fields = object(value, 'answer');
  const version = count(fields, 'version', 'answer');
  const signed = decoded(hexBytes(fields, 'signed', 'answer'), 'answer.signed', (bytes) =>
    signedDenyListFromCbor(decodeCbor(bytes)),
  );
  if (signed.body.version !== version) throw invalid('answer.signed', `the list of version ${version}`);
  const delta = fields['delta'];
  if (delta === null) return { version, signed, delta: null };
  const deltaFields = object(delta, 'answer.delta');
  return {
    version,
    signed,
    delta: {
      fromVersion: count(deltaFields, 'fromVersion', 'answer.delta'),
      toVersion: count(deltaFields, 'toVersion', 'answer.delta'),
      added: idList(deltaFields, 'added', 'answer.delta'),
      removed: idList(deltaFields, 'removed', 'answer.delta'),
    },
  };
}

export function decodeTrust(value: unknown): PublishedTrust {
  const fields = object(value, 'answer');
  const issuers = fields['dcpIssuers'];
  if (!Array.isArray(issuers)) throw invalid('answer.dcpIssuers', 'an array');
  return {
    rootPublicKey: hexBytes(fields, 'rootPublicKey', 'answer'),
    dcpIssuers: issuers.map((hex: unknown, index) => certificateAt(hex, `answer.dcpIssuers[${index}]`)),
    directory: certificateAt(fields['directory'], 'answer.directory'),
    mds: certificateAt(fields['mds'], 'answer.mds'),
  };
}

export function decodeDcpEndpoint(value: unknown, path = 'dcp'): DcpEndpoint {
  const fields = object(value, path);
  return {
    dcpId: id(fields, 'dcpId', path),
    baseUrl: text(fields, 'baseUrl', path),
    updatedAt: text(fields, 'updatedAt', path),
  };
}

export function decodeCount(value: unknown, name: string): number {
  return count(object(value, 'answer'), name, 'answer');
}
