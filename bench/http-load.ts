// A load generator in a worker thread: posts prepared JSON requests to one server with a fixed
// number in flight over keep-alive connections, and times them. It runs on its own thread (the
// machine's second core) so that the client's HTTP and JSON work is not charged to the server's event
// loop, as it would not be in a deployment where devices are other machines.
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

export interface PreparedRequest {
  readonly path: string;
  readonly body: string;
  readonly idempotencyKey?: string;
}

export interface LoadAnswer {
  readonly status: number;
  readonly body: string;
}

export interface LoadResult {
  /** From the first request sent to the last answer received. */
  readonly seconds: number;
  /** In the order of the requests; undefined for those not sent before the time was up. */
  readonly answers: readonly (LoadAnswer | undefined)[];
}

interface Job {
  readonly baseUrl: string;
  readonly requests: readonly PreparedRequest[];
  readonly concurrency: number;
  /** No request is sent after this long; those in flight are answered. */
  readonly secondsMax: number;
}

/** The main thread's handle on the worker: one job at a time. */
export class HttpLoad {
  // Node 20 does not pass tsx's loader on to workers: the worker registers it, then loads this file.
  readonly #worker = new Worker(
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`,
    { eval: true },
  );

  run(
    baseUrl: string,
    requests: readonly PreparedRequest[],
    concurrency: number,
    secondsMax: number,
  ): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.#worker.off('message', onMessage);
        reject(error);
      };
      const onMessage = (result: LoadResult) => {
        this.#worker.off('error', onError);
        resolve(result);
      };
      this.#worker.once('message', onMessage);
      this.#worker.once('error', onError);
      this.#worker.postMessage({ baseUrl, requests, concurrency, secondsMax } satisfies Job);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

async function runJob(job: Job): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const answers = new Array<LoadAnswer | undefined>(job.requests.length).fill(undefined);
  let next = 0;
  const start = performance.now();
  const deadline = start + job.secondsMax * 1000;
  try {
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (next < job.requests.length && performance.now() < deadline) {
          const index = next++;
          answers[index] = await post(agent, job.baseUrl, job.requests[index]!);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { seconds: (performance.now() - start) / 1000, answers };
}

function post(agent: Agent, baseUrl: string, prepared: PreparedRequest): Promise<LoadAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(prepared.path, baseUrl),
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(prepared.body),
          ...(prepared.idempotencyKey === undefined ? {} : { 'idempotency-key': prepared.idempotencyKey }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(prepared.body);
  });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  port.on('message', (job: Job) => {
    runJob(job).then(
      (result) => {
        port.postMessage(result);
      },
      (error: unknown) => {
        throw error;
      },
    );
  });
}
