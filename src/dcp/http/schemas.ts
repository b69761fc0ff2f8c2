// The DCP's HTTP schemas (TypeBox → validation, serialisation and OpenAPI): request bodies and every
// answer. Binary structures travel as hex of their canonical CBOR (lowercase or uppercase in, lowercase
// out); amounts as decimal strings of minor units. The bodies are checked below against the wire
// types of src/dcp/api/types.ts, which the clients post.
import { Type, type Static } from '@sinclair/typebox';
import { errorResponses, literals, strict } from '../../service-kit/schemas.ts';
import type * as wire from '../api/types.ts';
import { participantRoles, settleKinds } from '../api/types.ts';
import { idempotencyKeyLengthMax, requestBodyBytesMax, walletNameLengthMax } from '../domain/limits.ts';

export const Hex = (maxBytes: number) =>
  Type.String({ pattern: '^([0-9a-fA-F]{2})*$', maxLength: maxBytes * 2 });
/** Hex the DCP answers: lowercase, of canonical CBOR. */
const HexOut = Type.String({ pattern: '^([0-9a-f]{2})*$', description: 'hex of canonical CBOR' });
export const SeId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'SE id: 32 lowercase hex digits' });
export const Amount = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'minor units, decimal' });
const Balance = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' });
const Figure = Type.String({ pattern: '^-?(0|[1-9][0-9]{0,19})$', description: 'minor units, decimal' });
export const WalletId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' });
const Kind = literals(['card', 'phone'] as const);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({
    pattern: `^[A-Za-z0-9_.:-]{1,${Math.min(idempotencyKeyLengthMax, 64)}}$`,
  }),
});

export const ParticipantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: literals(participantRoles),
    apiKeySha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  strict,
);
export const WalletBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: walletNameLengthMax }),
    accountId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' })),
  },
  strict,
);
export const PersonaliseBody = Type.Object({ kind: Kind, publicKey: Hex(65) }, strict);
export const NonceBody = Type.Object({ seId: SeId }, strict);
export const LoadBody = Type.Object(
  { seId: SeId, amount: Amount, balance: Balance, deviceRequest: Hex(512) },
  strict,
);
const sealedBytesMax = Math.floor(requestBodyBytesMax / 2) - 8192;
export const LoadRefusalBody = Type.Object({ refusal: Hex(256) }, strict);
export const RenewalBody = Type.Object({ claim: Hex(16 * 1024), sealedUpload: Hex(sealedBytesMax) }, strict);
export const UnloadBody = Type.Object(
  { claim: Hex(16 * 1024), sealedUpload: Hex(sealedBytesMax), amount: Amount, deviceRequest: Hex(512) },
  strict,
);
export const TransferBody = Type.Object(
  {
    claim: Hex(16 * 1024),
    sealedUpload: Hex(sealedBytesMax),
    amount: Amount,
    payeeSeId: SeId,
    deviceRequest: Hex(512),
  },
  strict,
);
export const CreditBody = Type.Object(
  { paymentId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' }) },
  strict,
);
export const SeIdParams = Type.Object({ seId: SeId });
export const WalletParams = Type.Object({ walletId: WalletId });

/** Both ways: the schema accepts exactly what the wire type describes (a compile-time check). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type BodiesAgreeWithWire = [
  Holds<Same<Static<typeof ParticipantBody>, wire.ParticipantBody>>,
  Holds<Same<Static<typeof WalletBody>, wire.WalletBody>>,
  Holds<Same<Static<typeof PersonaliseBody>, wire.PersonaliseBody>>,
  Holds<Same<Static<typeof NonceBody>, wire.NonceBody>>,
  Holds<Same<Static<typeof LoadBody>, wire.LoadBody>>,
  Holds<Same<Static<typeof LoadRefusalBody>, wire.LoadRefusalBody>>,
  Holds<Same<Static<typeof RenewalBody>, wire.RenewalBody>>,
  Holds<Same<Static<typeof UnloadBody>, wire.UnloadBody>>,
  Holds<Same<Static<typeof TransferBody>, wire.TransferBody>>,
  Holds<Same<Static<typeof CreditBody>, wire.CreditBody>>,
];

// Answers.

const DescriptionWire = Type.Object(
  {
    dcpId: SeId,
    certificate: HexOut,
    poolAccountId: Type.String(),
    renewalCheck: literals(['async', 'sync'] as const),
  },
  strict,
);
const ParticipantWire = Type.Object(
  { id: Type.String(), name: Type.String(), role: literals(participantRoles) },
  strict,
);
const WalletWire = Type.Object({ id: Type.String(), name: Type.String(), accountId: Type.String() }, strict);
const WalletBalanceWire = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    accountId: Type.String(),
    balance: Figure,
    available: Figure,
  },
  strict,
);
const PersonalisationWire = Type.Object(
  {
    seId: SeId,
    walletId: Type.String(),
    certificate: HexOut,
    rootPublicKey: HexOut,
    dcpIssuers: Type.Array(HexOut),
    directory: HexOut,
    mds: HexOut,
    limits: HexOut,
    denyList: HexOut,
  },
  strict,
);
const SupplyWire = Type.Object(
  {
    minted: Figure,
    queued: Figure,
    issued: Figure,
    retired: Figure,
    outstanding: Figure,
    poolBalance: Figure,
    settled: Figure,
    inFlight: Figure,
  },
  strict,
);
const NonceWire = Type.Object(
  { nonce: HexOut, expiresAt: Type.Integer({ minimum: 0, description: 'seconds since the epoch' }) },
  strict,
);
const LoadWire = Type.Object({ operationId: Type.String(), issuance: HexOut }, strict);
const LoadRefusalWire = Type.Object(
  {
    operationId: Type.String(),
    loadOperationId: Type.String(),
    issuanceId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    amount: Amount,
  },
  strict,
);
const SettleWire = Type.Object(
  {
    operationId: Type.String(),
    kind: literals(settleKinds),
    renewal: HexOut,
    credits: Type.Array(HexOut),
    loads: Type.Array(HexOut),
    amount: Type.String({ pattern: '^(0|[1-9][0-9]{0,19})$' }),
    limits: Type.Object({ card: HexOut, phone: HexOut }, strict),
    denyList: HexOut,
  },
  strict,
);
const CreditWire = Type.Object({ seId: SeId, amount: Figure }, strict);
const UpdatesWire = Type.Object({ limits: HexOut, denyList: HexOut }, strict);

export const responses = {
  description: { 200: DescriptionWire, ...errorResponses },
  participantCreated: { 201: Type.Object({ participant: ParticipantWire }, strict), ...errorResponses },
  walletCreated: { 201: Type.Object({ wallet: WalletWire }, strict), ...errorResponses },
  wallet: { 200: Type.Object({ wallet: WalletBalanceWire }, strict), ...errorResponses },
  personalisation: {
    201: Type.Object({ personalisation: PersonalisationWire }, strict),
    ...errorResponses,
  },
  supply: { 200: SupplyWire, ...errorResponses },
  nonce: { 201: NonceWire, ...errorResponses },
  load: { 201: LoadWire, ...errorResponses },
  loadRefusal: { 201: LoadRefusalWire, ...errorResponses },
  settlement: { 201: SettleWire, ...errorResponses },
  credit: { 201: CreditWire, ...errorResponses },
  updates: { 200: UpdatesWire, ...errorResponses },
} as const;
