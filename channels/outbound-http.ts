/**
 * The one HTTP client every provider sends through (SPEC section 12, "Outbound destinations").
 *
 * - Every address is checked when the socket connects, not when the URL was saved: the name is resolved
 *   by our own `lookup`, which refuses the connection when any address it returns is forbidden
 *   (channels/destination-rules.ts). A name that answers a public address at save time and a private one
 *   at send time (DNS rebinding) is caught there, since the address checked is the address connected to.
 *   A host written as an address skips `lookup` in Node, so it is checked before the request.
 * - No redirect is followed (node:http follows none): a 3xx is an answer like any other.
 * - One deadline covers connecting, sending and reading the answer.
 * - At most `maxAnswerBytes` (64 KiB) of an answer is read; beyond that the connection is cut and the
 *   answer kept so far is marked `truncated`. Nothing is buffered beyond the cap.
 *
 * `allowPrivate` lifts the address rule (OUTBOUND_ALLOW_PRIVATE, and the operator's own WHATSAPP_GRAPH_URL).
 */
import dns from 'node:dns';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ForbiddenReason } from './destination-rules';
import { classifyAddress, classifyHost, describeReason } from './destination-rules';

/** The most of any provider's answer convoflow reads. */
export const maxAnswerBytes = 64 * 1024;

export interface OutboundRequest {
  /** POST unless said otherwise; a GET (the template registry's sync, a provider's media metadata) sends no body. */
  method?: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** True: any address may be reached (operators' own endpoints, tests' fakes on loopback). */
  allowPrivate: boolean;
  /** Defaults to maxAnswerBytes; tests lower it. */
  maxBytes?: number;
  /**
   * Sent instead of `body` when given (a media upload): `length` bytes streamed from `chunks`, never
   * held whole. A source that fails or gives another length ends the request as a network error.
   */
  bodyStream?: { length: number; chunks: () => AsyncIterable<Buffer> };
}

export interface OutboundAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxBytes` of the answer's body. */
  body: Buffer;
  /** The answer was longer than `maxBytes`: the rest was never read. */
  truncated: boolean;
}

export type OutboundFailureCode = 'destination_forbidden' | 'timeout' | 'network' | 'too_large';

/**
 * Why no answer came. The message is ours, never the remote's: a reason, a system error code, a
 * duration. It names no URL (which may carry a token) and no address.
 */
export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly code: OutboundFailureCode;
  constructor(options: { code: OutboundFailureCode; message: string }) {
    super(options.message);
    this.code = options.code;
  }
}

const forbiddenError = (reason: ForbiddenReason) =>
  new OutboundError({ code: 'destination_forbidden', message: `the destination resolves to ${describeReason(reason)}, which convoflow does not send to` });

/** The resolver's shape as guardedLookup calls it (all addresses at once). */
export type Resolve = (hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * `dns.lookup`, then every address checked: one forbidden address refuses the connection, whichever the
 * socket would have tried first. Node calls it with `all: true` (happy eyeballs) or without; both are
 * answered. `resolve` is substituted by tests.
 */
export function guardedLookup(resolve: Resolve = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      for (const entry of addresses) {
        const verdict = classifyAddress(entry.address);
        if (verdict === undefined) return callback(forbiddenError('reserved'), '', 0);
        if (!verdict.allowed) return callback(forbiddenError(verdict.reason), '', 0);
      }
      if (addresses.length === 0) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Connections are kept alive and reused, one pool per rule: a pooled socket was checked when it
 * connected, and a pool of the lenient rule never serves the strict one.
 */
const agents = {
  strict: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  lenient: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
};

/**
 * The URL, if a request may go there: http(s), and under the strict rule https to a host that is not
 * written as a forbidden address (a name is checked when it resolves, by guardedLookup).
 */
function targetOf(rawUrl: string, allowPrivate: boolean): { url: URL; secure: boolean } | OutboundError {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return new OutboundError({ code: 'network', message: 'network error: invalid URL' });
  }
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') return new OutboundError({ code: 'network', message: 'network error: unsupported protocol' });
  if (!allowPrivate) {
    // Plain http would let anyone on the path read and change what is sent, signature or not.
    if (!secure) return new OutboundError({ code: 'destination_forbidden', message: 'the destination is plain http; convoflow sends only over https' });
    const host = classifyHost(url.hostname);
    if (host.kind === 'address' && !host.allowed) return forbiddenError(host.reason);
  }
  return { url, secure };
}

/** POSTs `body` (or GETs, with `method`) and reads at most `maxBytes` of the answer. Rejects with OutboundError only. */
export function postOutbound(request: OutboundRequest): Promise<OutboundAnswer> {
  const maxBytes = request.maxBytes ?? maxAnswerBytes;
  const target = targetOf(request.url, request.allowPrivate);
  if (target instanceof OutboundError) return Promise.reject(target);
  const { url, secure } = target;
  const pool = request.allowPrivate ? agents.lenient : agents.strict;

  return new Promise<OutboundAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: { answer: OutboundAnswer } | { error: OutboundError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('answer' in outcome) resolve(outcome.answer);
      else reject(outcome.error);
    };
    const req = (secure ? https : http).request(url, {
      method: request.method ?? 'POST',
      headers: request.method === 'GET' ? request.headers : { ...request.headers, 'content-length': String(request.bodyStream?.length ?? request.body.length) },
      agent: secure ? pool.https : pool.http,
      lookup: request.allowPrivate ? undefined : guardedLookup(),
    });
    const timer = setTimeout(() => {
      finish({ error: new OutboundError({ code: 'timeout', message: `no answer within ${request.timeoutMs} ms` }) });
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof OutboundError) return finish({ error }); // from guardedLookup
      finish({ error: new OutboundError({ code: 'network', message: `network error: ${typeof error.code === 'string' ? error.code : error.name}` }) });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean) => finish({ answer: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, Math.min(size, maxBytes)), truncated } });
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = maxBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = maxBytes;
          done(true);
          // The rest is never read: the connection goes, with whatever the server still means to send.
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => done(false));
      res.on('error', () => finish({ error: new OutboundError({ code: 'network', message: 'network error: the answer was cut off' }) }));
      res.on('aborted', () => finish({ error: new OutboundError({ code: 'network', message: 'network error: the answer was cut off' }) }));
    });
    if (request.bodyStream) {
      // Errors reach req's 'error' handler above (a network failure); the deadline covers the upload too.
      pipeline(Readable.from(request.bodyStream.chunks()), req).catch((error: unknown) => req.destroy(error as Error));
    } else {
      req.end(request.method === 'GET' ? undefined : request.body);
    }
  });
}

/** A download's answer: its status and headers, and its body as it arrives (a file, not held whole). */
export interface OutboundDownload {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxBytes`; more rejects with OutboundError `too_large` (and the connection is cut). */
  body: AsyncIterable<Buffer>;
  /** Cuts the connection without reading the rest (an answer that is not worth reading). */
  discard(): void;
}

/**
 * GETs a file (inbound media) through the same rules as every send: the address checked at connect
 * (unless `allowPrivate`), https only, no redirects. The answer is streamed, not buffered, and counted:
 * past `maxBytes` (or a Content-Length over it) the connection is cut and reading rejects with
 * `too_large`. `timeoutMs` covers connecting and the headers; `idleMs` any pause while the body flows.
 */
export function getOutboundStream(request: { url: string; headers: Record<string, string>; timeoutMs: number; idleMs?: number; allowPrivate: boolean; maxBytes: number }): Promise<OutboundDownload> {
  const target = targetOf(request.url, request.allowPrivate);
  if (target instanceof OutboundError) return Promise.reject(target);
  const { url, secure } = target;
  const pool = request.allowPrivate ? agents.lenient : agents.strict;
  return new Promise<OutboundDownload>((resolve, reject) => {
    const req = (secure ? https : http).request(url, {
      method: 'GET',
      headers: request.headers,
      agent: secure ? pool.https : pool.http,
      lookup: request.allowPrivate ? undefined : guardedLookup(),
    });
    const timer = setTimeout(() => {
      reject(new OutboundError({ code: 'timeout', message: `no answer within ${request.timeoutMs} ms` }));
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error instanceof OutboundError) return reject(error);
      reject(new OutboundError({ code: 'network', message: `network error: ${typeof error.code === 'string' ? error.code : error.name}` }));
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.setTimeout(request.idleMs ?? request.timeoutMs, () => res.destroy(new OutboundError({ code: 'timeout', message: 'the download stalled' })));
      const declared = Number(res.headers['content-length']);
      async function* body(): AsyncGenerator<Buffer> {
        if (Number.isFinite(declared) && declared > request.maxBytes) {
          res.destroy();
          throw new OutboundError({ code: 'too_large', message: `the file is larger than ${request.maxBytes} bytes` });
        }
        let size = 0;
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > request.maxBytes) throw new OutboundError({ code: 'too_large', message: `the file is larger than ${request.maxBytes} bytes` });
            yield chunk;
          }
        } catch (error) {
          res.destroy();
          if (error instanceof OutboundError) throw error;
          throw new OutboundError({ code: 'network', message: 'network error: the download was cut off' });
        }
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body(), discard: () => res.destroy() });
    });
    req.end();
  });
}
