/**
 * A fake WhatsApp Cloud API for the end-to-end tests and the chaos and bench harnesses: it answers
 * `POST /{apiVersion}/{phoneNumberId}/messages` the way Graph does (or fails the way Graph fails, on
 * demand), marks customers' messages read and shows the typing indicator there (`status: "read"`),
 * records every request, and plays Meta's side of the status webhooks, signed with the app
 * secret. Also builds signed inbound webhook bodies shaped like /work/shared/fixtures/whatsapp.
 * Lists message templates (`GET /{apiVersion}/{wabaId}/message_templates`, paged by `after` cursors) and
 * plays Meta's `message_template_status_update` webhook (SPEC section 10).
 *
 * Requests keep the bearer token so a test can assert which channel's token was used; nothing here
 * prints it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers the next sends. */
export type FakeBehaviour =
  | 'ok'
  /** 400, code 131047: more than 24 hours since the customer last wrote. */
  | 'window_closed'
  /** 429, code 130429: throughput reached. */
  | 'rate_limited'
  /** 500, code 131000. */
  | 'server_error'
  /** Never answers until close(). */
  | 'hang'
  /** 401, code 190. */
  | 'invalid_token';

export type ReceiptStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface FakeGraphRequest {
  /** When it arrived, epoch ms. */
  at: number;
  path: string;
  /** From the path; empty when the path is not a messages endpoint. */
  phoneNumberId: string;
  apiVersion: string;
  /** A bearer authorization header was present. */
  authorized: boolean;
  token: string;
  /** The JSON body, or the raw text when it was not JSON. */
  body: any;
  /** The HTTP status answered; 0 while hanging. */
  answeredWith: number;
  /** The message id answered on success. */
  wamid: string | null;
  /** The HTTP method; GET for template listings. */
  method: string;
  /** The query string's parameters (a listing's `limit` and `after`). */
  query: Record<string, string>;
}

/** A template as Graph lists it (any fields; the fake answers them as given). */
export type FakeTemplate = Record<string, unknown> & { name: string; language: string; status: string };

export interface TemplateStatusOptions {
  wabaId: string;
  name: string;
  language: string;
  /** Meta's event: APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, FLAGGED... */
  event: string;
  reason?: string;
}

/** A request that marked a customer's message read (`status: "read"`), with the typing indicator or not. */
export const isReadRequest = (request: FakeGraphRequest): boolean => request.body?.status === 'read' && request.body?.typing_indicator === undefined;
export const isTypingRequest = (request: FakeGraphRequest): boolean => request.body?.status === 'read' && request.body?.typing_indicator !== undefined;

export interface StatusWebhook {
  url: string;
  appSecret: string;
}

export interface StatusOptions {
  wamid: string;
  status: ReceiptStatus;
  recipient: string;
  phoneNumberId: string;
  errors?: { code: number; title: string; message?: string }[];
  /** Unix seconds; now when absent. */
  timestamp?: number;
}

/** One status webhook the fake posted on its own (autoReceipts). */
export interface StatusPost {
  wamid: string;
  status: ReceiptStatus;
  tries: number;
  /** The last HTTP status answered, or null when the last try did not get an answer. */
  answeredWith: number | null;
}

export interface FakeGraph {
  /** Base URL, to use as WHATSAPP_GRAPH_URL. */
  url: string;
  requests: FakeGraphRequest[];
  statusPosts: StatusPost[];
  /** Queues a behaviour for the next `times` sends; queued behaviours are used in order, then 'ok'. */
  behave(behaviour: FakeBehaviour, times?: number): void;
  /** The same for the next `times` read and typing requests (`status: "read"`), which never take the sends' queue. */
  behaveOnReads(behaviour: FakeBehaviour, times?: number): void;
  /** Forgets requests, status posts and queued behaviours. */
  reset(): void;
  /** The first request (already received or still to come) matching the predicate. */
  waitFor(predicate: (request: FakeGraphRequest) => boolean, timeoutMs?: number): Promise<FakeGraphRequest>;
  setStatusWebhook(webhook: StatusWebhook | undefined): void;
  /** Posts one signed status webhook to statusWebhook.url; resolves with the HTTP status. */
  sendStatus(options: StatusOptions): Promise<number>;
  /**
   * What `GET /{v}/{wabaId}/message_templates` lists for the business account, at most `pageSize` a page
   * (Graph's own page size otherwise: the request's `limit`, 25 by default). Queued behaviours apply to
   * listings as to sends.
   */
  setTemplates(wabaId: string, templates: FakeTemplate[], options?: { pageSize?: number }): void;
  /** Posts one signed `message_template_status_update` webhook to statusWebhook.url, as Meta would; resolves with the HTTP status. */
  sendTemplateStatus(options: TemplateStatusOptions): Promise<number>;
  /** Resolves once every automatic status post under way has finished. */
  idle(): Promise<void>;
  /** Ends hanging requests, stops automatic status posts and the server. */
  close(): Promise<void>;
  /** Files uploaded to a number (`POST /{apiVersion}/{phoneNumberId}/media`, multipart), in order. */
  mediaUploads: FakeMediaUpload[];
  /** Puts a file at the fake, as a customer's media is at Meta: answers its media id, for an inbound webhook. */
  addMedia(bytes: Buffer, mimeType: string): string;
  /** The next `times` downloads of a file (its URL from `GET /{apiVersion}/{mediaId}`) answer 500. */
  failDownloads(times: number): void;
  /** Every media metadata read and download, with the status answered. */
  mediaReads: { kind: 'metadata' | 'download'; mediaId: string; authorized: boolean; status: number }[];
}

export interface FakeMediaUpload {
  phoneNumberId: string;
  token: string;
  /** The form's `messaging_product` and `type` fields. */
  messagingProduct: string;
  type: string;
  filename: string;
  /** The file part's content-type. */
  mimeType: string;
  bytes: Buffer;
  /** The id answered, which a send then names. */
  id: string;
}

const messagesPath = /^\/([^/]+)\/([^/]+)\/messages$/;
const templatesPath = /^\/([^/]+)\/([^/]+)\/message_templates$/;
/** Meta retries a failed webhook for days; the fake tries a few times, quickly, so tests stay short. */
const statusTries = 5;
const statusRetryBaseMs = 50;
const receiptSpacingMs = 5;

export async function startFakeGraph(options: { statusWebhook?: StatusWebhook; autoReceipts?: Exclude<ReceiptStatus, 'failed'>[] } = {}): Promise<FakeGraph> {
  const requests: FakeGraphRequest[] = [];
  const statusPosts: StatusPost[] = [];
  const queue: { behaviour: FakeBehaviour; remaining: number }[] = [];
  const readQueue: { behaviour: FakeBehaviour; remaining: number }[] = [];
  const hanging = new Set<http.ServerResponse>();
  const waiters = new Set<(request: FakeGraphRequest) => void>();
  const inFlight = new Set<Promise<void>>();
  const stop = new AbortController();
  let statusWebhook = options.statusWebhook;
  const templateLists = new Map<string, { templates: FakeTemplate[]; pageSize?: number }>();

  function nextBehaviour(from = queue): FakeBehaviour {
    const head = from[0];
    if (!head) return 'ok';
    head.remaining -= 1;
    if (head.remaining <= 0) from.shift();
    return head.behaviour;
  }

  function answer(request: FakeGraphRequest, res: http.ServerResponse, status: number, body: unknown): void {
    request.answeredWith = status;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const [path, search] = (req.url ?? '/').split('?') as [string, string | undefined];
    const listing = templatesPath.exec(path);
    const match = messagesPath.exec(path) ?? listing;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const request: FakeGraphRequest = {
      at: Date.now(),
      path,
      apiVersion: match ? decodeURIComponent(match[1]!) : '',
      phoneNumberId: match ? decodeURIComponent(match[2]!) : '',
      authorized: bearer !== null,
      token: bearer ? bearer[1]! : '',
      body: parseJson(raw) ?? raw,
      answeredWith: 0,
      wamid: null,
      method: req.method ?? '',
      query: Object.fromEntries(new URLSearchParams(search ?? '')),
    };
    requests.push(request);
    if (listing) {
      request.phoneNumberId = '';
      respondWithTemplates(request, req, res, decodeURIComponent(listing[2]!));
    } else respond(request, req, res, match !== null);
    for (const waiter of waiters) waiter(request);
  }

  function respond(request: FakeGraphRequest, req: http.IncomingMessage, res: http.ServerResponse, isMessages: boolean): void {
    // Like Graph, the request itself is checked before any behaviour applies; those answers use no behaviour.
    if (req.method !== 'POST' || !isMessages) return answer(request, res, 400, graphError(100, 'Unsupported post request.'));
    if (!request.authorized) return answer(request, res, 401, graphError(190, 'An active access token must be used to query information about the current user.'));
    const body = request.body;
    // Marking a customer's message read, with or without the typing indicator (SPEC 10): `{ success: true }`.
    if (typeof body === 'object' && body !== null && body.messaging_product === 'whatsapp' && body.status === 'read') {
      if (typeof body.message_id !== 'string' || body.message_id === '') return answer(request, res, 400, graphError(100, '(#100) Invalid parameter', 'message_id is required'));
      if (body.typing_indicator !== undefined && body.typing_indicator?.type !== 'text') return answer(request, res, 400, graphError(100, '(#100) Invalid parameter', 'typing_indicator.type must be text'));
      // Reads have their own queue (`behaveOnReads`): a test's queued send failures stay the sends'.
      const behaviour = nextBehaviour(readQueue);
      if (behaviour === 'ok') return answer(request, res, 200, { success: true });
      if (behaviour === 'server_error') return answer(request, res, 500, graphError(131000, '(#131000) Something went wrong', 'Something went wrong.'));
      if (behaviour === 'rate_limited') return answer(request, res, 429, graphError(130429, '(#130429) Rate limit hit', 'Cloud API message throughput has been reached.'));
      return answer(request, res, 400, graphError(100, '(#100) Invalid parameter', `the fake answers ${behaviour} to reads with this`));
    }
    if (typeof body !== 'object' || body === null || body.messaging_product !== 'whatsapp' || typeof body.to !== 'string') {
      return answer(request, res, 400, graphError(100, '(#100) Invalid parameter', 'messaging_product and to are required'));
    }
    const behaviour = nextBehaviour();
    switch (behaviour) {
      case 'ok': {
        const wamid = `wamid.${randomBytes(24).toString('base64url')}`;
        request.wamid = wamid;
        answer(request, res, 200, {
          messaging_product: 'whatsapp',
          contacts: [{ input: body.to, wa_id: String(body.to).replace(/^\+/, '') }],
          messages: [{ id: wamid }],
        });
        if (options.autoReceipts?.length) track(postReceipts(wamid, String(body.to).replace(/^\+/, ''), request.phoneNumberId, options.autoReceipts));
        return;
      }
      case 'window_closed':
        return answer(
          request,
          res,
          400,
          graphError(131047, '(#131047) Re-engagement message', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'),
        );
      case 'rate_limited':
        return answer(request, res, 429, graphError(130429, '(#130429) Rate limit hit', 'Cloud API message throughput has been reached.'));
      case 'server_error':
        return answer(request, res, 500, graphError(131000, '(#131000) Something went wrong', 'Something went wrong.'));
      case 'invalid_token':
        return answer(request, res, 401, graphError(190, 'Error validating access token: Session has expired.'));
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
    }
  }

  /** A page of the business account's templates from the `after` cursor (an offset, as Graph's cursors are opaque). */
  function respondWithTemplates(request: FakeGraphRequest, req: http.IncomingMessage, res: http.ServerResponse, wabaId: string): void {
    if (req.method !== 'GET') return answer(request, res, 400, graphError(100, 'Unsupported post request.'));
    if (!request.authorized) return answer(request, res, 401, graphError(190, 'An active access token must be used to query information about the current user.'));
    const behaviour = nextBehaviour();
    if (behaviour === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (behaviour === 'server_error') return answer(request, res, 500, graphError(131000, '(#131000) Something went wrong', 'Something went wrong.'));
    if (behaviour === 'rate_limited') return answer(request, res, 429, graphError(80008, '(#80008) There have been too many calls to this WhatsApp Business account.'));
    if (behaviour === 'invalid_token') return answer(request, res, 401, graphError(190, 'Error validating access token: Session has expired.'));
    const list = templateLists.get(wabaId);
    if (!list) return answer(request, res, 400, graphError(100, `Unsupported get request. Object with ID '${wabaId}' does not exist.`));
    const asked = Number(request.query.limit ?? 25);
    const size = Math.max(1, Math.min(list.pageSize ?? Infinity, Number.isInteger(asked) && asked > 0 ? asked : 25));
    const from = request.query.after ? Number(Buffer.from(request.query.after, 'base64url').toString('utf8')) : 0;
    const data = list.templates.slice(from, from + size);
    const cursor = (offset: number) => Buffer.from(String(offset), 'utf8').toString('base64url');
    const paging: Record<string, unknown> = { cursors: { before: cursor(from), after: cursor(from + data.length) } };
    if (from + data.length < list.templates.length) paging.next = `https://graph.facebook.com/${request.apiVersion}/${wabaId}/message_templates?limit=${size}&after=${cursor(from + data.length)}`;
    answer(request, res, 200, { data, paging });
  }

  async function postTemplateStatus(status: TemplateStatusOptions): Promise<number> {
    if (!statusWebhook) throw new Error('the fake Graph API has no statusWebhook: pass one to startFakeGraph or setStatusWebhook');
    const { rawBody, headers } = signedMetaRequest(templateStatusWebhookBody(status), statusWebhook.appSecret);
    const response = await fetch(statusWebhook.url, { method: 'POST', headers, body: rawBody, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]) });
    await response.arrayBuffer();
    return response.status;
  }

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function postReceipts(wamid: string, recipient: string, phoneNumberId: string, statuses: ReceiptStatus[]): Promise<void> {
    for (const status of statuses) {
      await sleep(receiptSpacingMs, stop.signal);
      if (stop.signal.aborted || !statusWebhook) return;
      const post: StatusPost = { wamid, status, tries: 0, answeredWith: null };
      statusPosts.push(post);
      // In order, like Meta: the next status waits until this one is taken or given up on.
      while (post.tries < statusTries && !stop.signal.aborted) {
        post.tries += 1;
        post.answeredWith = await postStatus({ wamid, status, recipient, phoneNumberId }).catch(() => null);
        if (post.answeredWith !== null && post.answeredWith >= 200 && post.answeredWith < 300) break;
        if (post.tries < statusTries) await sleep(statusRetryBaseMs * 2 ** (post.tries - 1), stop.signal);
      }
    }
  }

  async function postStatus(status: StatusOptions): Promise<number> {
    if (!statusWebhook) throw new Error('the fake Graph API has no statusWebhook: pass one to startFakeGraph or setStatusWebhook');
    const { rawBody, headers } = signedMetaRequest(statusWebhookBody(status), statusWebhook.appSecret);
    const response = await fetch(statusWebhook.url, {
      method: 'POST',
      headers,
      body: rawBody,
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]),
    });
    await response.arrayBuffer();
    return response.status;
  }

  // Media (SPEC section 10): uploads to a number, and files a customer sent, read the way Graph serves
  // them (metadata with a URL, then the URL, both with the bearer token).
  const mediaUploads: FakeMediaUpload[] = [];
  const mediaReads: FakeGraph['mediaReads'] = [];
  const files = new Map<string, { bytes: Buffer; mimeType: string }>();
  let failingDownloads = 0;
  const newMediaId = () => String(10n ** 15n + BigInt(`0x${randomBytes(6).toString('hex')}`));

  /** Answers the media endpoints; false for any other request. */
  function handleMedia(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    /** Answers JSON; true, so that `return json(...)` says the request was handled. */
    const json = (status: number, body: unknown): true => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return true;
    };
    const upload = /^\/([^/]+)\/([^/]+)\/media$/.exec(path);
    if (upload && req.method === 'POST') {
      if (!bearer) return json(401, graphError(190, 'An active access token must be used.'));
      const form = parseMultipart(raw, req.headers['content-type'] ?? '');
      const file = form?.find((part) => part.name === 'file');
      const field = (name: string) => form?.find((part) => part.name === name)?.data.toString('utf8') ?? '';
      if (!form || !file || field('messaging_product') !== 'whatsapp' || field('type') === '') {
        return json(400, graphError(100, '(#100) Invalid parameter', 'messaging_product, type and file are required'));
      }
      const id = newMediaId();
      files.set(id, { bytes: file.data, mimeType: field('type') });
      mediaUploads.push({
        phoneNumberId: decodeURIComponent(upload[2]!),
        token: bearer[1]!,
        messagingProduct: field('messaging_product'),
        type: field('type'),
        filename: file.filename ?? '',
        mimeType: file.contentType ?? '',
        bytes: file.data,
        id,
      });
      return json(200, { id });
    }
    const metadata = /^\/([^/]+)\/(\d+)$/.exec(path);
    if (metadata && metadata[1] !== 'download' && req.method === 'GET' && files.has(metadata[2]!)) {
      const id = metadata[2]!;
      const file = files.get(id)!;
      const status = bearer ? 200 : 401;
      mediaReads.push({ kind: 'metadata', mediaId: id, authorized: bearer !== null, status });
      if (!bearer) return json(401, graphError(190, 'An active access token must be used.'));
      return json(200, {
        messaging_product: 'whatsapp',
        url: `http://127.0.0.1:${port}/download/${id}`,
        mime_type: file.mimeType,
        sha256: createHash('sha256').update(file.bytes).digest('hex'),
        file_size: file.bytes.length,
        id,
      });
    }
    const download = /^\/download\/(\d+)$/.exec(path);
    if (download && req.method === 'GET') {
      const id = download[1]!;
      const file = files.get(id);
      const status = !bearer ? 401 : !file ? 404 : failingDownloads > 0 ? 500 : 200;
      if (status === 500) failingDownloads -= 1;
      mediaReads.push({ kind: 'download', mediaId: id, authorized: bearer !== null, status });
      if (status !== 200) return json(status, graphError(status === 500 ? 131000 : 100, 'download refused'));
      res.writeHead(200, { 'content-type': file!.mimeType, 'content-length': String(file!.bytes.length) }).end(file!.bytes);
      return true;
    }
    return false;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (handleMedia(req, res, raw)) return;
      handle(req, res, raw.toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    statusPosts,
    behave(behaviour, times = Infinity) {
      if (times > 0) queue.push({ behaviour, remaining: times });
    },
    behaveOnReads(behaviour, times = Infinity) {
      if (times > 0) readQueue.push({ behaviour, remaining: times });
    },
    reset() {
      requests.splice(0);
      statusPosts.splice(0);
      queue.splice(0);
      readQueue.splice(0);
    },
    waitFor(predicate, timeoutMs = 5_000) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching Graph request within ${timeoutMs} ms (${requests.length} requests received)`));
        }, timeoutMs);
        const waiter = (request: FakeGraphRequest): void => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(request);
        };
        waiters.add(waiter);
      });
    },
    setStatusWebhook(webhook) {
      statusWebhook = webhook;
    },
    sendStatus: postStatus,
    setTemplates(wabaId, templates, listOptions = {}) {
      templateLists.set(wabaId, { templates, pageSize: listOptions.pageSize });
    },
    sendTemplateStatus: postTemplateStatus,
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    mediaUploads,
    mediaReads,
    addMedia(bytes, mimeType) {
      const id = newMediaId();
      files.set(id, { bytes, mimeType });
      return id;
    },
    failDownloads(times) {
      failingDownloads = times;
    },
    async close() {
      stop.abort();
      for (const res of hanging) res.destroy();
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- Meta's webhook bodies ------------------------------------------------------------------------

/** The fixtures' business account and display number; nothing routes on them. */
const wabaId = '108374629150482';
const displayPhoneNumber = '15550100001';

/** The envelope every WhatsApp webhook comes in: one entry, one `messages` change. */
export function metaWebhookBody(value: { phoneNumberId: string; contacts?: unknown[]; messages?: unknown[]; statuses?: unknown[] }): any {
  const { phoneNumberId, ...items } = value;
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: displayPhoneNumber, phone_number_id: phoneNumberId }, ...items },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

/** Meta's `message_template_status_update` webhook: the entry is the business account, the change names the template. */
export function templateStatusWebhookBody(options: TemplateStatusOptions): any {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: options.wabaId,
        time: unixNow(),
        changes: [
          {
            value: {
              event: options.event,
              message_template_id: 1_000_000 + (options.name.length % 1000),
              message_template_name: options.name,
              message_template_language: options.language,
              reason: options.reason ?? 'NONE',
            },
            field: 'message_template_status_update',
          },
        ],
      },
    ],
  };
}

/** A status webhook shaped like wa-status-delivered.json (and wa-status-failed-131047.json when failed). */
export function statusWebhookBody(options: StatusOptions): any {
  const status: Record<string, unknown> = {
    id: options.wamid,
    status: options.status,
    timestamp: String(options.timestamp ?? unixNow()),
    recipient_id: options.recipient,
  };
  // Meta prices a message when it is sent and delivered; read and failed receipts carry no pricing.
  if (options.status === 'sent' || options.status === 'delivered') {
    status.pricing = { billable: true, pricing_model: 'PMP', type: 'regular', category: 'service' };
  }
  if (options.errors?.length) {
    status.errors = options.errors.map((e) => ({
      code: e.code,
      title: e.title,
      message: e.title,
      error_data: { details: e.message ?? e.title },
      href: '/documentation/business-messaging/whatsapp/support/error-codes',
    }));
  }
  return metaWebhookBody({ phoneNumberId: options.phoneNumberId, statuses: [status] });
}

interface InboundBase {
  phoneNumberId: string;
  /** The customer's WhatsApp id, digits. */
  from: string;
  name?: string;
  wamid: string;
  /** Unix seconds; now when absent. */
  timestamp?: number;
  /** The business message this one replies to. */
  contextId?: string;
}

function inboundBody(base: InboundBase, type: string, typed: Record<string, unknown>): any {
  const message: Record<string, unknown> = {};
  if (base.contextId) message.context = { from: displayPhoneNumber, id: base.contextId };
  Object.assign(message, { from: base.from, id: base.wamid, timestamp: String(base.timestamp ?? unixNow()), type }, typed);
  return metaWebhookBody({
    phoneNumberId: base.phoneNumberId,
    ...(base.name !== undefined ? { contacts: [{ profile: { name: base.name }, wa_id: base.from }] } : {}),
    messages: [message],
  });
}

export function inboundTextBody(options: InboundBase & { text: string }): any {
  return inboundBody(options, 'text', { text: { body: options.text } });
}

export function inboundImageBody(options: InboundBase & { mediaId: string; mimeType?: string; caption?: string }): any {
  const image: Record<string, unknown> = { id: options.mediaId, mime_type: options.mimeType ?? 'image/jpeg', sha256: randomBytes(32).toString('base64') };
  if (options.caption !== undefined) image.caption = options.caption;
  return inboundBody(options, 'image', { image });
}

/** A template's quick-reply button tapped, like wa-button-reply.json. */
export function inboundButtonBody(options: InboundBase & { payload: string; text: string }): any {
  return inboundBody(options, 'button', { button: { payload: options.payload, text: options.text } });
}

/** An interactive reply button tapped. */
export function inboundButtonReplyBody(options: InboundBase & { buttonId: string; title: string }): any {
  return inboundBody(options, 'interactive', { interactive: { type: 'button_reply', button_reply: { id: options.buttonId, title: options.title } } });
}

/** `sha256=<hex>` of the HMAC-SHA256 of the raw body with the app secret, as Meta signs webhooks. */
export function signMeta(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** A body serialized once, and the headers Meta would send with it (X-Hub-Signature-256 over those exact bytes). */
export function signedMetaRequest(body: unknown, appSecret: string): { rawBody: string; headers: Record<string, string> } {
  const rawBody = JSON.stringify(body);
  return { rawBody, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(rawBody, appSecret) } };
}

/** Graph's error envelope; `message` as Graph words it (`(#code) title` for the messaging codes). */
function graphError(code: number, message: string, details?: string): unknown {
  return {
    error: {
      message,
      type: 'OAuthException',
      code,
      ...(details !== undefined ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
      fbtrace_id: randomBytes(12).toString('base64url'),
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Resolves after `ms`, or at once when the signal aborts, so close() does not wait out a retry delay. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The parts of a multipart/form-data body, as far as Graph's media upload needs; undefined when it is not one. */
export function parseMultipart(raw: Buffer, contentType: string): { name: string; filename?: string; contentType?: string; data: Buffer }[] | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!/^multipart\/form-data/i.test(contentType) || !boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: { name: string; filename?: string; contentType?: string; data: Buffer }[] = [];
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') return parts;
    const headersEnd = raw.indexOf('\r\n\r\n', start);
    const next = raw.indexOf(delimiter, headersEnd);
    if (headersEnd === -1 || next === -1) return undefined;
    const headers = raw.subarray(start + 2, headersEnd).toString('utf8');
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (name === undefined) return undefined;
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    const partType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    // The part's bytes end before the CRLF that precedes the next delimiter.
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(partType !== undefined ? { contentType: partType.trim() } : {}), data: raw.subarray(headersEnd + 4, next - 2) });
    at = next;
  }
  return undefined;
}
