import http from 'node:http';

/**
 * A small JSON client on keep-alive sockets. The load generator shares two cores with everything it
 * measures, so it uses node:http directly rather than fetch (undici), which costs more CPU per request.
 */
export interface HttpReply<T = any> {
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export class Http {
  private readonly host: string;
  private readonly port: number;

  constructor(readonly baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  request<T = any>(method: string, path: string, key?: string, body?: unknown, timeoutMs = 30_000, extraHeaders: Record<string, string> = {}): Promise<HttpReply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { ...extraHeaders };
    if (key) headers.authorization = `Bearer ${key}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get<T = any>(path: string, key?: string) {
    return this.request<T>('GET', path, key);
  }

  post<T = any>(path: string, body: unknown, key?: string) {
    return this.request<T>('POST', path, key, body);
  }

  patch<T = any>(path: string, body: unknown, key?: string) {
    return this.request<T>('PATCH', path, key, body);
  }
}

/**
 * A client's retry of an idempotent request (a message with its id, a reply with its Idempotency-Key):
 * a 503 under load, or a keep-alive socket the API closed as the request went out ('socket hang up',
 * seen at load average 10). Up to 5 attempts; any other answer than `ok` fails, naming `what`.
 */
export async function retrying(what: string, call: () => Promise<HttpReply>, ok: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await call().catch((error: unknown) => {
      if (attempt < 5 && error instanceof Error && /socket hang up|ECONNRESET/.test(error.message)) return undefined;
      throw error;
    });
    if (res === undefined) continue;
    if (res.status === ok) return;
    if (res.status !== 503 || attempt === 5) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
