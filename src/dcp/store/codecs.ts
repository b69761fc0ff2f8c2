// The DCP's stored text, decoded strictly: an operation's answer (JSON in `dcp_operations.answer`)
// and what an idempotency key names (`kind:id` in `dcp_idempotency_keys.result`). Stored text that
// does not decode is a corrupt database or a bug, never bad input: the failure is an assertion that
// names the field, as for every other column (src/storage/decode.ts).
import { AssertionFailed } from '../../core/assert.ts';
import { answerDecoders, type Fields } from '../../http-client/answer-decode.ts';
import type { ResultCodec } from '../../storage/idempotency.ts';
import { settleKinds } from '../api/types.ts';
import {
  keyKinds,
  type KeyResult,
  type LoadResult,
  type RefusalResult,
  type SettleResult,
} from '../domain/ports.ts';

const { object, text, oneOf, invalid } = answerDecoders(
  (detail) => new AssertionFailed(`stored answer: ${detail}`),
);

const hexPattern = /^([0-9a-f]{2})+$/;

function hexText(fields: Fields, name: string, path: string): string {
  const value = text(fields, name, path);
  if (!hexPattern.test(value)) throw invalid(`${path}.${name}`, 'lowercase hex');
  return value;
}

function parsed(json: string, path: string): Fields {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalid(path, 'JSON');
  }
  return object(value, path);
}

export function encodeAnswer(answer: LoadResult | SettleResult | RefusalResult): string {
  return JSON.stringify(answer);
}

export function decodeLoadResult(json: string): LoadResult {
  const fields = parsed(json, 'load');
  return { operationId: text(fields, 'operationId', 'load'), issuance: hexText(fields, 'issuance', 'load') };
}

export function decodeSettleResult(json: string): SettleResult {
  const fields = parsed(json, 'settlement');
  const amount = text(fields, 'amount', 'settlement');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(amount)) throw invalid('settlement.amount', 'a decimal amount');
  return {
    operationId: text(fields, 'operationId', 'settlement'),
    kind: oneOf(fields, 'kind', 'settlement', settleKinds),
    renewal: hexText(fields, 'renewal', 'settlement'),
    credits: hexList(fields['credits'], 'settlement.credits'),
    // Answers stored before DCP migration 8 delivered no loads again.
    loads: fields['loads'] === undefined ? [] : hexList(fields['loads'], 'settlement.loads'),
    amount,
  };
}

function hexList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'an array');
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !hexPattern.test(item))
      throw invalid(`${field}[${index}]`, 'lowercase hex');
    return item;
  });
}

export function decodeRefusalResult(json: string): RefusalResult {
  const fields = parsed(json, 'refusal');
  const amount = text(fields, 'amount', 'refusal');
  if (!/^[1-9][0-9]{0,19}$/.test(amount)) throw invalid('refusal.amount', 'a decimal amount');
  return {
    operationId: text(fields, 'operationId', 'refusal'),
    loadOperationId: text(fields, 'loadOperationId', 'refusal'),
    issuanceId: hexText(fields, 'issuanceId', 'refusal'),
    amount,
  };
}

/** `kind:id`; the id never holds a colon before the kind's. */
export const keyResultCodec: ResultCodec<KeyResult> = {
  encode: (result) => `${result.kind}:${result.id}`,
  decode: (stored) => {
    const colon = stored.indexOf(':');
    const kind = keyKinds.find((candidate) => candidate === stored.slice(0, colon));
    const id = stored.slice(colon + 1);
    if (colon < 0 || kind === undefined || id === '')
      throw new AssertionFailed(`stored idempotency result ${JSON.stringify(stored)} is not kind:id`);
    return { kind, id };
  },
};
