// `cbdc simulate`: a seeded scenario over the whole online side started for the run (src/sim/),
// ending in a human summary on stdout, or with --json in one JSON report; with --sweep, once per
// combination of swept values, ending in a comparison table or one JSON sweep report. Exits 1 when an invariant
// did not hold, 2 on bad options (commander's one-line message, program.ts). The progress line is
// hand-written (one `\r`-rewritten line on stderr, shown only on a terminal and outside CI) rather
// than cli-progress: a day counter is all it shows, and it saves a dependency.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addressesFile } from '../system/connect.ts';
import { parseLimitsOption, type LimitsOption } from './options.ts';
import { reportJson, reportSummary } from '../sim/report.ts';
import { runSimulation, type Engine, type Progress } from '../sim/run.ts';
import { runCountOf, runSweep, sweepRunsMax, sweepTable, type SweepParameter } from '../sim/sweep.ts';
import {
  attackersMax,
  daysMax,
  dcpsMax,
  defaultScenario,
  devicesMax,
  merchantsMax,
  ratePerMilleScale,
  renewalChecks,
  verifies,
  type NumericField,
  type RenewalCheck,
  type Scenario,
  type Verify,
} from '../sim/scenario.ts';

/** A parser of whole numbers in [min, max]. */
function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max))
      throw new InvalidArgumentError(`expected a whole number ${min}..${max}`);
    return value;
  };
}

/**
 * A rate 0..1 with at most three decimals, as parts per thousand: parsed from its digits, never
 * through a float, so "0.3" is exactly 300.
 */
export function parseRate(text: string): number {
  const match = /^(?:(0)(?:\.([0-9]{1,3}))?|(1)(?:\.0{1,3})?)$/.exec(text);
  if (match === null) throw new InvalidArgumentError('expected a rate 0..1 with at most 3 decimals');
  if (match[3] !== undefined) return ratePerMilleScale;
  return Number((match[2] ?? '').padEnd(3, '0'));
}

/** One rewritten line on stderr when it is a terminal and CI is unset; nothing otherwise. */
function progressLine(text: (done: number, total: number) => string): {
  readonly progress: Progress;
  readonly done: () => void;
} {
  if (!process.stderr.isTTY || process.env['CI'] !== undefined)
    return { progress: () => undefined, done: () => undefined };
  return {
    progress: (done, total) => {
      process.stderr.write(`\r${text(done, total)}`);
    },
    done: () => {
      process.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * The scenario's options: flag, help, the field they set and their parser. The flags and `--sweep`
 * share them, so a swept value is parsed exactly as the option would be.
 */
interface ScenarioOption {
  readonly name: string;
  readonly argument: string;
  readonly help: string;
  readonly field: NumericField;
  readonly parse: (text: string) => number;
  readonly rate?: true;
}

const attackers = wholeNumber(0, attackersMax);
const scenarioOptions: readonly ScenarioOption[] = [
  {
    name: 'seed',
    argument: 'n',
    help: 'seed of every choice',
    field: 'seed',
    parse: wholeNumber(0, 2 ** 32 - 1),
  },
  {
    name: 'devices',
    argument: 'n',
    help: 'consumers (each with a card or a phone)',
    field: 'devices',
    parse: wholeNumber(2, devicesMax),
  },
  {
    name: 'merchants',
    argument: 'n',
    help: 'merchants (each with a phone)',
    field: 'merchants',
    parse: wholeNumber(1, merchantsMax),
  },
  { name: 'days', argument: 'n', help: 'simulated days', field: 'days', parse: wholeNumber(1, daysMax) },
  {
    name: 'card-share',
    argument: 'rate',
    help: 'share of consumers with a card, 0..1',
    field: 'cardSharePerMille',
    parse: parseRate,
    rate: true,
  },
  {
    name: 'interrupt-rate',
    argument: 'rate',
    help: 'chance a tap is broken, 0..1',
    field: 'interruptRatePerMille',
    parse: parseRate,
    rate: true,
  },
  {
    name: 'retap-rate',
    argument: 'rate',
    help: 'chance a broken tap is tapped again, 0..1',
    field: 'retapRatePerMille',
    parse: parseRate,
    rate: true,
  },
  {
    name: 'outage-rate',
    argument: 'rate',
    help: 'chance a DCP is out on a day (its devices stay offline), 0..1',
    field: 'outageRatePerMille',
    parse: parseRate,
    rate: true,
  },
  {
    name: 'dcps',
    argument: 'n',
    help: 'DCPs, named dcp-1..dcp-N',
    field: 'dcps',
    parse: wholeNumber(1, dcpsMax),
  },
  {
    name: 'double-spenders',
    argument: 'n',
    help: 'compromised phones that roll their chip back and spend the same tokens again',
    field: 'doubleSpenders',
    parse: attackers,
  },
  {
    name: 'counterfeiters',
    argument: 'n',
    help: 'compromised phones that write tokens of a fake issuance into their chip',
    field: 'counterfeiters',
    parse: attackers,
  },
  {
    name: 'cloners',
    argument: 'n',
    help: 'compromised phones whose chip is copied into a second one',
    field: 'cloners',
    parse: attackers,
  },
];

function optionOf(entry: ScenarioOption): Option {
  const perMilleOrCount = defaultScenario[entry.field];
  const option = new Option(`--${entry.name} <${entry.argument}>`, entry.help).argParser(entry.parse);
  return entry.rate === true
    ? option.default(perMilleOrCount, String(perMilleOrCount / ratePerMilleScale))
    : option.default(perMilleOrCount);
}

/** Collects `--sweep NAME=V1,V2,…` into parameters, refusing an unknown or repeated name and bad values. */
export function parseSweep(text: string, previous: readonly SweepParameter[] = []): SweepParameter[] {
  const match = /^([a-z-]+)=(.+)$/.exec(text);
  if (match === null) throw new InvalidArgumentError('expected NAME=V1,V2,…');
  const [, name = '', list = ''] = match;
  const entry = scenarioOptions.find((candidate) => candidate.name === name);
  if (entry === undefined)
    throw new InvalidArgumentError(
      `${name} is not swept: one of ${scenarioOptions.map((o) => o.name).join(', ')}`,
    );
  if (previous.some((parameter) => parameter.name === name))
    throw new InvalidArgumentError(`${name} swept twice`);
  const values = list.split(',');
  const parsed = values.map((value) => {
    try {
      return entry.parse(value);
    } catch (error) {
      if (error instanceof InvalidArgumentError)
        throw new InvalidArgumentError(`${name}=${value}: ${error.message}`);
      throw error;
    }
  });
  const parameters = [...previous, { name, values, field: entry.field, parsed }];
  if (runCountOf(parameters) > sweepRunsMax)
    throw new InvalidArgumentError(`a sweep of ${runCountOf(parameters)} runs: at most ${sweepRunsMax}`);
  return parameters;
}

type SimulateOptions = Record<string, number> & {
  readonly renewalCheck: RenewalCheck;
  readonly verify: Verify;
  readonly json?: true;
  readonly sweep?: SweepParameter[];
  readonly db?: string;
  readonly limits?: LimitsOption;
  readonly against?: string;
};

function scenarioFrom(options: SimulateOptions): Scenario {
  let scenario: Scenario = { ...defaultScenario, renewalCheck: options.renewalCheck, verify: options.verify };
  for (const entry of scenarioOptions) {
    const key = entry.name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    scenario = { ...scenario, [entry.field]: options[key] ?? defaultScenario[entry.field] };
  }
  return scenario;
}

/** A `--against` folder: one where a `cbdc start` runs (it wrote where its services listen). */
function parseAgainst(text: string): string {
  if (!existsSync(join(text, addressesFile)))
    throw new InvalidArgumentError(`${text} holds no running cbdc start (no ${addressesFile})`);
  return text;
}

/** A `--db` URL: postgres:// only (SQLite is the default). */
function parseDatabaseUrl(text: string): string {
  if (!/^postgres(ql)?:\/\/[^\s]+\/[a-z][a-z0-9_]{0,40}$/.test(text))
    throw new InvalidArgumentError('expected postgres://USER@HOST:PORT/NAME, NAME in [a-z0-9_]');
  return text;
}

async function simulateOnce(scenario: Scenario, json: boolean, engine: Engine): Promise<void> {
  const line = progressLine((done, total) => `simulating: day ${done}/${total}`);
  const report = await runSimulation(scenario, line.progress, engine).finally(line.done);
  console.log(json ? reportJson(report) : reportSummary(report));
  if (!report.invariantsHold) process.exitCode = 1;
}

async function sweep(
  scenario: Scenario,
  parameters: readonly SweepParameter[],
  json: boolean,
  engine: Engine,
): Promise<void> {
  const line = progressLine((done, total) => `sweeping: run ${done}/${total}`);
  const runOne = (swept: Scenario) => runSimulation(swept, undefined, engine);
  const report = await runSweep(scenario, parameters, line.progress, runOne).finally(line.done);
  console.log(json ? JSON.stringify(report) : sweepTable(report));
  if (!report.invariantsHold) process.exitCode = 1;
}

export function registerSimulate(program: Command): void {
  const command = program
    .command('simulate')
    .description(
      'run a seeded scenario over the whole system and report what happened, checked against the invariants',
    );
  for (const entry of scenarioOptions) command.addOption(optionOf(entry));
  command
    .option(
      '--sweep <NAME=V1,V2,...>',
      'run once per combination of swept option values (repeatable) and compare the runs',
      parseSweep,
    )
    .addOption(
      new Option('--renewal-check <mode>', 'how the DCPs decide a renewal: at once, or asking the MDS first')
        .choices(renewalChecks)
        .default(defaultScenario.renewalCheck),
    )
    .addOption(
      new Option(
        '--verify <policy>',
        'what a payee SE verifies: every signature back to the issuances, or the last hop',
      )
        .choices(verifies)
        .default(defaultScenario.verify),
    )
    .option(
      '--db <url>',
      'postgres://…/NAME: each service on a new database NAME_<service> (default: SQLite files)',
      parseDatabaseUrl,
    )
    .option(
      '--limits <file>',
      'the limits every DCP pushes, per device kind (docs/dcp.md)',
      parseLimitsOption,
    )
    .option(
      '--against <dir>',
      'drive the running services of a `cbdc start --data DIR` instead of starting them',
      parseAgainst,
    )
    .option('--json', 'print the report as one JSON object')
    .action(async (options: SimulateOptions) => {
      const scenario = scenarioFrom(options);
      if (options.sweep !== undefined && options.db !== undefined)
        program.error('error: --db and --sweep together would reuse one set of databases for every run');
      const verifyChosen = options.verify === 'full' ? undefined : options.verify;
      if (
        options.against !== undefined &&
        (options.db ?? options.limits ?? options.sweep ?? verifyChosen) !== undefined
      )
        program.error(
          'error: --against drives running services: --db, --limits, --verify and --sweep are theirs to set',
        );
      const engine: Engine = {
        ...(options.against === undefined ? {} : { against: options.against }),
        ...(options.db === undefined ? {} : { databaseUrl: options.db }),
        ...(options.limits === undefined ? {} : { limitsFile: options.limits.path }),
      };
      if (options.sweep === undefined) await simulateOnce(scenario, options.json === true, engine);
      else await sweep(scenario, options.sweep, options.json === true, engine);
    });
}
