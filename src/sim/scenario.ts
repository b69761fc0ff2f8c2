// A simulation scenario: who lives in the simulated economy and how often its links fail. Every rate
// is held in parts per thousand (an integer), so a choice made with it replays exactly from the seed
// on any machine; the CLI parses decimals into this form (src/cli/simulate.ts).

/** Upper bounds of a scenario, so a run's size and time are bounded by its options. */
export const devicesMax = 100_000;
export const merchantsMax = 10_000;
export const daysMax = 365;
export const dcpsMax = 8;
/** Attackers of each kind a scenario may hold. */
export const attackersMax = 50;
/** A rate is a chance out of `ratePerMilleScale`. */
export const ratePerMilleScale = 1_000;

export interface Scenario {
  /** Seed of every choice the simulator makes (who pays whom, how much, where a link breaks). */
  readonly seed: number;
  /** Consumers, each with a card or a phone. */
  readonly devices: number;
  /** Merchants, each with a phone. */
  readonly merchants: number;
  readonly days: number;
  /** Share of consumers holding a card rather than a phone. */
  readonly cardSharePerMille: number;
  /** Chance that a tap's link breaks at a random byte. */
  readonly interruptRatePerMille: number;
  /** Chance that a broken tap is tapped again; the rest are left in flight. */
  readonly retapRatePerMille: number;
  /** DCPs, named dcp-1 … dcp-N; agents are spread over them in turn. */
  readonly dcps: number;
  /** Compromised phones that roll their chip's memory back to spend the same tokens again (attacks.ts). */
  readonly doubleSpenders: number;
  /** Compromised phones that write tokens of a fake issuance into their chip, then renew and pay with them. */
  readonly counterfeiters: number;
  /** Compromised phones whose chip is copied into a second one, both paying with the same tokens. */
  readonly cloners: number;
  /**
   * How the DCPs decide a renewal (design.md §7): `async` renews at once and leaves forged value to
   * the MDS afterwards; `sync` asks the MDS first.
   */
  readonly renewalCheck: RenewalCheck;
  /** Chance that a DCP is out on a day: its devices stay offline until it is back (outages.ts). */
  readonly outageRatePerMille: number;
  /**
   * What a payee SE verifies of a payment (docs/protocol.md §4): `full` every signature back to the
   * issuances, `last-hop` the paying transfer only (the DCPs sign it into their limits); a forged
   * ancestry then reaches honest payees and only the MDS finds it.
   */
  readonly verify: Verify;
}

export type Verify = 'full' | 'last-hop';
export const verifies = ['full', 'last-hop'] as const satisfies readonly Verify[];

export type RenewalCheck = 'async' | 'sync';

/** The scenario's numeric fields: those an option of a number sets, and a sweep may vary. */
export type NumericField = { [K in keyof Scenario]: Scenario[K] extends number ? K : never }[keyof Scenario];
export const renewalChecks = ['async', 'sync'] as const satisfies readonly RenewalCheck[];

export const defaultScenario: Scenario = {
  seed: 1,
  devices: 20,
  merchants: 4,
  days: 5,
  cardSharePerMille: 500,
  interruptRatePerMille: 50,
  retapRatePerMille: 800,
  dcps: 2,
  doubleSpenders: 0,
  counterfeiters: 0,
  cloners: 0,
  renewalCheck: 'async',
  outageRatePerMille: 0,
  verify: 'full',
};

/** The DCP names of a scenario, in the order agents are spread over them. */
export function dcpNamesOf(scenario: Scenario): string[] {
  return Array.from({ length: scenario.dcps }, (_, index) => `dcp-${index + 1}`);
}

/** How many consumers hold a card: the card share of the consumers, rounded half up. */
export function cardCountOf(scenario: Scenario): number {
  return Math.floor(
    (scenario.devices * scenario.cardSharePerMille + ratePerMilleScale / 2) / ratePerMilleScale,
  );
}
