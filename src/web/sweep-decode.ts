// The Risk lab's input: the JSON of `cbdc simulate --sweep NAME=V1,V2,… --json` (docs/simulator.md,
// "Sweeps"; the type is src/sim/sweep-report.ts, which test/web/sweep-decode.test.ts keeps equal to
// these fields). A file a person picks is untrusted input: it is decoded strictly, every field that
// fails named, and only what the page shows is kept — the parameters, each run's values and its
// comparison row — not each run's whole report.

export interface SweepParameterView {
  readonly name: string;
  readonly values: readonly string[];
}

export interface SweepRowView {
  readonly payments: number;
  readonly paymentValue: bigint;
  readonly renewalsPerDay: string;
  readonly fraudInjected: number;
  readonly fraudDetected: number;
  readonly valueAtStake: bigint;
  readonly valueLost: bigint;
  readonly honestPayeesHit: number;
  readonly falseAlerts: number;
  readonly invariantsHold: boolean;
}

export interface SweepRunView {
  readonly values: Readonly<Record<string, string>>;
  readonly row: SweepRowView;
}

export interface SweepView {
  readonly parameters: readonly SweepParameterView[];
  readonly runs: readonly SweepRunView[];
  readonly invariantsHold: boolean;
}

export const sweepFormatVersion = 1;
/** A sweep file's size at most, characters (each run carries its whole report). */
export const sweepCharactersMax = 64 * 1024 * 1024;
/** Runs a sweep may hold for the page (a comparison table of more is unreadable anyway). */
export const sweepRunsMax = 1024;
/** Parameters, and values of each, a sweep may hold. */
export const sweepParametersMax = 16;

export class SweepInvalid extends Error {}

type Fields = Readonly<Record<string, unknown>>;

function object(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SweepInvalid(`${path} is not an object`);
  return value as Fields;
}

function list(value: unknown, path: string, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw new SweepInvalid(`${path} is not a list`);
  if (value.length > max) throw new SweepInvalid(`${path} has over ${max} items`);
  return value;
}

function text(fields: Fields, name: string, path: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new SweepInvalid(`${path}.${name} is not a string`);
  return value;
}

function count(fields: Fields, name: string, path: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new SweepInvalid(`${path}.${name} is not a count`);
  return value;
}

function money(fields: Fields, name: string, path: string): bigint {
  const value = text(fields, name, path);
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) throw new SweepInvalid(`${path}.${name} is not minor units`);
  return BigInt(value);
}

function flag(fields: Fields, name: string, path: string): boolean {
  const value = fields[name];
  if (typeof value !== 'boolean') throw new SweepInvalid(`${path}.${name} is not true or false`);
  return value;
}

function decodeRow(value: unknown, path: string): SweepRowView {
  const row = object(value, path);
  const renewalsPerDay = text(row, 'renewalsPerDay', path);
  if (!/^[0-9]{1,12}\.[0-9]{2}$/.test(renewalsPerDay))
    throw new SweepInvalid(`${path}.renewalsPerDay is not a decimal with two places`);
  return {
    payments: count(row, 'payments', path),
    paymentValue: money(row, 'paymentValue', path),
    renewalsPerDay,
    fraudInjected: count(row, 'fraudInjected', path),
    fraudDetected: count(row, 'fraudDetected', path),
    valueAtStake: money(row, 'valueAtStake', path),
    valueLost: money(row, 'valueLost', path),
    honestPayeesHit: count(row, 'honestPayeesHit', path),
    falseAlerts: count(row, 'falseAlerts', path),
    invariantsHold: flag(row, 'invariantsHold', path),
  };
}

function decodeRun(value: unknown, path: string, parameters: readonly SweepParameterView[]): SweepRunView {
  const run = object(value, path);
  const given = object(run['values'], `${path}.values`);
  const values: Record<string, string> = {};
  for (const parameter of parameters) values[parameter.name] = text(given, parameter.name, `${path}.values`);
  return { values, row: decodeRow(run['row'], `${path}.row`) };
}

/** The sweep in `json` (a file's text), or a SweepInvalid naming the first field that fails. */
export function decodeSweep(json: string): SweepView {
  if (json.length > sweepCharactersMax) throw new SweepInvalid(`over ${sweepCharactersMax} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json) as unknown;
  } catch {
    throw new SweepInvalid('not JSON');
  }
  const sweep = object(parsed, 'sweep');
  if (sweep['version'] !== sweepFormatVersion) throw new SweepInvalid(`version is not ${sweepFormatVersion}`);
  const parameters = list(sweep['parameters'], 'parameters', sweepParametersMax).map((item, index) => {
    const parameter = object(item, `parameters[${index}]`);
    const values = list(parameter['values'], `parameters[${index}].values`, sweepRunsMax);
    return {
      name: text(parameter, 'name', `parameters[${index}]`),
      values: values.map((value, position) => {
        if (typeof value !== 'string')
          throw new SweepInvalid(`parameters[${index}].values[${position}] is not a string`);
        return value;
      }),
    };
  });
  const runs = list(sweep['runs'], 'runs', sweepRunsMax).map((run, index) =>
    decodeRun(run, `runs[${index}]`, parameters),
  );
  return { parameters, runs, invariantsHold: flag(sweep, 'invariantsHold', 'sweep') };
}
