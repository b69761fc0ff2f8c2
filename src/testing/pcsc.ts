// Test support for the PC/SC tests (test/pcsc/): whether this machine has the PC/SC stack, chip
// memories written where `cbdc card` reads them, `cbdc card` as a child process, and scriptor runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../core/bytes.ts';
import type { Device } from '../device/device.ts';
import { FileMedium } from '../secure-element/store/medium.ts';
import { loadPcscBinding } from '../pcsc/pcsc-binding.ts';
import { repositoryRoot } from './service-process.ts';

/** The two readers that Debian's vpcd configuration (/etc/reader.conf.d/vpcd) creates. */
export const virtualReaders = [
  { name: 'Virtual PCD 00 00', port: 35963 },
  { name: 'Virtual PCD 00 01', port: 35964 },
] as const;
/** How long a card process may take to be powered on by pcscd (tsx compiling on 2 busy cores). */
export const cardStartMsMax = 30_000;
/** How long one scriptor run may take. */
export const scriptorMsMax = 30_000;

function readersListed(): string | undefined {
  const scan = spawnSync('pcsc_scan', ['-r'], { encoding: 'utf8', timeout: 5_000 });
  if (scan.error !== undefined)
    return `pcsc_scan is not installed (Debian pcsc-tools): ${scan.error.message}`;
  const missing = virtualReaders.filter(({ name }) => !scan.stdout.includes(name));
  if (missing.length > 0) {
    return `pcscd lists no ${missing.map(({ name }) => `"${name}"`).join(', ')} (is pcscd running with vsmartcard-vpcd?)`;
  }
  return undefined;
}

/**
 * Why the PC/SC tests cannot run here, or undefined when they can: pcscd listing both virtual
 * readers, scriptor, and the @pokusew/pcsclite binding. `.ci/run` installs and starts all of them.
 */
export async function pcscUnavailableReason(): Promise<string | undefined> {
  const scriptor = spawnSync('scriptor', ['-h'], { encoding: 'utf8', timeout: 5_000 });
  if (scriptor.error !== undefined) return `scriptor is not installed (Debian pcsc-tools)`;
  const readers = readersListed();
  if (readers !== undefined) return readers;
  try {
    await loadPcscBinding();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

/** Writes `device`'s chip memory into `directory`, where `cbdc card --state` reads it. */
export function writeChipMemory(device: Device, directory: string): void {
  const medium = new FileMedium(directory, { durable: false });
  for (const name of device.medium.list()) medium.write(name, device.medium.read(name)!);
}

/** Every file of a chip memory directory as hex, read without opening a store (which may write). */
export function directorySnapshot(directory: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(directory).sort()) {
    files.set(name, readFileSync(join(directory, name)).toString('hex'));
  }
  return files;
}

/** One `cbdc card` child process, with every line it printed. */
export class CardProcess {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #partial = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) =>
      child.once('close', () => {
        resolve();
      }),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = this.#partial + chunk.toString();
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      this.lines.push(...lines);
    });
  }

  /** Starts `cbdc card` and resolves once pcscd has powered the card on for the first time. */
  static async start(kind: 'card' | 'phone', state: string, port: number): Promise<CardProcess> {
    const child = spawn(
      process.execPath,
      ['bin/cbdc.mjs', 'card', '--kind', kind, '--state', state, '--port', String(port)],
      { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const card = new CardProcess(child);
    await card.waitFor('card power on', 1, cardStartMsMax);
    return card;
  }

  /** How many lines equal to `line` it printed. */
  count(line: string): number {
    return this.lines.filter((each) => each === line).length;
  }

  /** Resolves once it printed `line` at least `times` times in all; rejects after `timeoutMs`. */
  async waitFor(line: string, times: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(line) < times) {
      if (Date.now() > deadline || this.#child.exitCode !== null) {
        throw new Error(`card did not print "${line}" ${times} times: ${this.lines.join(' | ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGTERM takes the card out of its reader cleanly; SIGKILL pulls it out in the middle of anything. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    await this.#exited;
  }
}

/** One answer as scriptor printed it: `reset` (with the ATR) or a response APDU. */
export type ScriptorAnswer = { readonly reset: string } | { readonly response: Uint8Array };

/**
 * Runs scriptor (pcsc-tools) on `reader` with `script` (one hex APDU or `reset` a line) and parses
 * what it printed: after each `> command` line, `< ` then hex lines, the last of which ends in
 * ` : <meaning of the status word>`.
 */
export function runScriptor(reader: string, script: readonly string[]): ScriptorAnswer[] {
  const run = spawnSync('scriptor', ['-r', reader], {
    input: script.join('\n') + '\n',
    encoding: 'utf8',
    timeout: scriptorMsMax,
  });
  if (run.status !== 0) throw new Error(`scriptor failed (${String(run.status)}): ${run.stderr}`);
  const answers: ScriptorAnswer[] = [];
  let hex: string | undefined;
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('< OK: ')) {
      answers.push({ reset: line.slice('< OK: '.length).trim() });
      continue;
    }
    if (line.startsWith('< ')) hex = '';
    if (hex === undefined) continue;
    const end = line.indexOf(' : ');
    hex += ' ' + (end === -1 ? line : line.slice(0, end)).replace(/^< /, '');
    if (end === -1) continue;
    const response = fromHex(hex.replaceAll(' ', ''));
    if (response === undefined) throw new Error(`scriptor printed an answer that is not hex: ${hex}`);
    answers.push({ response });
    hex = undefined;
  }
  return answers;
}
