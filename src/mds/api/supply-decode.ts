// Strict decoders of the supply and settlement answers, for `client.ts` (docs/mds.md, "Supply and
// settlement"): as in decode.ts, a field that does not decode names itself in `mdsAnswerInvalid`.
import { answerDecoders, type Fields } from '../../http-client/answer-decode.ts';
import { id } from './decode.ts';
import { mdsError } from './errors.ts';
import { settlementStates, type DcpSupply, type SettlementRun, type SupplyReport } from './types.ts';

const decoders = answerDecoders((detail) => mdsError('mdsAnswerInvalid', detail));
const { object, invalid, text, textOrNull, oneOf, count } = decoders;

/** Decimal minor units, signed where a figure may be (a pool's `settled`). */
const signedAmountPattern = /^(0|-?[1-9][0-9]{0,19})$/;

function amount(fields: Fields, name: string, path: string, signed = false): bigint {
  const value = text(fields, name, path);
  if (!signedAmountPattern.test(value) || (!signed && value.startsWith('-')))
    throw invalid(`${path}.${name}`, 'a decimal amount of minor units');
  return BigInt(value);
}

function amountOrNull(fields: Fields, name: string, path: string): bigint | null {
  return fields[name] === null ? null : amount(fields, name, path);
}

function list(fields: Fields, name: string, path: string): readonly unknown[] {
  const value = fields[name];
  if (!Array.isArray(value)) throw invalid(`${path}.${name}`, 'a list');
  return value as readonly unknown[];
}

function msOrNull(fields: Fields, name: string, path: string): number | null {
  return fields[name] === null ? null : count(fields, name, path);
}

function decodeDcpSupply(value: unknown, path: string): DcpSupply {
  const f = object(value, path);
  return {
    dcpId: id(f, 'dcpId', path),
    issued: amount(f, 'issued', path),
    queued: amount(f, 'queued', path),
    retired: amount(f, 'retired', path),
    retiredBacked: amount(f, 'retiredBacked', path),
    attributedOutstanding: amount(f, 'attributedOutstanding', path, true),
    observedOffline: amount(f, 'observedOffline', path),
    inFlight: amount(f, 'inFlight', path),
    refunded: amount(f, 'refunded', path),
    settled: amount(f, 'settled', path, true),
    poolBalance: amountOrNull(f, 'poolBalance', path),
  };
}

export function decodeSupplyReport(value: unknown): SupplyReport {
  const f = object(value, 'answer');
  const total = object(f['total'], 'answer.total');
  const path = 'answer.total';
  return {
    atMs: count(f, 'atMs', 'answer'),
    dcps: list(f, 'dcps', 'answer').map((item, index) => decodeDcpSupply(item, `answer.dcps[${index}]`)),
    total: {
      issued: amount(total, 'issued', path),
      retired: amount(total, 'retired', path),
      outstanding: amount(total, 'outstanding', path, true),
      observedOffline: amount(total, 'observedOffline', path),
      inFlight: amount(total, 'inFlight', path),
      refunded: amount(total, 'refunded', path),
      createdByFraud: amount(total, 'createdByFraud', path),
      poolBalance: amountOrNull(total, 'poolBalance', path),
    },
  };
}

export function decodeSettlementRun(value: unknown, path = 'answer.run'): SettlementRun {
  const f = object(value, path);
  return {
    period: text(f, 'period', path),
    state: oneOf(f, 'state', path, settlementStates),
    startedAtMs: count(f, 'startedAtMs', path),
    completedAtMs: msOrNull(f, 'completedAtMs', path),
    transfers: list(f, 'transfers', path).map((item, index) => {
      const where = `${path}.transfers[${index}]`;
      const t = object(item, where);
      return {
        payerDcpId: id(t, 'payerDcpId', where),
        payeeDcpId: id(t, 'payeeDcpId', where),
        amount: amount(t, 'amount', where),
        ledgerPaymentId: textOrNull(t, 'ledgerPaymentId', where),
      };
    }),
  };
}
