// The DCP's HTTP schemas (TypeBox → validation and OpenAPI). Binary structures travel as lowercase
// or uppercase hex of their canonical CBOR; amounts as decimal strings of minor units.
import { Type } from '@sinclair/typebox';
import { strict } from '../../service-kit/schemas.ts';
import { idempotencyKeyLengthMax, requestBodyBytesMax, walletNameLengthMax } from '../domain/limits.ts';

export const Hex = (maxBytes: number) =>
  Type.String({ pattern: '^([0-9a-fA-F]{2})*$', maxLength: maxBytes * 2 });
export const SeId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'SE id: 32 lowercase hex digits' });
export const Amount = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'minor units, decimal' });
const Balance = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' });
export const WalletId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({
    pattern: `^[A-Za-z0-9_.:-]{1,${Math.min(idempotencyKeyLengthMax, 64)}}$`,
  }),
});

export const ParticipantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Union([Type.Literal('operator'), Type.Literal('agent')]),
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
export const PersonaliseBody = Type.Object(
  { kind: Type.Union([Type.Literal('card'), Type.Literal('phone')]), publicKey: Hex(65) },
  strict,
);
export const NonceBody = Type.Object({ seId: SeId }, strict);
export const LoadBody = Type.Object(
  { seId: SeId, amount: Amount, balance: Balance, deviceRequest: Hex(512) },
  strict,
);
const sealedBytesMax = Math.floor(requestBodyBytesMax / 2) - 8192;
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
