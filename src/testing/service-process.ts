// Child processes for tests across components: a service started exactly as an operator would
// (`node bin/cbdc.mjs serve <service> ...`), resolved once it prints `<service> listening on`, and a
// free port to give it (kept across restarts, so clients and stored URLs still reach it).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root: where `bin/cbdc.mjs` runs from. */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
/** How long a service may take to print its listening line (2 busy cores, tsx compiling). */
export const serviceStartMsMax = 30_000;
/** Bytes of a child's stderr kept for failure messages. */
export const stderrBytesMax = 16 * 1024;

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it; the probe closes at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  server.close();
  await once(server, 'close');
  return address.port;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One running `cbdc serve` child process. */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  #stderr = '';

  private constructor(
    readonly service: string,
    readonly child: ChildProcess,
  ) {
    // 'close', not 'exit': it comes after the pipes are drained, so `stderr` holds the last line.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        resolve({ code, signal });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-stderrBytesMax);
    });
  }

  /**
   * Spawns `node bin/cbdc.mjs serve <service> <args> --log-level silent` with `environment` added to
   * this process's, and resolves once it prints `<service> listening on`; rejects if it exits first
   * or takes longer than serviceStartMsMax (and is then killed). `spawned`, when given, records the
   * child at once, before it listens, so a teardown after any failure leaves no process behind;
   * `label` names it in failure messages (default: the service).
   */
  static start(
    service: string,
    args: readonly string[],
    environment: Readonly<Record<string, string>> = {},
    options: { readonly spawned?: Set<ServiceProcess>; readonly label?: string } = {},
  ): Promise<ServiceProcess> {
    const child = spawn(
      process.execPath,
      ['bin/cbdc.mjs', 'serve', service, ...args, '--log-level', 'silent'],
      { cwd: repositoryRoot, env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const started = new ServiceProcess(service, child);
    options.spawned?.add(started);
    const label = options.label ?? service;
    const listening = `${service} listening on`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${label} did not listen within ${serviceStartMsMax} ms: ${started.stderr}`));
      }, serviceStartMsMax);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        if (output.includes(listening)) return;
        output += chunk.toString();
        if (output.includes(listening)) {
          clearTimeout(timer);
          resolve(started);
        }
      });
      void started.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${JSON.stringify(exit)}) before it listened: ${started.stderr}`));
      });
    });
  }

  /** What the process wrote on stderr (the last stderrBytesMax bytes). */
  get stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` unless it has exited already; resolves with how it exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
