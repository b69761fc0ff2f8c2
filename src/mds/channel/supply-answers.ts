// The API process's decoders of the enclave's supply and indicators answers (docs/mds.md, "Supply and
// settlement"): as in answers.ts, an answer that does not decode is `mdsEnclaveUnavailable` naming
// the field.
import { mdsError } from '../api/errors.ts';
import { hexField, principalHexLength, record, safeIntegerField } from './codec.ts';
import {
  indicatorBucketsMax,
  supplyDcpsMax,
  type EnclaveDcpSupply,
  type EnclaveSupply,
  type IndicatorBin,
  type IndicatorBucket,
  type IndicatorCell,
} from './protocol.ts';

export function amountField(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint' || value < 0n)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be a bigint ≥ 0`);
  return value;
}

export function listOf(value: unknown, field: string, lengthMax: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length > lengthMax)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be a list of at most ${lengthMax}`);
  return value as readonly unknown[];
}

function decodeDcpSupply(value: unknown, field: string): EnclaveDcpSupply {
  const r = record(value, field);
  const amount = (name: string) => amountField(r[name], `${field}.${name}`);
  return {
    dcpId: hexField(r['dcpId'], `${field}.dcpId`, principalHexLength),
    issued: amount('issued'),
    queued: amount('queued'),
    retired: amount('retired'),
    retiredBacked: amount('retiredBacked'),
    observedOffline: amount('observedOffline'),
    inFlight: amount('inFlight'),
    refunded: amount('refunded'),
  };
}

export function decodeSupply(value: unknown): EnclaveSupply {
  const r = record(value, 'supply');
  return {
    dcps: listOf(r['dcps'], 'supply.dcps', supplyDcpsMax).map((item, index) =>
      decodeDcpSupply(item, `supply.dcps[${index}]`),
    ),
    unbackedObservedOffline: amountField(r['unbackedObservedOffline'], 'supply.unbackedObservedOffline'),
    unbackedRetired: amountField(r['unbackedRetired'], 'supply.unbackedRetired'),
    createdByFraud: amountField(r['createdByFraud'], 'supply.createdByFraud'),
  };
}

/** Bins of one histogram as they cross at most. */
const binsMax = 16;

function decodeCell(value: unknown, field: string): IndicatorCell {
  const r = record(value, field);
  if (r['suppressed'] === true) return { suppressed: true };
  if (r['suppressed'] !== false)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field}.suppressed must be a boolean`);
  return { suppressed: false, value: amountField(r['value'], `${field}.value`) };
}

function decodeBins(value: unknown, field: string): IndicatorBin[] {
  return listOf(value, field, binsMax).map((item, index) => {
    const r = record(item, `${field}[${index}]`);
    const upTo = r['upTo'];
    return {
      upTo: upTo === null ? null : amountField(upTo, `${field}[${index}].upTo`),
      count: decodeCell(r['count'], `${field}[${index}].count`),
    };
  });
}

function decodeBucket(value: unknown, field: string): IndicatorBucket {
  const r = record(value, field);
  const part = (name: string) => record(r[name], `${field}.${name}`);
  const at = (name: string, inner: string) => decodeCell(part(name)[inner], `${field}.${name}.${inner}`);
  return {
    startMs: safeIntegerField(r['startMs'], `${field}.startMs`),
    endMs: safeIntegerField(r['endMs'], `${field}.endMs`),
    offlineValueOutstanding: decodeCell(r['offlineValueOutstanding'], `${field}.offlineValueOutstanding`),
    payments: {
      count: at('payments', 'count'),
      value: at('payments', 'value'),
      average: at('payments', 'average'),
    },
    velocityPpm: decodeCell(r['velocityPpm'], `${field}.velocityPpm`),
    generations: decodeBins(r['generations'], `${field}.generations`),
    devices: { card: at('devices', 'card'), phone: at('devices', 'phone') },
    renewalIntervalsMs: decodeBins(r['renewalIntervalsMs'], `${field}.renewalIntervalsMs`),
    balances: decodeBins(r['balances'], `${field}.balances`),
    fraud: { alerts: at('fraud', 'alerts'), value: at('fraud', 'value') },
    recovery: { refunds: at('recovery', 'refunds'), value: at('recovery', 'value') },
  };
}

export function decodeIndicators(value: unknown): readonly IndicatorBucket[] {
  return listOf(value, 'indicators', indicatorBucketsMax).map((item, index) =>
    decodeBucket(item, `indicators[${index}]`),
  );
}
