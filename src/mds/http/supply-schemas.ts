// The schemas of `GET /v1/supply` and `/v1/settlements` (docs/mds.md, "Supply and settlement"), and
// the domain → JSON encoders of their answers. Amounts are decimal strings of minor units; a pool's
// `settled` figure, and a total built from it, may be negative.
import { Type, type Static } from '@sinclair/typebox';
import { errorResponses, strict } from '../../service-kit/schemas.ts';
import type { SettlementRun, SupplyFigures } from '../domain/settlement.ts';

const PrincipalId = Type.String({
  pattern: '^[0-9a-f]{32}$',
  description: '16 bytes, 32 lowercase hex digits',
});
const Amount = Type.String({ pattern: '^(0|[1-9][0-9]{0,19})$', description: 'minor units, decimal' });
const SignedAmount = Type.String({
  pattern: '^(0|-?[1-9][0-9]{0,19})$',
  description: 'minor units, decimal',
});
const Period = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,40}$', description: 'the settlement period' });
const Position = Type.String({ pattern: '^[1-9][0-9]{0,14}$' });
const Ms = Type.Integer({ minimum: 0 });

const DcpSupplyWire = Type.Object(
  {
    dcpId: PrincipalId,
    issued: Amount,
    queued: Amount,
    retired: Amount,
    retiredBacked: Amount,
    attributedOutstanding: SignedAmount,
    observedOffline: Amount,
    inFlight: Amount,
    refunded: Amount,
    settled: SignedAmount,
    poolBalance: Type.Union([Amount, Type.Null()]),
  },
  strict,
);

const SupplyWire = Type.Object(
  {
    atMs: Ms,
    dcps: Type.Array(DcpSupplyWire),
    total: Type.Object(
      {
        issued: Amount,
        retired: Amount,
        outstanding: SignedAmount,
        observedOffline: Amount,
        inFlight: Amount,
        refunded: Amount,
        createdByFraud: Amount,
        poolBalance: Type.Union([Amount, Type.Null()]),
      },
      strict,
    ),
  },
  strict,
);

const SettlementRunWire = Type.Object(
  {
    period: Period,
    state: Type.Union([Type.Literal('pending'), Type.Literal('completed')]),
    startedAtMs: Ms,
    completedAtMs: Type.Union([Ms, Type.Null()]),
    transfers: Type.Array(
      Type.Object(
        {
          payerDcpId: PrincipalId,
          payeeDcpId: PrincipalId,
          amount: Amount,
          ledgerPaymentId: Type.Union([Type.String(), Type.Null()]),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const SettlementBody = Type.Object({ period: Period }, strict);
export const SettlementsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: 'page size, at most 100' }),
    ),
    after: Type.Optional(Position),
  },
  strict,
);

export const SettlementPoolParams = Type.Object({ dcpId: PrincipalId }, strict);
export const SettlementPoolBody = Type.Object(
  {
    accountId: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: "the DCP's pool account on the ledger",
    }),
  },
  strict,
);
const SettlementPoolWire = Type.Object({ dcpId: PrincipalId, accountId: Type.String() }, strict);

export const supplyResponses = {
  pool: { 200: SettlementPoolWire, ...errorResponses },
  supply: { 200: SupplyWire, ...errorResponses },
  settlement: { 200: Type.Object({ run: SettlementRunWire }, strict), ...errorResponses },
  settlements: {
    200: Type.Object(
      { runs: Type.Array(SettlementRunWire), next: Type.Union([Position, Type.Null()]) },
      strict,
    ),
    ...errorResponses,
  },
} as const;

export function supplyWire(figures: SupplyFigures): Static<typeof SupplyWire> {
  const sum = (pick: (dcp: SupplyFigures['dcps'][number]) => bigint) =>
    figures.dcps.reduce((total, dcp) => total + pick(dcp), 0n);
  const pools = figures.dcps.map((dcp) => dcp.poolBalance);
  const issued = sum((dcp) => dcp.issued);
  const retired = sum((dcp) => dcp.retired);
  return {
    atMs: figures.atMs,
    dcps: figures.dcps.map((dcp) => ({
      dcpId: dcp.dcpId,
      issued: dcp.issued.toString(),
      queued: dcp.queued.toString(),
      retired: dcp.retired.toString(),
      retiredBacked: dcp.retiredBacked.toString(),
      attributedOutstanding: dcp.attributedOutstanding.toString(),
      observedOffline: dcp.observedOffline.toString(),
      inFlight: dcp.inFlight.toString(),
      refunded: dcp.refunded.toString(),
      settled: dcp.settled.toString(),
      poolBalance: dcp.poolBalance === null ? null : dcp.poolBalance.toString(),
    })),
    total: {
      issued: issued.toString(),
      retired: retired.toString(),
      outstanding: (issued - retired).toString(),
      observedOffline: (
        sum((dcp) => dcp.observedOffline) + figures.enclave.unbackedObservedOffline
      ).toString(),
      inFlight: sum((dcp) => dcp.inFlight).toString(),
      refunded: sum((dcp) => dcp.refunded).toString(),
      createdByFraud: figures.enclave.createdByFraud.toString(),
      poolBalance: pools.some((pool) => pool === null)
        ? null
        : pools.reduce<bigint>((total, pool) => total + (pool ?? 0n), 0n).toString(),
    },
  };
}

export function settlementRunWire(run: SettlementRun): Static<typeof SettlementRunWire> {
  return {
    period: run.period,
    state: run.state,
    startedAtMs: run.startedAtMs,
    completedAtMs: run.completedAtMs,
    transfers: run.transfers.map((transfer) => ({
      payerDcpId: transfer.payerDcpId,
      payeeDcpId: transfer.payeeDcpId,
      amount: transfer.amount.toString(),
      ledgerPaymentId: transfer.ledgerPaymentId,
    })),
  };
}
