// Rows of the DCP's tables as the domain's types (domain/ports.ts), decoded strictly: an operation
// row must carry exactly what its kind and state need (a hold id once held, a payment id once paid,
// an answer once answered), or the row is corrupt and the read an assertion naming the column.
import { AssertionFailed, unreachable } from '../../core/assert.ts';
import { fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import type { Row } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import type { DeviceRow, Operation } from '../domain/ports.ts';
import { decodeLoadResult, decodeRefusalResult, decodeSettleResult, encodeAnswer } from './codecs.ts';

export const operationColumns =
  'id, kind, se_id, amount, state, account_id, hold_id, payment_id, payee_se_id, payee_endpoint, answer';
export const deviceColumns =
  'se_id, wallet_id, kind, public_key, certificate, state, last_time, synced_through';

const operationKinds = ['load', 'renewal', 'unload', 'transfer', 'refusal'] as const;
const operationStates = ['pending', 'held', 'paid', 'done'] as const;

function columnHex(row: Row, column: string): Bytes {
  const bytes = fromHex(columnText(row, column));
  if (bytes === undefined) throw new AssertionFailed(`database column ${column}: expected hex`);
  return bytes;
}

function badState(row: Row): AssertionFailed {
  return new AssertionFailed(
    `database row dcp_operations ${String(row['id'])}: state ${String(row['state'])} is not one of kind ${String(row['kind'])}`,
  );
}

export function deviceFromRow(row: Row): DeviceRow {
  return {
    seId: columnText(row, 'se_id'),
    walletId: columnText(row, 'wallet_id'),
    kind: columnOneOf(row, 'kind', ['card', 'phone'] as const),
    publicKey: columnHex(row, 'public_key'),
    certificate: columnText(row, 'certificate'),
    state: columnOneOf(row, 'state', ['registering', 'active'] as const),
    lastTime: columnSafeInteger(row, 'last_time'),
    syncedThrough: columnSafeInteger(row, 'synced_through'),
  };
}

export function deviceParams(device: DeviceRow, nowMs: number) {
  return [
    device.seId,
    device.walletId,
    device.kind,
    toHex(device.publicKey),
    device.certificate,
    device.state,
    device.lastTime,
    device.syncedThrough,
    nowMs,
  ];
}

export function operationFromRow(row: Row): Operation {
  const common = {
    id: columnText(row, 'id'),
    seId: columnText(row, 'se_id'),
    amount: columnBigint(row, 'amount'),
  };
  const state = columnOneOf(row, 'state', operationStates);
  const kind = columnOneOf(row, 'kind', operationKinds);
  switch (kind) {
    case 'load':
      return loadFromRow(row, common, state);
    case 'renewal':
      if (state !== 'done') throw badState(row);
      return { ...common, kind, state, answer: decodeSettleResult(columnText(row, 'answer')) };
    case 'unload': {
      const unload = {
        ...common,
        kind,
        accountId: columnText(row, 'account_id'),
        answer: decodeSettleResult(columnText(row, 'answer')),
      };
      if (state === 'pending') return { ...unload, state };
      if (state === 'done') return { ...unload, state, paymentId: columnText(row, 'payment_id') };
      throw badState(row);
    }
    case 'transfer':
      return transferFromRow(row, common, state);
    case 'refusal': {
      const refusal = {
        ...common,
        kind,
        accountId: columnText(row, 'account_id'),
        answer: decodeRefusalResult(columnText(row, 'answer')),
      };
      if (state === 'pending') return { ...refusal, state };
      if (state === 'done') return { ...refusal, state, paymentId: columnText(row, 'payment_id') };
      throw badState(row);
    }
    default:
      return unreachable(kind);
  }
}

type Common = { readonly id: string; readonly seId: string; readonly amount: bigint };
type State = (typeof operationStates)[number];

function loadFromRow(row: Row, common: Common, state: State): Operation {
  const load = { ...common, kind: 'load' as const, accountId: columnText(row, 'account_id') };
  if (state === 'pending') return { ...load, state };
  const holdId = columnText(row, 'hold_id');
  if (state === 'held') return { ...load, state, holdId };
  if (state === 'done')
    return { ...load, state, holdId, answer: decodeLoadResult(columnText(row, 'answer')) };
  throw badState(row);
}

function transferFromRow(row: Row, common: Common, state: State): Operation {
  const transfer = {
    ...common,
    kind: 'transfer' as const,
    payeeSeId: columnText(row, 'payee_se_id'),
    answer: decodeSettleResult(columnText(row, 'answer')),
  };
  const payeeEndpoint = columnTextOrNull(row, 'payee_endpoint');
  if (payeeEndpoint === null) {
    if (state !== 'done') throw badState(row);
    return { ...transfer, route: 'local', state };
  }
  const peer = {
    ...transfer,
    route: 'peer' as const,
    payeeEndpoint,
    accountId: columnText(row, 'account_id'),
  };
  if (state === 'pending') return { ...peer, state };
  if (state === 'paid' || state === 'done')
    return { ...peer, state, paymentId: columnText(row, 'payment_id') };
  throw badState(row);
}

/** The columns of an operation, in `operationColumns` order; what its state lacks is NULL. */
export function operationParams(operation: Operation) {
  return [
    operation.id,
    operation.kind,
    operation.seId,
    operation.amount,
    operation.state,
    'accountId' in operation ? operation.accountId : null,
    'holdId' in operation ? operation.holdId : null,
    'paymentId' in operation ? operation.paymentId : null,
    'payeeSeId' in operation ? operation.payeeSeId : null,
    'payeeEndpoint' in operation ? operation.payeeEndpoint : null,
    'answer' in operation ? encodeAnswer(operation.answer) : null,
  ];
}

/** What a step of the outbox changes: the state and what it carries. */
export function operationChanges(operation: Operation) {
  return {
    state: operation.state,
    holdId: 'holdId' in operation ? operation.holdId : null,
    paymentId: 'paymentId' in operation ? operation.paymentId : null,
    answer: 'answer' in operation ? encodeAnswer(operation.answer) : null,
  };
}
