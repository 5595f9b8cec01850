import http from 'node:http';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { createLogger } from '../../infra/logger';
import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';

/**
 * Issue 24 item 6, SPEC section 12 "Bodies": every body a parser cannot read answers 413
 * `payload_too_large` or 400 `validation_failed` naming what was wrong, before authentication, never
 * 500; the answer and the log never carry the body; a gzip bomb stops at the limit, counted after
 * decompression, on each parser (256 KiB JSON, the broadcasts' 2 MiB JSON, the webhooks' 4 MiB raw).
 */
describe('malformed bodies', () => {
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const env = useStackWithAccount(undefined, () => ({ log: createLogger({ level: 'info', destination: capture }) }));
  let stack: Stack;
  let a: Account;
  beforeAll(() => ({ stack, account: a } = env));

  /** Raw bytes with exactly these headers (fetch would add or refuse some). */
  const send = (method: string, path: string, body: Buffer, headers: Record<string, string>) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(path, stack.baseUrl);
      const req = http.request(url, { method, headers: { 'content-length': String(body.length), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const SECRET = 'BODY-SECRET-7f3a';
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  /** A valid JSON body of `bytes` bytes, whose content the answer must never echo. */
  const bigJson = (bytes: number) => json({ id: 'x', name: SECRET + 'a'.repeat(bytes) });
  const jsonType = { 'content-type': 'application/json' };
  const usersPath = () => `/v1/accounts/${a.id}/users`;
  const auth = () => ({ authorization: `Bearer ${stack.platformKey}` });

  const expectError = (reply: { status: number; text: string }, status: number, code: string, message?: RegExp) => {
    expect(reply.status).toBe(status);
    const body = JSON.parse(reply.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    if (message) expect(body.error.message).toMatch(message);
    expect(reply.text).not.toContain(SECRET);
  };

  test.each([
    ['with a key', true],
    ['without a key', false],
  ])('a 300 KB body %s answers 413 payload_too_large naming the limit', async (_, withKey) => {
    const reply = await send('POST', usersPath(), bigJson(300_000), { ...jsonType, ...(withKey ? auth() : {}) });
    expectError(reply, 413, 'payload_too_large', /256 KiB/);
  });

  test.each([
    ['compress', 'compress'],
    ['x-bogus', 'x-bogus'],
  ])('content-encoding: %s answers 400 validation_failed naming the header', async (_, encoding) => {
    const reply = await send('POST', usersPath(), json({ secret: SECRET }), { ...jsonType, ...auth(), 'content-encoding': encoding });
    expectError(reply, 400, 'validation_failed', new RegExp(`content-encoding: ${encoding} is not supported`));
  });

  test.each([
    ['gzip', Buffer.from(`not gzip at all ${SECRET}`)],
    ['br', Buffer.from(`not brotli at all ${SECRET}`)],
    ['deflate', Buffer.from(`not deflate ${SECRET}`)],
    ['gzip', zlib.gzipSync(json({ id: 'cut', name: SECRET })).subarray(0, 20)],
  ])('a body that is not valid %s data answers 400 validation_failed naming the encoding', async (encoding, body) => {
    const reply = await send('POST', usersPath(), body, { ...jsonType, ...auth(), 'content-encoding': encoding });
    expectError(reply, 400, 'validation_failed', new RegExp(`not valid ${encoding} data`));
  });

  test('charset=latin-7 answers 400 validation_failed naming the charset', async () => {
    const reply = await send('POST', usersPath(), json({ secret: SECRET }), { 'content-type': 'application/json; charset=latin-7', ...auth() });
    expectError(reply, 400, 'validation_failed', /charset=latin-7 is not supported/);
  });

  test('invalid JSON answers 400 without quoting the body', async () => {
    const reply = await send('POST', usersPath(), Buffer.from(`{"name":"${SECRET}"`), { ...jsonType, ...auth() });
    expectError(reply, 400, 'validation_failed', /not valid JSON/);
  });

  test('bytes that are not UTF-8 answer 400 rather than being stored as replacement characters', async () => {
    const body = Buffer.concat([Buffer.from(`{"id":"utf8-bad","name":"${SECRET}`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const reply = await send('POST', usersPath(), body, { ...jsonType, ...auth() });
    expectError(reply, 400, 'validation_failed', /not valid UTF-8/);
  });

  // Zeros compress about 1000:1: a few kilobytes on the wire, megabytes once inflated.
  const bomb = (bytes: number, encoding: 'gzip' | 'br') => {
    const inflated = Buffer.concat([Buffer.from(`{"pad":"${SECRET}`), Buffer.alloc(bytes, 0x30), Buffer.from('"}')]);
    return encoding === 'gzip' ? zlib.gzipSync(inflated) : zlib.brotliCompressSync(inflated);
  };

  test.each(['gzip', 'br'] as const)('a %s bomb inflating to 2 MB is stopped at the 256 KiB limit: 413', async (encoding) => {
    const body = bomb(2_000_000, encoding);
    expect(body.length).toBeLessThan(256 * 1024);
    const reply = await send('POST', usersPath(), body, { ...jsonType, ...auth(), 'content-encoding': encoding });
    expectError(reply, 413, 'payload_too_large', /256 KiB/);
  });

  test("the broadcasts' 2 MiB parser: a bomb inflating to 3 MB answers 413, bad gzip 400", async () => {
    const path = `/v1/accounts/${a.id}/broadcasts`;
    expectError(await send('POST', path, bomb(3_000_000, 'gzip'), { ...jsonType, ...auth(), 'content-encoding': 'gzip' }), 413, 'payload_too_large', /2 MiB/);
    expectError(await send('POST', path, Buffer.from('garbage'), { ...jsonType, ...auth(), 'content-encoding': 'gzip' }), 400, 'validation_failed', /not valid gzip/);
  });

  test("the webhooks' 4 MiB raw parser: a bomb inflating to 5 MB answers 413, bad gzip or an unknown encoding 400", async () => {
    const path = `/webhooks/whatsapp/${a.id}`;
    const signed = { ...jsonType, 'x-hub-signature-256': 'sha256=00' };
    expectError(await send('POST', path, bomb(5_000_000, 'gzip'), { ...signed, 'content-encoding': 'gzip' }), 413, 'payload_too_large', /4 MiB/);
    expectError(await send('POST', path, Buffer.from('garbage'), { ...signed, 'content-encoding': 'gzip' }), 400, 'validation_failed', /not valid gzip/);
    expectError(await send('POST', path, Buffer.from('{}'), { ...signed, 'content-encoding': 'x-bogus' }), 400, 'validation_failed', /x-bogus/);
  });

  test('afterwards a normal request, and a gzip body within the limit, still work', async () => {
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations`, a.keys.agent)).status).toBe(200);
    const created = await send('POST', usersPath(), zlib.gzipSync(json({ id: 'zipped', name: 'Zipped', role: 'agent' })), {
      ...jsonType,
      ...auth(),
      'content-encoding': 'gzip',
    });
    expect(created.status).toBe(201);
  });

  test('every failure above was logged at warn, none at error, and no log line carries the body', () => {
    const entries = lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; bodyError?: unknown });
    expect(entries.filter((e) => e.bodyError !== undefined && e.level === 40).length).toBeGreaterThanOrEqual(15);
    expect(entries.filter((e) => e.level >= 50)).toEqual([]);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
