/**
 * The outbound HTTP client every provider sends through (SPEC section 12): every address checked when
 * the socket connects, no redirect followed, at most 64 KiB of an answer read.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { Resolve } from '../../channels/outbound-http';
import { OutboundError, guardedLookup, maxAnswerBytes, postOutbound } from '../../channels/outbound-http';

describe('postOutbound', () => {
  let server: http.Server;
  let port: number;
  let connections: number;
  let answer: (res: http.ServerResponse) => void;
  const open = new Set<net.Socket>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    server.on('connection', (socket) => {
      connections += 1;
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  beforeEach(() => {
    connections = 0;
  });

  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (url: string, allowPrivate: boolean, timeoutMs = 10_000) => postOutbound({ url, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), timeoutMs, allowPrivate });
  const failureOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutboundError);
    return { code: (error as OutboundError).code, message: (error as OutboundError).message };
  };

  it('reads the first 64 KiB of a 1 MB answer and no more', async () => {
    const megabyte = Buffer.alloc(1024 * 1024, 'a');
    answer = (res) => res.writeHead(200, { 'content-length': String(megabyte.length) }).end(megabyte);
    const result = await post(`http://127.0.0.1:${port}/`, true);
    expect(result.status).toBe(200);
    expect(result.truncated).toBe(true);
    expect(result.body.length).toBe(maxAnswerBytes);
    expect(maxAnswerBytes).toBe(64 * 1024);
  });

  it('answers at the cap when the answer never ends (nothing is buffered to the end)', async () => {
    answer = (res) => {
      res.writeHead(500);
      const chunk = Buffer.alloc(16 * 1024, 'b');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const result = await post(`http://127.0.0.1:${port}/`, true, 60_000);
    expect(result).toMatchObject({ status: 500, truncated: true });
    expect(result.body.length).toBe(maxAnswerBytes);
  });

  it('reads a short answer whole', async () => {
    answer = (res) => res.writeHead(201, { 'x-test': 'yes' }).end('{"ok":true}');
    const result = await post(`http://127.0.0.1:${port}/`, true);
    expect(result).toMatchObject({ status: 201, truncated: false });
    expect(result.headers['x-test']).toBe('yes');
    expect(result.body.toString()).toBe('{"ok":true}');
  });

  it('follows no redirect', async () => {
    let asked = 0;
    answer = (res) => {
      asked += 1;
      res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
    };
    expect(await post(`http://127.0.0.1:${port}/`, true)).toMatchObject({ status: 302 });
    expect(asked).toBe(1);
  });

  it('refuses plain http unless private destinations are allowed', async () => {
    answer = (res) => res.writeHead(200).end();
    expect(await failureOf(post(`http://hooks.example.com:${port}/`, false))).toEqual({ code: 'destination_forbidden', message: 'the destination is plain http; convoflow sends only over https' });
  });

  it.each(['127.0.0.1', '127.1', '2130706433', '[::ffff:127.0.0.1]', '[::1]', '0'])('refuses https://%s before connecting', async (host) => {
    expect(await failureOf(post(`https://${host}:${port}/hook`, false))).toMatchObject({ code: 'destination_forbidden' });
    expect(connections).toBe(0);
  });

  it('refuses a name that resolves to a loopback address, at connect time, without connecting', async () => {
    const failure = await failureOf(post(`https://localhost:${port}/hook`, false));
    expect(failure).toEqual({ code: 'destination_forbidden', message: 'the destination resolves to a loopback address, which convoflow does not send to' });
    expect(connections).toBe(0);
  });

  it('says network, with the system code only, when nothing listens', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await failureOf(post(`http://127.0.0.1:${free}/`, true))).toEqual({ code: 'network', message: 'network error: ECONNREFUSED' });
  });

  it('says timeout when no answer comes in time', async () => {
    answer = () => undefined;
    const started = Date.now();
    expect(await failureOf(post(`http://127.0.0.1:${port}/`, true, 150))).toEqual({ code: 'timeout', message: 'no answer within 150 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(149);
  });
});

describe('guardedLookup (the check at connect time)', () => {
  const resolvingTo =
    (addresses: LookupAddress[]): Resolve =>
    (_host, _options, callback) =>
      callback(null, addresses);
  const lookUp = (addresses: LookupAddress[], all: boolean) =>
    new Promise<{ error: unknown; address?: unknown; family?: unknown }>((resolve) =>
      guardedLookup(resolvingTo(addresses))('hooks.example.com', { all } as never, (error: unknown, address?: unknown, family?: unknown) => resolve({ error, address, family })),
    );

  it('hands public addresses over, one or all, as the socket asked', async () => {
    const publicOnes = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    expect(await lookUp(publicOnes, true)).toEqual({ error: null, address: publicOnes, family: undefined });
    expect(await lookUp(publicOnes, false)).toEqual({ error: null, address: '93.184.215.14', family: 4 });
  });

  it.each([
    [[{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.7', family: 4 }]],
    [[{ address: '::ffff:127.0.0.1', family: 6 }]],
    [[{ address: '2606:4700::1111', family: 6 }, { address: 'fe80::1', family: 6 }]],
    [[{ address: '169.254.169.254', family: 4 }]],
  ])('refuses when any address is forbidden: %j', async (addresses) => {
    for (const all of [true, false]) {
      const { error } = await lookUp(addresses, all);
      expect(error).toBeInstanceOf(OutboundError);
      expect((error as OutboundError).code).toBe('destination_forbidden');
    }
  });

  it('passes a resolver error on', async () => {
    const failing: Resolve = (_h, _o, callback) => callback(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), []);
    const error = await new Promise((resolve) => guardedLookup(failing)('x.invalid', {} as never, (e: unknown) => resolve(e)));
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});
