// The limits file (`cbdc serve dcp --limits FILE`, `cbdc simulate --limits FILE`, docs/dcp.md "The
// limits file"): the offline limits (DESIGN §6) a DCP signs and pushes, per device kind, as JSON. The
// decoder is strict: an unknown field is refused, and every bad value names its path
// (`card.balanceMax`). A field left out keeps the default of `defaultLimits` (core/limits.ts).
// A new limit is one line in `limitFields`: its name and its value decoder; the type follows.
import { amountMax } from '../../core/amount.ts';
import type { SecureElementKind } from '../../core/certificate.ts';
import {
  challengesCeiling,
  generationCeiling,
  historyBytesCeiling,
  offlinePaymentsCeiling,
  type Limits,
} from '../../core/limits.ts';
import { transferInputsMax } from '../../core/transfer.ts';

/** A limits file is small; a larger one is refused before it is parsed. */
export const limitsFileBytesMax = 16 * 1024;
/** The signed limits' version: an SE installs only a newer one (core/limits.ts). */
export const limitsVersionMax = 2 ** 31 - 1;

/** A limits file that does not decode; `field` is the path of the bad field (`card.balanceMax`). */
export class LimitsFileInvalid extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field} ${reason}`);
    this.name = 'LimitsFileInvalid';
  }
}

/** An amount: a decimal string of minor units, 1..amountMax (never a JSON number: no floats). */
function amount(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,15}$/.test(value) || BigInt(value) > amountMax)
    throw new LimitsFileInvalid(path, `must be a decimal string of minor units, 1..${amountMax}`);
  return BigInt(value);
}

/** A whole number 1..ceiling: the ceilings are what the SE's own decoder accepts. */
function count(ceiling: number): (value: unknown, path: string) => number {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > ceiling)
      throw new LimitsFileInvalid(path, `must be a whole number 1..${ceiling}`);
    return value;
  };
}

/** One of the named values (a policy). */
function oneOf<const T extends string>(values: readonly T[]): (value: unknown, path: string) => T {
  return (value, path) => {
    const found = values.find((candidate) => candidate === value);
    if (found === undefined) throw new LimitsFileInvalid(path, `must be one of ${values.join(', ')}`);
    return found;
  };
}

/** Every limit a file may set, with its decoder. */
const limitFields = {
  balanceMax: amount,
  paymentMax: amount,
  offlinePaymentsMax: count(offlinePaymentsCeiling),
  generationMax: count(generationCeiling),
  historyBytesMax: count(historyBytesCeiling),
  inputsMax: count(transferInputsMax),
  challengesMax: count(challengesCeiling),
  verification: oneOf(['full', 'lastHop']),
} as const satisfies { readonly [K in keyof Limits]?: (value: unknown, path: string) => Limits[K] };

type LimitField = keyof typeof limitFields;
/** The limits of one kind a file set; the rest keep their defaults. */
export type KindLimits = { readonly [K in LimitField]?: ReturnType<(typeof limitFields)[K]> };

/** What `startDcpServer`'s `limits` option takes. */
export interface LimitsFile {
  readonly version: number;
  readonly card: KindLimits;
  readonly phone: KindLimits;
}

const kinds = ['card', 'phone'] as const satisfies readonly SecureElementKind[];
const topFields = ['version', ...kinds] as const;

function objectAt(value: unknown, path: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LimitsFileInvalid(path, 'must be a JSON object');
  return value as Record<string, unknown>;
}

function refuseUnknown(
  record: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
): void {
  const unknown = Object.keys(record).find((name) => !known.includes(name));
  if (unknown !== undefined)
    throw new LimitsFileInvalid(path === '' ? unknown : `${path}.${unknown}`, 'is not a limits field');
}

function isLimitField(name: string): name is LimitField {
  return Object.hasOwn(limitFields, name);
}

function kindLimits(value: unknown, kind: SecureElementKind): KindLimits {
  if (value === undefined) return {};
  const record = objectAt(value, kind);
  refuseUnknown(record, Object.keys(limitFields), kind);
  const decoded: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(record))
    if (isLimitField(name)) decoded[name] = limitFields[name](field, `${kind}.${name}`);
  return decoded;
}

/** Decodes a limits file's parsed JSON; throws `LimitsFileInvalid` naming the first bad field. */
export function decodeLimitsFile(json: unknown): LimitsFile {
  const record = objectAt(json, 'the limits file');
  refuseUnknown(record, topFields, '');
  const version = record['version'];
  if (
    typeof version !== 'number' ||
    !Number.isSafeInteger(version) ||
    version < 1 ||
    version > limitsVersionMax
  )
    throw new LimitsFileInvalid('version', `must be a whole number 1..${limitsVersionMax}`);
  return { version, card: kindLimits(record['card'], 'card'), phone: kindLimits(record['phone'], 'phone') };
}

/** Parses and decodes a limits file's text (at most `limitsFileBytesMax` bytes). */
export function parseLimitsFile(text: string): LimitsFile {
  if (new TextEncoder().encode(text).length > limitsFileBytesMax)
    throw new LimitsFileInvalid('the limits file', `is over ${limitsFileBytesMax} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LimitsFileInvalid('the limits file', 'is not JSON');
  }
  return decodeLimitsFile(json);
}
