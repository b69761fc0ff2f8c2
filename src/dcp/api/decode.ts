// Strict decoders for the DCP's answers, for `client.ts`. A field that does not decode names itself
// in a `dcpAnswerInvalid` error (`answer.renewal is not a valid structure (...)`): the client never
// passes on a value it did not check. Imports nothing but core, the DCP's catalogue and the shared
// readers (src/http-client/answer-decode.ts).
import { fromHex, type Bytes } from '../../core/bytes.ts';
import { decodeCbor, type CborValue } from '../../core/cbor.ts';
import { certificateFromCbor, type Certificate } from '../../core/certificate.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../../core/deny-list.ts';
import { isCbdcError } from '../../core/errors.ts';
import { issuanceFromCbor, type Issuance } from '../../core/issuance.ts';
import { signedLimitsFromCbor, type SignedLimits } from '../../core/limits.ts';
import { answerDecoders } from '../../http-client/answer-decode.ts';
import { dcpError } from './errors.ts';
import {
  participantRoles,
  settleKinds,
  type CreditAnswer,
  type DcpDescription,
  type DcpNonce,
  type DcpParticipant,
  type DcpSupply,
  type DcpWallet,
  type DcpWalletBalance,
  type DeviceUpdates,
  type LoadAnswer,
  type LoadRefusalAnswer,
  type Personalisation,
  type SettleAnswer,
} from './types.ts';

const decoders = answerDecoders((detail) => dcpError('dcpAnswerInvalid', detail));
export const { field } = decoders;
const { object, invalid, text, oneOf, count, money } = decoders;
/** A 16-byte id as 32 lowercase hex digits (an SE id, a DCP id). */
export const idText = decoders.id;

function hexAt(value: unknown, path: string): Bytes {
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (bytes === undefined) throw invalid(path, 'hex');
  return bytes;
}

/** Hex of canonical CBOR, decoded by a core decoder; a core refusal names the field. */
function structureAt<T>(value: unknown, path: string, decode: (cbor: CborValue) => T): T {
  const bytes = hexAt(value, path);
  try {
    return decode(decodeCbor(bytes));
  } catch (error) {
    if (isCbdcError(error)) throw invalid(path, `a valid structure (${error.message})`);
    throw error;
  }
}

function listAt<T>(value: unknown, path: string, decode: (item: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) throw invalid(path, 'an array');
  return value.map((item: unknown, index) => decode(item, `${path}[${index}]`));
}

const certificateAt = (value: unknown, path: string): Certificate =>
  structureAt(value, path, certificateFromCbor);
const issuanceAt = (value: unknown, path: string): Issuance => structureAt(value, path, issuanceFromCbor);
const limitsAt = (value: unknown, path: string): SignedLimits =>
  structureAt(value, path, signedLimitsFromCbor);
const denyListAt = (value: unknown, path: string): SignedDenyList =>
  structureAt(value, path, signedDenyListFromCbor);

export function decodeDescription(value: unknown): DcpDescription {
  const fields = object(value, 'answer');
  return {
    dcpId: idText(fields, 'dcpId', 'answer'),
    certificate: certificateAt(fields['certificate'], 'answer.certificate'),
    poolAccountId: text(fields, 'poolAccountId', 'answer'),
    renewalCheck: oneOf(fields, 'renewalCheck', 'answer', ['async', 'sync']),
  };
}

export function decodeParticipant(value: unknown, path = 'participant'): DcpParticipant {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    name: text(fields, 'name', path),
    role: oneOf(fields, 'role', path, participantRoles),
  };
}

export function decodeWallet(value: unknown, path = 'wallet'): DcpWallet {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    name: text(fields, 'name', path),
    accountId: text(fields, 'accountId', path),
  };
}

export function decodeWalletBalance(value: unknown, path = 'wallet'): DcpWalletBalance {
  const fields = object(value, path);
  return {
    ...decodeWallet(value, path),
    balance: money(fields, 'balance', path, true),
    available: money(fields, 'available', path, true),
  };
}

export function decodePersonalisation(value: unknown, path = 'personalisation'): Personalisation {
  const fields = object(value, path);
  return {
    seId: idText(fields, 'seId', path),
    walletId: text(fields, 'walletId', path),
    certificate: certificateAt(fields['certificate'], `${path}.certificate`),
    rootPublicKey: hexAt(fields['rootPublicKey'], `${path}.rootPublicKey`),
    dcpIssuers: listAt(fields['dcpIssuers'], `${path}.dcpIssuers`, certificateAt),
    directory: certificateAt(fields['directory'], `${path}.directory`),
    mds: certificateAt(fields['mds'], `${path}.mds`),
    limits: limitsAt(fields['limits'], `${path}.limits`),
    denyList: denyListAt(fields['denyList'], `${path}.denyList`),
  };
}

export function decodeNonce(value: unknown): DcpNonce {
  const fields = object(value, 'answer');
  return {
    nonce: hexAt(fields['nonce'], 'answer.nonce'),
    expiresAt: count(fields, 'expiresAt', 'answer'),
  };
}

export function decodeLoadAnswer(value: unknown): LoadAnswer {
  const fields = object(value, 'answer');
  return {
    operationId: text(fields, 'operationId', 'answer'),
    issuance: issuanceAt(fields['issuance'], 'answer.issuance'),
  };
}

export function decodeLoadRefusalAnswer(value: unknown): LoadRefusalAnswer {
  const fields = object(value, 'answer');
  const issuanceId = text(fields, 'issuanceId', 'answer');
  if (!/^[0-9a-f]{64}$/.test(issuanceId)) throw invalid('answer.issuanceId', '64 lowercase hex digits');
  return {
    operationId: text(fields, 'operationId', 'answer'),
    loadOperationId: text(fields, 'loadOperationId', 'answer'),
    issuanceId,
    amount: money(fields, 'amount', 'answer'),
  };
}

export function decodeSettleAnswer(value: unknown): SettleAnswer {
  const fields = object(value, 'answer');
  const limits = object(fields['limits'], 'answer.limits');
  return {
    operationId: text(fields, 'operationId', 'answer'),
    kind: oneOf(fields, 'kind', 'answer', settleKinds),
    renewal: issuanceAt(fields['renewal'], 'answer.renewal'),
    credits: listAt(fields['credits'], 'answer.credits', issuanceAt),
    loads: listAt(fields['loads'], 'answer.loads', issuanceAt),
    amount: money(fields, 'amount', 'answer'),
    limits: {
      card: limitsAt(limits['card'], 'answer.limits.card'),
      phone: limitsAt(limits['phone'], 'answer.limits.phone'),
    },
    denyList: denyListAt(fields['denyList'], 'answer.denyList'),
  };
}

export function decodeUpdates(value: unknown): DeviceUpdates {
  const fields = object(value, 'answer');
  return {
    limits: limitsAt(fields['limits'], 'answer.limits'),
    denyList: denyListAt(fields['denyList'], 'answer.denyList'),
  };
}

export function decodeCredit(value: unknown): CreditAnswer {
  const fields = object(value, 'answer');
  return { seId: idText(fields, 'seId', 'answer'), amount: money(fields, 'amount', 'answer') };
}

export function decodeSupply(value: unknown): DcpSupply {
  const fields = object(value, 'answer');
  const figure = (name: string) => money(fields, name, 'answer', true);
  return {
    minted: figure('minted'),
    queued: figure('queued'),
    issued: figure('issued'),
    retired: figure('retired'),
    outstanding: figure('outstanding'),
    poolBalance: figure('poolBalance'),
    settled: figure('settled'),
    inFlight: figure('inFlight'),
  };
}
