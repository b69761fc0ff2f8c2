// The ledger's HTTP schemas (TypeBox → JSON Schema → validation, serialisation and OpenAPI).
// Every object schema forbids extra properties; ids, keys and amounts are strings with patterns.
// Amount fields accept any short signed decimal so that zero, negative and too large amounts get
// their own error codes from `decodeAmount` rather than a generic schema refusal.
import { Type, type Static } from '@sinclair/typebox';
import {
  amountDigitsMax,
  holdSecondsMax,
  holdSecondsMin,
  idempotencyKeyLengthMax,
  idLengthMax,
  participantNameLengthMax,
  referenceLengthMax,
} from '../domain/limits.ts';
import {
  errorResponses,
  idempotencyHeaders,
  literals,
  strict,
  Timestamp,
} from '../../service-kit/schemas.ts';
import {
  apiKeyDigestSchema,
  participantNameSchema,
  participantSchemas,
} from '../../service-kit/participants.ts';
import { accountKinds, holdStates, paymentKinds, roles } from '../domain/types.ts';

export const Id = Type.String({ pattern: `^[A-Za-z0-9_-]{1,${idLengthMax}}$` });
const AmountIn = Type.String({
  maxLength: amountDigitsMax + 1,
  description: 'minor units as a decimal string: ^[1-9][0-9]{0,18}$, at most movementAmountMax (10^18)',
  examples: ['1250'],
});
const AmountOut = Type.String({ pattern: '^[1-9][0-9]{0,18}$' });
const Balance = Type.String({
  pattern: '^-?[0-9]{1,20}$',
  description: 'minor units; negative only for the issuance account',
});
const Reference = Type.String({ minLength: 1, maxLength: referenceLengthMax });

export const IdempotencyHeaders = idempotencyHeaders(idempotencyKeyLengthMax);

export const CreateParticipantBody = Type.Object(
  {
    name: participantNameSchema(participantNameLengthMax),
    role: literals(roles),
    apiKeySha256: apiKeyDigestSchema(),
  },
  strict,
);
export type CreateParticipantBody = Static<typeof CreateParticipantBody>;

export const CreateAccountBody = Type.Object(
  { kind: literals(['intermediary', 'dcpPool', 'wallet'] as const), ownerId: Id },
  strict,
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;

export const IssueBody = Type.Object(
  { accountId: Id, amount: AmountIn, reference: Type.Optional(Reference) },
  strict,
);
export type IssueBody = Static<typeof IssueBody>;

export const PaymentBody = Type.Object(
  { payerAccountId: Id, payeeAccountId: Id, amount: AmountIn, reference: Type.Optional(Reference) },
  strict,
);
export type PaymentBody = Static<typeof PaymentBody>;

export const HoldBody = Type.Object(
  {
    payerAccountId: Id,
    payeeAccountId: Id,
    amount: AmountIn,
    expiresInSeconds: Type.Integer({ description: `${holdSecondsMin}..${holdSecondsMax}` }),
    reference: Type.Optional(Reference),
  },
  strict,
);
export type HoldBody = Static<typeof HoldBody>;

export const AccountParams = Type.Object({ accountId: Id }, strict);
export const PaymentParams = Type.Object({ paymentId: Id }, strict);
export const HoldParams = Type.Object({ holdId: Id }, strict);
export const StatementQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'sequence of the last entry seen' }),
    ),
    limit: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,2}$',
        description: 'entries per page, at most statementPageSizeMax',
      }),
    ),
  },
  strict,
);

export const ParticipantWire = Type.Object(
  { id: Id, name: Type.String(), role: literals(roles), createdAt: Timestamp },
  strict,
);
export const AccountWire = Type.Object(
  {
    id: Id,
    kind: literals(accountKinds),
    ownerId: Type.Union([Id, Type.Null()]),
    balance: Balance,
    held: Balance,
    available: Balance,
    settled: Balance,
    createdAt: Timestamp,
  },
  strict,
);
export const PaymentWire = Type.Object(
  {
    id: Id,
    kind: literals(paymentKinds),
    payerAccountId: Id,
    payeeAccountId: Id,
    amount: AmountOut,
    reference: Type.Union([Type.String(), Type.Null()]),
    holdId: Type.Union([Id, Type.Null()]),
    createdAt: Timestamp,
  },
  strict,
);
export const HoldWire = Type.Object(
  {
    id: Id,
    payerAccountId: Id,
    payeeAccountId: Id,
    amount: AmountOut,
    reference: Type.Union([Type.String(), Type.Null()]),
    status: literals([...holdStates, 'expired'] as const),
    expiresAt: Timestamp,
    createdAt: Timestamp,
    paymentId: Type.Union([Id, Type.Null()]),
    closedAt: Type.Union([Timestamp, Type.Null()]),
  },
  strict,
);
export const EntryWire = Type.Object(
  {
    sequence: Type.Integer({ minimum: 1 }),
    paymentId: Id,
    kind: literals(paymentKinds),
    direction: literals(['debit', 'credit'] as const),
    amount: AmountOut,
    balanceAfter: Balance,
    createdAt: Timestamp,
  },
  strict,
);
export const responses = {
  accountCreated: { 201: Type.Object({ account: AccountWire }, strict), ...errorResponses },
  account: { 200: Type.Object({ account: AccountWire }, strict), ...errorResponses },
  paymentCreated: { 201: Type.Object({ payment: PaymentWire }, strict), ...errorResponses },
  payment: { 200: Type.Object({ payment: PaymentWire }, strict), ...errorResponses },
  holdCreated: { 201: Type.Object({ hold: HoldWire }, strict), ...errorResponses },
  hold: { 200: Type.Object({ hold: HoldWire }, strict), ...errorResponses },
  capture: { 200: Type.Object({ hold: HoldWire, payment: PaymentWire }, strict), ...errorResponses },
  statement: {
    200: Type.Object(
      {
        entries: Type.Array(EntryWire),
        next: Type.Union([Type.String(), Type.Null()], {
          description: 'pass as `after` for the next page; null at the end',
        }),
      },
      strict,
    ),
    ...errorResponses,
  },
} as const;

/** The participants routes' (service-kit/participants.ts). */
export const participantRouteSchemas = participantSchemas(
  IdempotencyHeaders,
  CreateParticipantBody,
  ParticipantWire,
);
