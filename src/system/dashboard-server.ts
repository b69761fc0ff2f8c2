// The monitoring room's web server (docs/dashboard.md): the built page (dashboard-build.ts) as
// static files, and a thin same-origin proxy to the services' public APIs. The proxy forwards a
// request as the browser sent it — method, path, query, body and the caller's own `Authorization`
// and `Idempotency-Key` — to the one service its first path segment names, and the answer back; it
// holds no key and adds none, so the page can do nothing its signed-in key could not do with curl,
// and every check stays where it is, in the service. Same origin instead of CORS: no service needs
// to allow a browser origin, and the page never learns the services' ports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative } from 'node:path';
import { serviceErrors, type ServiceErrorCode } from '../service-kit/service-errors.ts';

/** A request body the proxy forwards at most (every service's own body limit is at or below it). */
export const proxyRequestBodyBytesMax = 1024 * 1024;
/** How long the proxy waits for a service's answer. */
export const proxyTimeoutMs = 15_000;
/** Files the built page may have (index.html and a handful of hashed assets). */
export const staticFilesMax = 64;

/** The services a page may reach, by the name of the path segment after /api/. */
export type ProxyTargets = ReadonlyMap<string, string>;

export interface DashboardServerOptions {
  /** The built page (index.html and assets/). */
  readonly staticDirectory: string;
  /** `mds`, `directory`, `ledger`, `dcp-<name>` → the service's base URL. */
  readonly targets: ProxyTargets;
  /** What the page reads at /dashboard.json: the names of the services it can sign in to. */
  readonly description: Readonly<Record<string, unknown>>;
  readonly port: number;
}

export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Forwarded both ways; anything else (cookies, hop-by-hop headers) stays behind. */
const forwardedRequestHeaders = ['authorization', 'idempotency-key', 'content-type', 'accept'] as const;
const forwardedAnswerHeaders = ['content-type', 'idempotent-replayed'] as const;

interface StaticFile {
  readonly type: string;
  readonly bytes: Buffer;
}

/** Every built file, read once at start: the server serves only what is in this map. */
function readStaticFiles(directory: string): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        if (files.size >= staticFilesMax) throw new Error(`the built page has over ${staticFilesMax} files`);
        const type = contentTypes[extname(name)] ?? 'application/octet-stream';
        files.set(`/${relative(directory, path)}`, { type, bytes: readFileSync(path) });
      }
    }
  };
  walk(directory);
  if (!files.has('/index.html')) throw new Error(`${directory} holds no built page (index.html)`);
  return files;
}

function refuse(response: ServerResponse, status: number, code: ServiceErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, number: serviceErrors[code].number, message } });
  response.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

function serveStatic(files: ReadonlyMap<string, StaticFile>, path: string, response: ServerResponse): void {
  const file = files.get(path === '/' ? '/index.html' : path);
  if (file === undefined) {
    refuse(response, 404, 'routeNotFound', `no file ${path}`);
    return;
  }
  // Hashed assets never change under their name; the page itself is read again on every visit.
  const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  response.writeHead(200, { 'content-type': file.type, 'cache-control': cache }).end(file.bytes);
}

/** Reads the whole body, or refuses it past the bound (then resolves undefined). */
async function readBody(incoming: IncomingMessage, response: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > proxyRequestBodyBytesMax) {
      refuse(response, 413, 'requestBodyTooLarge', `a body over ${proxyRequestBodyBytesMax} bytes`);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function proxy(
  target: string,
  rest: string,
  incoming: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readBody(incoming, response);
  if (body === undefined) return;
  const headers: Record<string, string> = {};
  for (const name of forwardedRequestHeaders) {
    const value = incoming.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = request(new URL(rest, target), {
    method: incoming.method ?? 'GET',
    headers,
    timeout: proxyTimeoutMs,
  });
  upstream.on('response', (answer) => {
    const answerHeaders: Record<string, string> = {};
    for (const name of forwardedAnswerHeaders) {
      const value = answer.headers[name];
      if (typeof value === 'string') answerHeaders[name] = value;
    }
    response.writeHead(answer.statusCode ?? 502, answerHeaders);
    answer.pipe(response);
  });
  upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${proxyTimeoutMs} ms`)));
  // A service that does not answer is a 502: the page's typed client retries it, then names it
  // unavailable in that service's catalogue, as it would without the proxy.
  upstream.on('error', (error) => {
    if (!response.headersSent)
      refuse(response, 502, 'internalError', `the service did not answer: ${error.message}`);
    else response.destroy();
  });
  upstream.end(body);
}

function handler(options: DashboardServerOptions, files: ReadonlyMap<string, StaticFile>) {
  const description = Buffer.from(JSON.stringify(options.description));
  return (incoming: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(incoming.url ?? '/', 'http://dashboard');
    const match = /^\/api\/([a-z0-9-]{1,40})(\/.*)$/.exec(url.pathname);
    if (match !== null) {
      const target = options.targets.get(match[1] ?? '');
      if (target === undefined) refuse(response, 404, 'routeNotFound', `no service ${match[1] ?? ''}`);
      else
        proxy(target, `${match[2] ?? '/'}${url.search}`, incoming, response).catch((error: unknown) => {
          if (!response.headersSent) refuse(response, 500, 'internalError', String(error));
        });
      return;
    }
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') {
      refuse(response, 405, 'methodNotAllowed', 'the page is read with GET');
      return;
    }
    if (url.pathname === '/dashboard.json')
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
        .end(description);
    else serveStatic(files, url.pathname, response);
  };
}

/** Serves the built page and the proxy on 127.0.0.1:`port` (0: any free port). */
export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  const files = readStaticFiles(options.staticDirectory);
  const server: Server = createServer(handler(options, files));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      resolveListen();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the dashboard has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise((resolveClose) => {
        server.closeAllConnections();
        server.close(() => {
          resolveClose();
        });
      }),
  };
}
