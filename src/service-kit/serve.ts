// What `cbdc serve <service>` does once its server is up: print the one line a parent process (the
// tests, the launcher, the demo) waits for, then run until SIGTERM or SIGINT and stop cleanly: the
// requests in flight are answered, the database is closed, and the process exits 0 (1 if closing
// failed, with the error on stderr).

export interface StoppableServer {
  readonly url: string;
  close(): Promise<void>;
}

export function serveUntilSignalled(name: string, server: StoppableServer): void {
  process.stdout.write(`${name} listening on ${server.url}\n`);
  let stopping = false;
  const stop = () => {
    // A second signal while closing changes nothing: the first close finishes and exits.
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
