/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  type: string;
  id: string | undefined;
  data: any;
}

/**
 * A minimal SSE client over fetch, so tests and the bench send the key in a header as the inbox page
 * does. Collects events; `next` waits for the first one matching a predicate after those already taken.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  private taken = 0;
  /** Called for each event as it arrives (the bench stamps arrival times). */
  onEvent: ((event: SseEvent) => void) | undefined;
  closed: Promise<void>;
  status = 0;

  private constructor(readonly url: string) {
    this.closed = Promise.resolve();
  }

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient(url);
    const res = await fetch(url, { headers, signal: client.controller.signal });
    client.status = res.status;
    if (res.status !== 200 || !res.body) {
      throw Object.assign(new Error(`stream answered ${res.status}: ${await res.text()}`), { status: res.status });
    }
    client.closed = client.read(res.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') type = value;
            else if (field === 'id') id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          const event = { type, id, data: JSON.parse(data.join('\n')) };
          this.events.push(event);
          this.onEvent?.(event);
          const waiters = this.waiters;
          this.waiters = [];
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** The next event, after those already taken, that matches; throws after `timeoutMs`. */
  async next(match: (e: SseEvent) => boolean = () => true, timeoutMs = 15_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.taken < this.events.length) {
        const event = this.events[this.taken++]!;
        if (match(event)) return event;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching stream event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => [e.type, e.id]))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Takes events from the first one again (after waiting for `ready`, which follows a catch-up). */
  rewind(): void {
    this.taken = 0;
  }

  close(): void {
    this.controller.abort();
  }
}
