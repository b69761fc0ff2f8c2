// Amounts cross the wire as decimal strings (never JSON numbers, which lose precision past 2^53).
import { ledgerError } from '../api/errors.ts';
import { amountDigitsMax, movementAmountMax } from './limits.ts';

const decimal = /^-?[0-9]+$/;

/** Decodes a positive amount in minor units; `field` names the field in the refusal. */
export function decodeAmount(text: string, field: string): bigint {
  const digits = text.startsWith('-') ? text.slice(1) : text;
  if (digits.length > amountDigitsMax || !decimal.test(text)) {
    throw ledgerError(
      'amountMalformed',
      `${field} must be a decimal string of at most ${amountDigitsMax} digits`,
    );
  }
  if (digits.length > 1 && digits.startsWith('0')) {
    throw ledgerError('amountMalformed', `${field} has leading zeros`);
  }
  const value = BigInt(text);
  if (value <= 0n) throw ledgerError('amountMustExceedZero', `${field} is ${text}`);
  if (value > movementAmountMax)
    throw ledgerError('amountAboveMaximum', `${field} is above ${movementAmountMax}`);
  return value;
}
