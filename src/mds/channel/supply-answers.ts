// The API process's decoders of the enclave's supply and indicators answers (docs/mds.md, "Supply and
// settlement"): as in answers.ts, an answer that does not decode is `mdsEnclaveUnavailable` naming
// the field.
import { mdsError } from '../api/errors.ts';
import { hexField, principalHexLength, record } from './codec.ts';
import { supplyDcpsMax, type EnclaveDcpSupply, type EnclaveSupply } from './protocol.ts';

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
