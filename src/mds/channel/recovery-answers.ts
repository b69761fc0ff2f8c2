// The API process's decoders of the enclave's recovery answers (refunds for a DCP, an execution, the
// recoveries view), beside answers.ts and as strict: a field that does not decode makes the enclave
// unavailable, naming the field.
import { mdsError } from '../api/errors.ts';
import { digestHexLength, hexField, principalHexLength, record, safeIntegerField } from './codec.ts';
import {
  recoveriesListMax,
  refundsPageMax,
  type EnclaveRecoveries,
  type EnclaveRefund,
  type RecoveryRefund,
  type RefundExecution,
  type RefundsChunk,
} from './protocol.ts';

function bigintField(value: unknown, field: string, minimum: bigint): bigint {
  if (typeof value !== 'bigint' || value < minimum)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be a bigint ≥ ${minimum}`);
  return value;
}

function list(value: unknown, field: string, lengthMax: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length > lengthMax)
    throw mdsError('mdsEnclaveUnavailable', `answer ${field} must be a list of at most ${lengthMax}`);
  return value as readonly unknown[];
}

function decodeRefund(value: unknown, field: string): EnclaveRefund {
  const r = record(value, field);
  return {
    decisionId: hexField(r['decisionId'], `${field}.decisionId`, digestHexLength),
    seId: hexField(r['seId'], `${field}.seId`, principalHexLength),
    value: bigintField(r['value'], `${field}.value`, 1n),
    tokenId: hexField(r['tokenId'], `${field}.tokenId`, digestHexLength),
    uploadDigest: hexField(r['uploadDigest'], `${field}.uploadDigest`, digestHexLength),
    sequence: safeIntegerField(r['sequence'], `${field}.sequence`, 1),
  };
}

export function decodeRefundsChunk(value: unknown): RefundsChunk {
  const r = record(value, 'refunds');
  return {
    refunds: list(r['refunds'], 'refunds.refunds', refundsPageMax).map((item, index) =>
      decodeRefund(item, `refunds.refunds[${index}]`),
    ),
    sequence: safeIntegerField(r['sequence'], 'refunds.sequence'),
  };
}

export function decodeRefundExecution(value: unknown): RefundExecution | undefined {
  if (value === undefined || value === null) return undefined;
  const r = record(value, 'execution');
  return {
    decisionId: hexField(r['decisionId'], 'execution.decisionId', digestHexLength),
    executedAtMs: safeIntegerField(r['executedAtMs'], 'execution.executedAtMs'),
  };
}

function decodeDecision(value: unknown, field: string): RecoveryRefund {
  const r = record(value, field);
  const executed = r['executedAtMs'];
  return {
    decisionId: hexField(r['decisionId'], `${field}.decisionId`, digestHexLength),
    transferId: hexField(r['transferId'], `${field}.transferId`, digestHexLength),
    payerSeId: hexField(r['payerSeId'], `${field}.payerSeId`, principalHexLength),
    value: bigintField(r['value'], `${field}.value`, 1n),
    decidedAtMs: safeIntegerField(r['decidedAtMs'], `${field}.decidedAtMs`),
    executedAtMs: executed === null ? null : safeIntegerField(executed, `${field}.executedAtMs`),
  };
}

export function decodeRecoveries(value: unknown): EnclaveRecoveries {
  const r = record(value, 'recoveries');
  const inFlight = record(r['inFlight'], 'recoveries.inFlight');
  const refunds = record(r['refunds'], 'recoveries.refunds');
  return {
    inFlight: {
      count: safeIntegerField(inFlight['count'], 'recoveries.inFlight.count'),
      value: bigintField(inFlight['value'], 'recoveries.inFlight.value', 0n),
      transfers: list(inFlight['transfers'], 'recoveries.inFlight.transfers', recoveriesListMax).map(
        (item, index) => {
          const field = `recoveries.inFlight.transfers[${index}]`;
          const t = record(item, field);
          return {
            transferId: hexField(t['transferId'], `${field}.transferId`, digestHexLength),
            payerSeId: hexField(t['payerSeId'], `${field}.payerSeId`, principalHexLength),
            value: bigintField(t['value'], `${field}.value`, 1n),
            sinceMs: safeIntegerField(t['sinceMs'], `${field}.sinceMs`),
          };
        },
      ),
    },
    refunds: {
      count: safeIntegerField(refunds['count'], 'recoveries.refunds.count'),
      value: bigintField(refunds['value'], 'recoveries.refunds.value', 0n),
      executedCount: safeIntegerField(refunds['executedCount'], 'recoveries.refunds.executedCount'),
      executedValue: bigintField(refunds['executedValue'], 'recoveries.refunds.executedValue', 0n),
      decisions: list(refunds['decisions'], 'recoveries.refunds.decisions', recoveriesListMax).map(
        (item, index) => decodeDecision(item, `recoveries.refunds.decisions[${index}]`),
      ),
    },
  };
}
