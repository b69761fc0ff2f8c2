// Option parsers and option groups shared by the subcommands.
import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LimitsFileInvalid, parseLimitsFile, type LimitsFile } from '../dcp/api/limits-file.ts';

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

/**
 * A secret from a file (trimmed) or, without one, from an environment variable; never from the
 * command line, where every user of the machine could read it. Empty means none.
 */
export function secretFrom(file: string | undefined, variable: string): string | undefined {
  const value = file === undefined ? process.env[variable] : readFileSync(file, 'utf8').trim();
  return value === undefined || value === '' ? undefined : value;
}

/** What `listenOptions` and `operatorOptions` parse. */
export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly bootstrapKeyFile?: string;
  readonly logLevel: CliLogLevel;
}

/** `--port` and `--host` of `cbdc serve <service>`. */
export function addressOptions(command: Command, port: number): Command {
  return command
    .option('--port <port>', 'TCP port (0: any free port)', parsePort, port)
    .option('--host <host>', 'address to listen on', '127.0.0.1');
}

/** `--port`, `--host` and `--db` of `cbdc serve <service>`. */
export function listenOptions(command: Command, service: string, port: number): Command {
  return addressOptions(command, port).option(
    '--db <url>',
    'postgres://... or sqlite:PATH',
    defaultDatabaseUrl(service),
  );
}

/**
 * What every `start<Service>Server` takes of the parsed serve options: the database, the address,
 * the log level and the operator key to register (read from its file or `environment` now).
 */
export function serverOptionsFrom(options: ServeOptions, environment: string) {
  const operatorKey = secretFrom(options.bootstrapKeyFile, environment);
  return {
    databaseUrl: options.db,
    host: options.host,
    port: options.port,
    logLevel: options.logLevel,
    ...(operatorKey === undefined ? {} : { operatorKey }),
  };
}

/** `--bootstrap-key-file` (or `environment`) and `--log-level` of `cbdc serve <service>`. */
export function operatorOptions(command: Command, environment: string): Command {
  return command
    .option(
      '--bootstrap-key-file <path>',
      `file holding an operator API key to register (or set ${environment})`,
    )
    .option('--log-level <level>', 'pino level, or silent', parseLogLevel, 'info');
}

/** A `--limits FILE` read and decoded at parse time, so a bad file exits 2 naming its bad field. */
export interface LimitsOption {
  /** Absolute, so the services started from another folder read the same file. */
  readonly path: string;
  readonly limits: LimitsFile;
}

export function parseLimitsOption(path: string): LimitsOption {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return { path: resolve(path), limits: parseLimitsFile(text) };
  } catch (error) {
    if (error instanceof LimitsFileInvalid) throw new InvalidArgumentError(`${path}: ${error.message}`);
    throw error;
  }
}

/** `--verify`: what a payee SE verifies of a payment (docs/protocol.md §4, the verification policy). */
export const verifyPolicies = ['full', 'last-hop'] as const;
export type VerifyPolicy = (typeof verifyPolicies)[number];

/**
 * The limits a DCP signs with `--verify` applied to both kinds: `last-hop` sets the limits'
 * `verification` to `lastHop`, `full` leaves it absent (full is its meaning when absent).
 */
export function withVerification(limits: LimitsFile | undefined, verify: VerifyPolicy | undefined) {
  if (verify === undefined) return limits;
  const policy = verify === 'last-hop' ? { verification: 'lastHop' as const } : {};
  return {
    version: limits?.version ?? 1,
    card: { ...limits?.card, ...policy },
    phone: { ...limits?.phone, ...policy },
  };
}
