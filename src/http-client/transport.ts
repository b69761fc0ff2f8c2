// How a typed client's HTTP request reaches the wire. The clients of this folder run wherever core
// does (a test keeps node:* out of it), so the default transport is the global `fetch`; a Node
// process passes a faster one (src/node-http/, a keep-alive `node:http` agent) in its clients'
// options. A transport sends one request and answers its status, headers and text, or throws on a
// lost connection or a timeout (the caller retries those). It reads at most `answerBytesMax` bytes of
// the answer where it can stop early; an answer that is longer comes back as `tooLong`.

export interface TransportRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** For the whole exchange, the answer's body included. */
  readonly timeoutMs: number;
  readonly answerBytesMax: number;
}

export type TransportAnswer =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly text: string;
      /** A response header by lowercase name, or null. */
      readonly header: (name: string) => string | null;
    }
  | { readonly kind: 'tooLong' };

export type HttpTransport = (request: TransportRequest) => Promise<TransportAnswer>;

/** The transport over a `fetch` function (the global one by default, or one a test injects). */
export function fetchTransport(fetchFunction: typeof fetch): HttpTransport {
  return async (request) => {
    const response = await fetchFunction(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const text = await response.text();
    // `fetch` has read it all by now; a string's length bounds its UTF-8 bytes from below.
    if (text.length > request.answerBytesMax) return { kind: 'tooLong' };
    return { kind: 'answer', status: response.status, text, header: (name) => response.headers.get(name) };
  };
}
