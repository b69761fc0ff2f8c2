// Strict field readers for a service's JSON answers, shared by the typed clients. A value that does
// not decode names its path (`account.balance is not a string`) in the error the client's service
// uses for undecodable answers (`ledgerAnswerInvalid`, `directoryAnswerInvalid`): a client never
// passes on a value it did not check. Imports nothing but core, like every file of this folder.

export type Fields = Readonly<Record<string, unknown>>;

/** Plain functions (no `this`), so a client may destructure the ones it uses. */
export interface AnswerDecoders {
  /** The error for `path is not expected`, in the client's catalogue. */
  readonly invalid: (path: string, expected: string) => Error;
  readonly object: (value: unknown, path: string) => Fields;
  /** A field of the answer's top-level object. */
  readonly field: (value: unknown, name: string) => unknown;
  readonly text: (fields: Fields, name: string, path: string) => string;
  readonly textOrNull: (fields: Fields, name: string, path: string) => string | null;
  readonly oneOf: <const T extends string>(
    fields: Fields,
    name: string,
    path: string,
    values: readonly T[],
  ) => T;
  /** A non-negative safe integer (a version, a count). */
  readonly count: (fields: Fields, name: string, path: string) => number;
  /** A 16-byte principal id (an SE id, a DCP id) as 32 lowercase hex digits. */
  readonly id: (fields: Fields, name: string, path: string) => string;
  /** Minor units as a decimal string without leading zeros, negative only when `signed`. */
  readonly money: (fields: Fields, name: string, path: string, signed?: boolean) => bigint;
}

const idPattern = /^[0-9a-f]{32}$/;
const moneyPattern = /^(0|[1-9][0-9]{0,19})$/;
const signedMoneyPattern = /^-?(0|[1-9][0-9]{0,19})$/;

/** The readers of one client; `answerInvalid` makes its catalogue's error from a detail. */
export function answerDecoders(answerInvalid: (detail: string) => Error): AnswerDecoders {
  const invalid = (path: string, expected: string) => answerInvalid(`${path} is not ${expected}`);
  const object = (value: unknown, path: string): Fields => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'an object');
    return value as Fields;
  };
  const text = (fields: Fields, name: string, path: string): string => {
    const value = fields[name];
    if (typeof value !== 'string') throw invalid(`${path}.${name}`, 'a string');
    return value;
  };
  return {
    invalid,
    object,
    field: (value, name) => object(value, 'answer')[name],
    text,
    textOrNull: (fields, name, path) => (fields[name] === null ? null : text(fields, name, path)),
    oneOf: (fields, name, path, values) => {
      const value = text(fields, name, path);
      const found = values.find((candidate) => candidate === value);
      if (found === undefined) throw invalid(`${path}.${name}`, values.join(' | '));
      return found;
    },
    id: (fields, name, path) => {
      const value = text(fields, name, path);
      if (!idPattern.test(value)) throw invalid(`${path}.${name}`, '32 lowercase hex digits');
      return value;
    },
    money: (fields, name, path, signed = false) => {
      const value = text(fields, name, path);
      if (!(signed ? signedMoneyPattern : moneyPattern).test(value))
        throw invalid(`${path}.${name}`, 'a decimal amount');
      return BigInt(value);
    },
    count: (fields, name, path) => {
      const value = fields[name];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        throw invalid(`${path}.${name}`, 'a non-negative integer');
      return value;
    },
  };
}
