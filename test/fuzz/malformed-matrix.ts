import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';

/**
 * Bodies no parser can read, sent to every operation of the served OpenAPI document that takes one.
 * test/api/malformed-bodies.test.ts pins the exact answer of each kind on one route (status, code, the
 * message naming what was wrong, no echo of the body, the log level); this catalogue adds the kinds it
 * does not send and sends them all everywhere, where the fuzz tier only asks for a 4xx in the error
 * envelope and nothing logged at error level.
 */

/** `mayBeEmpty`: read as no body at all, which a route whose fields are all optional accepts (as `{}`). */
export type Malformed = { name: string; body: Buffer; headers: Record<string, string>; mayBeEmpty?: true };

const json = { 'content-type': 'application/json' };
/** `[[[…]]]`, `depth` levels: 50,000 of them is 100 KB, under every size limit. */
const nested = (depth: number) => Buffer.from('['.repeat(depth) + ']'.repeat(depth));
const nestedObject = (depth: number) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

export const malformedBodies: Malformed[] = [
  { name: 'invalid JSON', body: Buffer.from('{"text":'), headers: json },
  { name: 'a truncated JSON document', body: Buffer.from('{"text":"hel'), headers: json },
  { name: 'an empty body', body: Buffer.alloc(0), headers: json, mayBeEmpty: true },
  { name: 'JSON null', body: Buffer.from('null'), headers: json },
  { name: 'a JSON array', body: Buffer.from('[1,2]'), headers: json },
  { name: 'a JSON string', body: Buffer.from('"text"'), headers: json },
  { name: 'a number beyond double range', body: Buffer.from('{"maxConcurrent":1e999,"priority":1e999,"score":1e999}'), headers: json },
  { name: 'arrays nested 50,000 deep', body: nested(50_000), headers: json },
  { name: 'objects nested 10,000 deep', body: nestedObject(10_000), headers: json },
  { name: '__proto__ and constructor keys', body: Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'), headers: json },
  { name: 'invalid UTF-8 in a string', body: Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), headers: json },
  { name: 'a body over the size limit', body: Buffer.from(JSON.stringify({ text: 'a'.repeat(4_300_000) })), headers: json },
  { name: 'content-encoding: x-bogus', body: Buffer.from('{}'), headers: { ...json, 'content-encoding': 'x-bogus' } },
  { name: 'content-encoding: gzip that is not gzip', body: Buffer.from('not gzip'), headers: { ...json, 'content-encoding': 'gzip' } },
  { name: 'content-encoding: gzip, cut short', body: zlib.gzipSync(Buffer.from('{"text":"hello there"}')).subarray(0, 12), headers: { ...json, 'content-encoding': 'gzip' } },
  { name: 'content-encoding: identity, gzip, br (stacked)', body: Buffer.from('{}'), headers: { ...json, 'content-encoding': 'identity, gzip, br' } },
  { name: 'charset=latin-7', body: Buffer.from('{}'), headers: { 'content-type': 'application/json; charset=latin-7' } },
  { name: 'charset=utf-16 with UTF-8 bytes', body: Buffer.from('{"text":"x"}'), headers: { 'content-type': 'application/json; charset=utf-16' } },
  { name: 'content-type: text/plain', body: Buffer.from('{"text":"x"}'), headers: { 'content-type': 'text/plain' } },
  { name: 'content-type: application/x-www-form-urlencoded', body: Buffer.from('text=x&a[b][c]=d'), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
  { name: 'content-type: multipart/form-data without a boundary', body: Buffer.from('--x\r\n\r\n'), headers: { 'content-type': 'multipart/form-data' } },
  { name: 'content-type: a malformed media type', body: Buffer.from('{}'), headers: { 'content-type': 'application/json; ;;=' }, mayBeEmpty: true },
  { name: 'no content-type', body: Buffer.from('{"text":"x"}'), headers: {} },
];

export type Reply = { status: number; text: string; contentType: string | undefined };

/** Raw bytes with exactly these headers (fetch would add or refuse some). */
export function send(baseUrl: string, method: string, path: string, body: Buffer, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method, headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), contentType: res.headers['content-type'] }));
    });
    // The server may answer (413) and close before it has read the whole body.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve({ status: 0, text: String(error.code), contentType: undefined }) : reject(error)));
    req.end(body);
  });
}

/**
 * A request whose body stops before its announced length, the client then half-closing: the server
 * cannot answer it usefully, but must neither crash, nor log an error, nor answer 5xx. Resolves with
 * the status it answered, if any.
 */
export function sendTruncated(baseUrl: string, path: string, headers: Record<string, string>): Promise<number | undefined> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      const head = [`POST ${path} HTTP/1.1`, `host: ${url.host}`, 'content-type: application/json', 'content-length: 1000', 'connection: close'];
      for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
      socket.write(head.join('\r\n') + '\r\n\r\n' + '{"text":"only part of it');
      socket.end();
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(statusOf(answer)) : reject(error)));
    socket.on('close', () => resolve(statusOf(answer)));
    socket.setTimeout(15_000, () => {
      socket.destroy();
      resolve(statusOf(answer));
    });
  });
}

function statusOf(answer: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  return match ? Number(match[1]) : undefined;
}
