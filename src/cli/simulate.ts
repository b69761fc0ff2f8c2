// `cbdc simulate`: a seeded scenario over the whole online side started for the run (src/sim/),
// ending in a human summary on stdout, or with --json in one JSON report. Exits 1 when an invariant
// did not hold, 2 on bad options (commander's one-line message, program.ts). The progress line is
// hand-written (one `\r`-rewritten line on stderr, shown only on a terminal and outside CI) rather
// than cli-progress: a day counter is all it shows, and it saves a dependency.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { reportJson, reportSummary } from '../sim/report.ts';
import { runSimulation, type Progress } from '../sim/run.ts';
import {
  attackersMax,
  daysMax,
  dcpsMax,
  defaultScenario,
  devicesMax,
  merchantsMax,
  ratePerMilleScale,
  type Scenario,
} from '../sim/scenario.ts';

interface SimulateOptions {
  readonly seed: number;
  readonly devices: number;
  readonly merchants: number;
  readonly days: number;
  readonly cardShare: number;
  readonly interruptRate: number;
  readonly retapRate: number;
  readonly dcps: number;
  readonly doubleSpenders: number;
  readonly counterfeiters: number;
  readonly cloners: number;
  readonly json?: true;
}

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

/** A rate option whose help shows its default as the rate typed, not in parts per thousand. */
function rateOption(flags: string, description: string, perMille: number): Option {
  return new Option(flags, description)
    .argParser(parseRate)
    .default(perMille, String(perMille / ratePerMilleScale));
}

/** One rewritten line on stderr when it is a terminal and CI is unset; nothing otherwise. */
function progressLine(): { readonly progress: Progress; readonly done: () => void } {
  if (!process.stderr.isTTY || process.env['CI'] !== undefined)
    return { progress: () => undefined, done: () => undefined };
  return {
    progress: (daysDone, days) => {
      process.stderr.write(`\rsimulating: day ${daysDone}/${days}`);
    },
    done: () => {
      process.stderr.write('\r\x1b[K');
    },
  };
}

export function registerSimulate(program: Command): void {
  const d = defaultScenario;
  program
    .command('simulate')
    .description(
      'run a seeded scenario over the whole system and report what happened, checked against the invariants',
    )
    .option('--seed <n>', 'seed of every choice', wholeNumber(0, 2 ** 32 - 1), d.seed)
    .option('--devices <n>', 'consumers (each with a card or a phone)', wholeNumber(2, devicesMax), d.devices)
    .option('--merchants <n>', 'merchants (each with a phone)', wholeNumber(1, merchantsMax), d.merchants)
    .option('--days <n>', 'simulated days', wholeNumber(1, daysMax), d.days)
    .addOption(rateOption('--card-share <rate>', 'share of consumers with a card, 0..1', d.cardSharePerMille))
    .addOption(rateOption('--interrupt-rate <rate>', 'chance a tap is broken, 0..1', d.interruptRatePerMille))
    .addOption(
      rateOption('--retap-rate <rate>', 'chance a broken tap is tapped again, 0..1', d.retapRatePerMille),
    )
    .option('--dcps <n>', 'DCPs, named dcp-1..dcp-N', wholeNumber(1, dcpsMax), d.dcps)
    .option(
      '--double-spenders <n>',
      'compromised phones that roll their chip back and spend the same tokens again',
      wholeNumber(0, attackersMax),
      d.doubleSpenders,
    )
    .option(
      '--counterfeiters <n>',
      'compromised phones that write tokens of a fake issuance into their chip',
      wholeNumber(0, attackersMax),
      d.counterfeiters,
    )
    .option(
      '--cloners <n>',
      'compromised phones whose chip is copied into a second one',
      wholeNumber(0, attackersMax),
      d.cloners,
    )
    .option('--json', 'print the report as one JSON object')
    .action(async (options: SimulateOptions) => {
      const scenario: Scenario = {
        seed: options.seed,
        devices: options.devices,
        merchants: options.merchants,
        days: options.days,
        cardSharePerMille: options.cardShare,
        interruptRatePerMille: options.interruptRate,
        retapRatePerMille: options.retapRate,
        dcps: options.dcps,
        doubleSpenders: options.doubleSpenders,
        counterfeiters: options.counterfeiters,
        cloners: options.cloners,
      };
      const line = progressLine();
      const report = await runSimulation(scenario, line.progress).finally(line.done);
      console.log(options.json === true ? reportJson(report) : reportSummary(report));
      if (!report.invariantsHold) process.exitCode = 1;
    });
}
