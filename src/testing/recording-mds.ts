// Test support: a stand-in for the MDS's HTTP API on a loopback port, answering as docs/mds.md says
// (202 `{digest, state}` once an upload is stored, report counts of what is new, refusals in the
// service error envelope), in memory, recording every request and what it acknowledged. The DCP's
// forwarding tests (test/dcp/mds-forwarding*.test.ts) deliver to it; switches make it down (503),
// refuse a given upload or issuance (409), fail on one upload (500) or expect another API key.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WireRetirement {
  readonly tokenId: string;
  readonly value: string;
  readonly seId: string;
  readonly uploadDigest: string;
  readonly retiredAtMs: number;
}

/** An MDS as docs/mds.md answers, in memory, recording every request and what it acknowledged. */
export class RecordingMds {
  apiKey = 'mds-key-of-the-dcp';
  down = false;
  readonly refusedUploads = new Set<string>();
  readonly refusedIssuances = new Set<string>();
  /** Uploads answered 500 (a bug of the MDS's that this one upload meets). */
  readonly failingUploads = new Set<string>();
  /** Every request: method, path and the status answered. */
  readonly requests: { readonly path: string; readonly status: number }[] = [];
  /** Acknowledged uploads, in order. */
  readonly uploads: { readonly digest: string; readonly claim: string; readonly sealed: string }[] = [];
  readonly issuances: string[] = [];
  /** Acknowledged report calls: how many issuances and retirements each carried. */
  readonly reportSizes: (readonly [number, number])[] = [];
  readonly retirements: WireRetirement[] = [];
  readonly server: Server = createServer((request, response) => {
    this.#receive(request, response);
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => {
      this.server.listen(0, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  #receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown;
      const [status, answer] = this.#answer(request, body);
      this.requests.push({ path: request.url ?? '', status });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer));
    });
  }

  #answer(request: IncomingMessage, body: unknown): [number, unknown] {
    const refuse = (status: number, code: string): [number, unknown] => [
      status,
      { error: { code, number: 0, message: code } },
    ];
    if (this.down) return refuse(503, 'mdsEnclaveUnavailable');
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return refuse(401, 'apiKeyUnknown');
    if (request.method === 'POST' && request.url === '/v1/uploads') {
      const { claim, sealed } = body as { claim: string; sealed: string };
      const digest = createHash('sha256').update(Buffer.from(sealed, 'hex')).digest('hex');
      if (this.refusedUploads.has(digest)) return refuse(409, 'uploadConflict');
      if (this.failingUploads.has(digest)) return refuse(500, 'internalError');
      if (!this.uploads.some((upload) => upload.digest === digest))
        this.uploads.push({ digest, claim, sealed });
      return [202, { digest, state: 'stored' }];
    }
    if (request.method === 'POST' && request.url === '/v1/reports') {
      const { issuances, retirements } = body as { issuances: string[]; retirements: WireRetirement[] };
      if (issuances.some((issuance) => this.refusedIssuances.has(issuance)))
        return refuse(409, 'reportConflict');
      const newIssuances = issuances.filter((issuance) => !this.issuances.includes(issuance));
      const newRetirements = retirements.filter(
        (retirement) => !this.retirements.some((known) => known.tokenId === retirement.tokenId),
      );
      this.reportSizes.push([issuances.length, retirements.length]);
      this.issuances.push(...newIssuances);
      this.retirements.push(...newRetirements);
      return [200, { issuances: newIssuances.length, retirements: newRetirements.length }];
    }
    return refuse(404, 'routeNotFound');
  }
}
