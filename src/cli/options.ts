// Option parsers shared by the subcommands.
import { InvalidArgumentError } from 'commander';

export function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65_535)
    throw new InvalidArgumentError('expected a port 0..65535');
  return Number(text);
}

export const logLevels = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type CliLogLevel = (typeof logLevels)[number];

export function parseLogLevel(text: string): CliLogLevel {
  const level = logLevels.find((candidate) => candidate === text);
  if (level === undefined) throw new InvalidArgumentError(`expected one of ${logLevels.join(', ')}`);
  return level;
}

/** The default database of a service: a SQLite file under ./.data/. */
export function defaultDatabaseUrl(service: string): string {
  return `sqlite:.data/${service}.sqlite`;
}
