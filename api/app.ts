import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import express from 'express';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { SecretBox } from '../store/secret-box';
import type { ChannelProvider } from '../activities/channel-provider';
import { createRecordingChannelProvider } from '../activities/channel-provider';
import { createRouterClient } from '../activities/router-client';
import { collections } from '../store/collections';
import { LastKnownPrincipals } from './auth';
import type { ApiDeps } from './deps';
import { createConversationGateway, createTemporalCall } from './conversation-gateway';
import { ApiError, errorHandler, readingBody, utf8Only } from './errors';
import { createMetrics } from './metrics';
import { mountRoutes, openApiDocument } from './route';
import type { RouteDef } from './route';
import { accountRoutes } from './routes/accounts';
import { keyRoutes } from './routes/keys';
import { userRoutes } from './routes/users';
import { conversationRoutes } from './routes/conversations';
import { broadcastRoutes } from './routes/broadcasts';
import { inboundRoutes } from './routes/inbound';
import { systemRoutes } from './routes/system';
import { channelRoutes } from './routes/channels';
import { templateRoutes } from './routes/templates';
import { cannedResponseRoutes } from './routes/canned-responses';
import { refuseUnsignedWebhooks, webhookRoutes } from './routes/webhooks';
import { streamRoutes } from './routes/stream';
import { noteRoutes } from './routes/notes';
import { inboxRoutes } from './routes/inbox';
import { mediaRoutes } from './routes/media';
import { reportRoutes } from './routes/reports';
import { oidcCallbackPath, sessionRoutes } from './routes/sessions';
import { contactRoutes } from './routes/contacts';
import type { OidcConfig } from '../infra/config';
import { createOidcClient } from './oidc';
import { StreamHub } from './stream-hub';
import { StreamGuard, defaultStreamGuardOptions } from './stream-guard';
import { streamSubscriptions } from '../store/stream-subscriptions';
import { favicon, inboxPage } from './inbox-page';
import { startPresenceSweep } from './presence';
import { startReportPackBuilder } from './report-pack-builder';
import type { StreamHubOptions } from './stream-hub';
import { newestAccountPolicy } from '../store/policy-versions';
import { PolicyVersionCache } from './policy-version-cache';
import type { RateLimitSettings } from './rate-limit';
import { RateLimits, defaultRateLimits } from './rate-limit';
import { rateSlotChunks } from '../store/rate-slots';

export interface AppOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  platformApiKey: string | undefined;
  log: Logger;
  provider?: ChannelProvider;
  /** Seals and opens channel secrets (SECRETS_KEY); none: stored as given. */
  secrets?: SecretBox;
  /** WHATSAPP_GRAPH_URL: the Graph API the template registry's sync reads (the worker sends through its own); default Meta's. */
  whatsappGraphUrl?: string;
  /** OUTBOUND_ALLOW_PRIVATE: webhook channels may name plain http and private or loopback addresses. */
  outboundAllowPrivate?: boolean;
  /** How long an HTTP request waits for Temporal before answering 503. */
  temporalTimeoutMs?: number;
  stream?: StreamHubOptions;
  /** Browser sessions' lifetimes (SESSION_TTL, SESSION_IDLE_TTL); defaults 7 days and 12 hours. */
  sessions?: { ttlMs: number; idleTtlMs: number };
  /** Single sign-on through an OpenID Connect provider; undefined: only API keys sign in. */
  oidc?: OidcConfig;
  /** Token buckets (RATE_LIMIT_USER, RATE_LIMIT_SERVICE, RATE_LIMIT_ANONYMOUS); SPEC section 12's defaults where not given. */
  rateLimits?: Partial<RateLimitSettings>;
  /** Express's `trust proxy` (TRUST_PROXY): which proxies' X-Forwarded-For names the client address; default none. */
  trustProxy?: boolean | number | string;
  /** REPORT_PACKS_EVERY: how often this process's reports pack builder ticks (api/report-pack-builder.ts); undefined: no builder. */
  reportPacksEveryMs?: number;
}

export const defaultSessionLifetimes = { ttlMs: 7 * 86_400_000, idleTtlMs: 12 * 3_600_000 };

export const routes = [...systemRoutes, ...accountRoutes, ...userRoutes, ...keyRoutes, ...channelRoutes, ...templateRoutes, ...inboundRoutes, ...broadcastRoutes, ...conversationRoutes, ...noteRoutes, ...webhookRoutes, ...streamRoutes, ...inboxRoutes, ...sessionRoutes, ...cannedResponseRoutes, ...mediaRoutes, ...reportRoutes, ...contactRoutes];

/** A known path asked with a method it does not have: 405 with `Allow`, not 404 as if it did not exist. */
function wrongMethod(known: Pick<RouteDef, 'method' | 'path'>[]): express.RequestHandler {
  const patterns = known.map((def) => ({ method: def.method.toUpperCase(), pattern: new RegExp(`^${def.path.replace(/\{\w+\}/g, '[^/]+')}/?$`) }));
  return (req, res, next) => {
    const allowed = [...new Set(patterns.filter((p) => p.pattern.test(req.path)).map((p) => p.method))];
    if (allowed.length === 0) return next();
    if (allowed.includes('GET')) allowed.push('HEAD');
    res.setHeader('Allow', allowed.join(', '));
    next(new ApiError({ code: 'method_not_allowed', message: `${req.method} is not allowed on this path; use ${allowed.join(', ')}` }));
  };
}

/** The Express app, with no listening socket: `main` listens, tests listen on port 0. */
export function createApp(options: AppOptions): { app: express.Express; deps: ApiDeps } {
  const metrics = createMetrics();
  const timeoutMs = options.temporalTimeoutMs ?? 15_000;
  const store = collections(options.db, { secrets: options.secrets });
  const temporalCall = createTemporalCall(options.temporal, metrics, timeoutMs);
  const policyVersions = new PolicyVersionCache(async (accountId) => (await newestAccountPolicy(store.accounts, store.policyVersions, accountId))?.version, options.log);
  const lastKnown = new LastKnownPrincipals();
  const deps: ApiDeps = {
    db: options.db,
    collections: store,
    temporal: options.temporal,
    taskQueue: options.taskQueue,
    platformApiKey: options.platformApiKey,
    provider: options.provider ?? createRecordingChannelProvider(store),
    outbound: { allowPrivate: options.outboundAllowPrivate ?? false },
    whatsappGraphUrl: options.whatsappGraphUrl ?? 'https://graph.facebook.com',
    router: createRouterClient(options.temporal, options.taskQueue, temporalCall),
    log: options.log,
    metrics,
    lastKnown,
    streams: new StreamHub(store.stream, options.log, options.stream),
    streamGuard: new StreamGuard(store, streamSubscriptions(options.db), options.log, { ...defaultStreamGuardOptions, ...options.stream?.guard }, lastKnown),
    sessions: options.sessions ?? defaultSessionLifetimes,
    oidc: options.oidc ? { client: createOidcClient(options.oidc), account: options.oidc.account } : undefined,
    temporalCall,
    conversations: createConversationGateway({
      temporal: options.temporal,
      taskQueue: options.taskQueue,
      call: temporalCall,
      policyVersionOf: (accountId) => policyVersions.versionOf(accountId),
    }),
    policyVersions,
    rateLimits: new RateLimits(rateSlotChunks(options.db), { ...defaultRateLimits, ...options.rateLimits }, options.log, (tier) => metrics.rateLimited.inc({ tier })),
  };
  deps.streams.onClose(() => deps.rateLimits.close());

  deps.streams.onClose(() => deps.streamGuard.close());
  // Presence follows tabs even when the API process that held them died: every process sweeps (issue 22).
  startPresenceSweep(deps);
  // SPEC 11's packs are built in the background, so a report meets a long tail only right after a burst.
  if (options.reportPacksEveryMs !== undefined) startReportPackBuilder(deps, options.reportPacksEveryMs);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // The client address anonymous requests are limited by (api/rate-limit.ts): the socket's peer unless
  // the operator names the proxies in front (TRUST_PROXY), whose X-Forwarded-For is then believed.
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(
    pinoHttp({
      logger: options.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      serializers: {
        // The provider's answer carries a single-use authorization code (and state) in the query string:
        // worthless without the client secret and the PKCE verifier, and still kept out of logs.
        req: (req: { url?: string; query?: unknown }) => {
          if (req.url?.startsWith(oidcCallbackPath)) {
            req.url = `${oidcCallbackPath}?[redacted]`;
            req.query = {};
          }
          return req;
        },
      },
    }),
  );
  app.use((req, res, next) => {
    const stop = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => stop({ route: (req.route?.path as string | undefined) ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  // Rate limits before any body is read (api/DESIGN.md "Rate limits"): requests without a credential are
  // charged to their client address here, and unsigned webhook POSTs refused without reading them.
  app.use(deps.rateLimits.beforeBodies);
  app.use('/webhooks', refuseUnsignedWebhooks(deps));
  // Provider webhooks are signed over their exact bytes: kept raw, and large (Meta batches up to 1,000 items).
  // Every parser is wrapped: whatever it fails with (too large, bad encoding or charset, a body that does
  // not decompress) answers 413 or 400 through errors.ts, never 500. Limits count decompressed bytes.
  app.use('/webhooks', readingBody(express.raw({ type: () => true, limit: '4mb' })));
  // A broadcast names up to 10,000 conversations (about 500 kB of ids); every other body stays small.
  app.use('/v1/accounts/:accountId/broadcasts', readingBody(express.json({ limit: '2mb', verify: utf8Only })));
  app.use(readingBody(express.json({ limit: '256kb', verify: utf8Only })));
  // A body none of them could read never reaches authentication: its client address pays for it.
  app.use(deps.rateLimits.unreadableBodies);

  const document = openApiDocument(routes, { title: 'convoflow', version: '1.0.0' });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use('/app', inboxPage(options.log));
  app.get('/favicon.ico', (_req, res) => void res.type('image/svg+xml').setHeader('cache-control', 'max-age=86400').send(favicon));

  const router = express.Router();
  mountRoutes(router, routes, deps);
  app.use(router);
  app.use(deps.rateLimits.uncharged);
  app.use(wrongMethod([...routes, { method: 'get', path: '/openapi.json' }, { method: 'get', path: '/metrics' }]));
  app.use((_req, _res, next) => next(new ApiError({ code: 'not_found', message: 'no such route' })));
  app.use(errorHandler);
  return { app, deps };
}
