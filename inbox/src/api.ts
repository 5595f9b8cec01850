/**
 * The page's only way to the server: the public /v1 routes, with the browser's session cookie (signed in
 * once per browser, every tab shares it: inbox/src/signin.tsx), or with a key given to `new Api(key)`.
 */

export interface Me {
  kind: 'user';
  accountId: string;
  userId: string;
  name: string;
  role: 'owner' | 'admin' | 'manager' | 'agent';
  presence: Presence;
}
export type Presence = 'online' | 'away' | 'offline';

export interface Conversation {
  id: string;
  accountId: string;
  channel: string;
  customer: string;
  customerName: string | null;
  status: string;
  assigneeId: string | null;
  episode: number;
  unreadCount: number;
  lastCustomerMessageAt: string | null;
  windowExpiresAt: string | null;
  closedReason: string | null;
  tags: string[];
  archived: boolean;
  lastActivityAt: string | null;
  version: number;
  /** The newest message, for the list's preview. */
  lastMessage?: { direction: 'inbound' | 'outbound'; kind: string; text: string; at: string } | null;
  /** Since when the customer has waited for an answer; null when nobody waits. */
  waitingSince?: string | null;
  /** The team the conversation is routed to, if any. */
  team?: string | null;
  /** For the signed-in user: customer messages after what they have read. */
  unreadForMe?: number;
  readUpToSeq?: number | null;
  /** SPEC 9: absent from older API processes (then `normal`, no SLA). */
  priority?: 'urgent' | 'high' | 'normal' | 'low';
  /** SPEC 9: when a snoozed conversation wakes; absent from older API processes. */
  snoozedUntil?: string | null;
  sla?: { firstResponseDueAt: string | null; nextResponseDueAt: string | null; resolutionDueAt: string | null; breached: string[]; paused: boolean };
}

export interface Delivery {
  status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
  error: { code: number | string; message: string } | null;
  updatedAt: string | null;
}

export interface Message {
  seq: number;
  messageId: string;
  conversationId: string;
  /** `internal`: a note (SPEC 10), which the customer never sees. */
  direction: 'inbound' | 'outbound' | 'internal';
  kind: string;
  text: string | null;
  template: { name: string; language?: string } | null;
  content: {
    media?: { id: string; mimeType?: string; filename?: string; caption?: string };
    location?: { latitude: number; longitude: number; name?: string; address?: string };
    reaction?: { emoji: string };
    choice?: { title: string };
    contacts?: unknown[];
    /** SPEC 10: the buttons or list the business sent (its body is `text`). */
    interactive?: InteractiveMessage;
  } | null;
  delivery: Delivery | null;
  authorId: string | null;
  /** When convoflow recorded it. */
  at: string;
  /** When the customer's phone sent it, as the provider said (inbound only). */
  sentAt?: string | null;
  /** Notes only (SPEC 10): the users it mentions. */
  mentions?: string[];
}

/** SPEC 10: a `mention` stream event, to the mentioned user only. */
export interface Mention {
  conversationId: string;
  messageId: string;
  by: string;
  text: string;
}

/** SPEC 10: reply buttons or a list, as the API takes and shows them. */
export type InteractiveMessage =
  | { type: 'button'; body: string; buttons: { id: string; title: string }[] }
  | { type: 'list'; body: string; button: string; sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[] };

/**
 * Where a message's file is served (GET /v1/accounts/{accountId}/media/{id}): for files convoflow keeps
 * (`med_` ids: uploads and customers' media fetched since SPEC 10); undefined for older messages, whose
 * ids are the provider's. The account is the conversation id's second part (`conv:{accountId}:…`).
 */
export function mediaUrlOf(m: Pick<Message, 'conversationId' | 'content'>): string | undefined {
  const id = m.content?.media?.id;
  const accountId = m.conversationId.split(':')[1];
  if (!id || !id.startsWith('med_') || !accountId) return undefined;
  return `/v1/accounts/${encodeURIComponent(accountId)}/media/${encodeURIComponent(id)}`;
}

export interface Transition {
  seq: number;
  conversationId: string;
  at: string;
  from: string | null;
  to: string;
  reason: string;
  actor: { kind: string; id: string | null; role: string | null };
  assigneeAfter: string | null;
  rule?: string | null;
  details?: Record<string, unknown> | null;
  /** SPEC 9: `transition`, `sla_warning` or `sla_breached` (absent from older API processes: a transition). */
  type?: string;
  /** SLA entries: `firstResponse`, `nextResponse` or `resolution`, and when the target is (or was) due. */
  metric?: string;
  dueAt?: string;
}

/** SPEC 11: a contact's profile (`GET .../contacts/{customer}`). */
export interface ContactProfile {
  customer: string;
  name: string | null;
  attributes: Record<string, string>;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  conversations: { conversationId: string; channel: string; status: string; episodes: number }[];
}

/** SPEC 11: a contact as the contacts search lists it. */
export type ContactSummary = Pick<ContactProfile, 'customer' | 'name' | 'attributes' | 'firstSeenAt'>;

/** SPEC 11: a message the search found (`GET .../search?q=`). */
export interface SearchHit {
  conversationId: string;
  messageId: string;
  at: string;
  snippet: string;
}

export interface User {
  id: string;
  name: string;
  role: string;
  active: boolean;
  presence: Presence;
  teams?: string[];
}

/** The open conversation and its timeline (the newest records; `earlier`: older ones are not loaded yet). */
export interface Selected {
  conversation: Conversation;
  messages: Message[];
  transitions: Transition[];
  earlier: boolean;
}

export interface CallOptions {
  /** Sent as `Idempotency-Key`: a retry with the same key is answered the first answer, and acts once. */
  idempotencyKey?: string;
}

/** An error the API answered, with its stable code and its message in words. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Sent on every request made with the session cookie: the API refuses cookie writes without it (CSRF). */
export const csrfHeader = { 'x-convoflow-csrf': '1' } as const;

export class Api {
  private ended: (() => void) | undefined;

  /**
   * `new Api()`: the browser's session (its HttpOnly cookie travels by itself; the page never sees it).
   * `new Api(key)`: a key in the Authorization header, for scripts and tests.
   */
  constructor(readonly key = '') {}

  /** Called once the server says the session is over (401): signed out elsewhere, key revoked, user deactivated. */
  onSessionEnded(handler: () => void): this {
    this.ended = handler;
    return this;
  }

  /** The request headers that say who is calling. */
  credentials(): Record<string, string> {
    return this.key ? { authorization: `Bearer ${this.key}` } : { ...csrfHeader };
  }

  /** A 401 to a session-cookie request: the session is over, tell the page once. */
  sessionEnded(): void {
    if (this.key) return;
    const handler = this.ended;
    this.ended = undefined;
    handler?.();
  }

  async call<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        ...this.credentials(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (res.status === 401) this.sessionEnded();
      throw new ApiFailure(res.status, error?.code ?? 'error', error?.message ?? `the server answered ${res.status}`);
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}, options?: CallOptions): Promise<T> {
    return this.call<T>('POST', path, body, options);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  /**
   * A GET answered in another type than JSON (the reports' CSV: `accept: text/csv`), as a Blob, with the
   * same credentials; a refusal is an ApiFailure as for `call`.
   */
  async download(path: string, accept: string): Promise<Blob> {
    const res = await fetch(path, { credentials: 'same-origin', headers: { ...this.credentials(), accept } });
    if (!res.ok) {
      const text = await res.text();
      let error: { code?: string; message?: string } | undefined;
      try {
        error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      } catch {
        // not JSON: the status says it
      }
      if (res.status === 401) this.sessionEnded();
      throw new ApiFailure(res.status, error?.code ?? 'error', error?.message ?? `the server answered ${res.status}`);
    }
    return res.blob();
  }
}

export interface StreamHandlers {
  event(type: string, data: unknown): void;
  /** Connected (again): the page reloads what it shows when `resumed` is false. */
  connected(resumed: boolean): void;
  disconnected(): void;
  /** Refused for good (streamRefusedForGood): the stream will not try again. */
  ended?(status: number): void;
}

/**
 * Whether a stream refused with `status` must not be tried again: a 4xx says the request itself will not
 * do (401: the session or key is over; 403, 404: not this caller's to read), except 408 and 429 (too
 * many streams or requests: later, with backoff). A 5xx or a dropped connection is tried again.
 */
export function streamRefusedForGood(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Reads the account's stream with fetch, so the credential travels in the session cookie (or the
 * Authorization header) and never in a URL. Reconnects by itself with `Last-Event-ID`, so nothing is
 * missed across a dropped connection; stops for good when refused for good (401: the session or key is
 * over; see streamRefusedForGood).
 */
export function openStream(api: Api, accountId: string, handlers: StreamHandlers, options: { tabId?: string } = {}): () => void {
  let lastEventId: string | undefined;
  let stopped = false;
  let controller: AbortController | undefined;
  const run = async () => {
    let delay = 500;
    while (!stopped) {
      controller = new AbortController();
      try {
        const query = options.tabId ? `?tabId=${encodeURIComponent(options.tabId)}` : '';
        const res = await fetch(`/v1/accounts/${encodeURIComponent(accountId)}/stream${query}`, {
          credentials: 'same-origin',
          headers: { ...api.credentials(), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal: controller.signal,
        });
        // Never for ever against a refusal: a revoked key (scripts, tests) stops like an ended session.
        if (streamRefusedForGood(res.status)) {
          stopped = true;
          if (res.status === 401) api.sessionEnded();
          handlers.ended?.(res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        const resumed = lastEventId !== undefined;
        handlers.connected(resumed);
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('id: ')) lastEventId = line.slice(4);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) handlers.event(type, JSON.parse(data.join('\n')));
          }
        }
      } catch {
        // dropped or refused: try again below
      }
      if (stopped) return;
      handlers.disconnected();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
