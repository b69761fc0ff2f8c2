// Strict decoders for the MDS's recovery answers (docs/mds.md, "Recovery of value in flight"), for
// `client.ts`, built on decode.ts's readers: a field that does not decode names itself in an
// `mdsAnswerInvalid` error.
import { amount, array, count, countOrNull, digest, id, object, textOrNull } from './decode.ts';
import {
  recoveriesListMax,
  type InFlightTransfer,
  type RecoveriesView,
  type RecoveryRefund,
  type RefundExecution,
  type RefundOrder,
  type RefundsPage,
} from './types.ts';

function decodeRefundOrder(value: unknown, path: string): RefundOrder {
  const fields = object(value, path);
  return {
    decisionId: digest(fields, 'decisionId', path),
    seId: id(fields, 'seId', path),
    value: amount(fields, 'value', path),
    tokenId: digest(fields, 'tokenId', path),
    uploadDigest: digest(fields, 'uploadDigest', path),
  };
}

export function decodeRefundsPage(value: unknown, limit: number): RefundsPage {
  const fields = object(value, 'answer');
  return {
    refunds: array(fields, 'refunds', 'answer', limit).map((item, index) =>
      decodeRefundOrder(item, `answer.refunds[${index}]`),
    ),
    next: textOrNull(fields, 'next', 'answer'),
  };
}

export function decodeRefundExecution(value: unknown): RefundExecution {
  const fields = object(value, 'answer');
  return {
    decisionId: digest(fields, 'decisionId', 'answer'),
    executedAtMs: count(fields, 'executedAtMs', 'answer'),
  };
}

function decodeInFlight(value: unknown, path: string): InFlightTransfer {
  const fields = object(value, path);
  return {
    transferId: digest(fields, 'transferId', path),
    payerSeId: id(fields, 'payerSeId', path),
    value: amount(fields, 'value', path),
    sinceMs: count(fields, 'sinceMs', path),
  };
}

function decodeDecision(value: unknown, path: string): RecoveryRefund {
  const fields = object(value, path);
  return {
    decisionId: digest(fields, 'decisionId', path),
    transferId: digest(fields, 'transferId', path),
    payerSeId: id(fields, 'payerSeId', path),
    value: amount(fields, 'value', path),
    decidedAtMs: count(fields, 'decidedAtMs', path),
    executedAtMs: countOrNull(fields, 'executedAtMs', path),
  };
}

export function decodeRecoveries(value: unknown): RecoveriesView {
  const fields = object(value, 'answer');
  const inFlight = object(fields['inFlight'], 'answer.inFlight');
  const refunds = object(fields['refunds'], 'answer.refunds');
  return {
    inFlight: {
      count: count(inFlight, 'count', 'answer.inFlight'),
      value: amount(inFlight, 'value', 'answer.inFlight'),
      transfers: array(inFlight, 'transfers', 'answer.inFlight', recoveriesListMax).map((item, index) =>
        decodeInFlight(item, `answer.inFlight.transfers[${index}]`),
      ),
    },
    refunds: {
      count: count(refunds, 'count', 'answer.refunds'),
      value: amount(refunds, 'value', 'answer.refunds'),
      executedCount: count(refunds, 'executedCount', 'answer.refunds'),
      executedValue: amount(refunds, 'executedValue', 'answer.refunds'),
      decisions: array(refunds, 'decisions', 'answer.refunds', recoveriesListMax).map((item, index) =>
        decodeDecision(item, `answer.refunds.decisions[${index}]`),
      ),
    },
  };
}
