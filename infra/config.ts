import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../workflows/conversation/core/durations';
import { defaultTaskQueue } from '../workflows/conversation/messages';
import type { RateTier } from '../api/slot-bucket';
import { parseRateTier } from '../api/slot-bucket';

/**
 * Process configuration, read once from the environment at start (STYLE habit 8). A wrong value throws a
 * ConfigError naming the variable, and every `main` exits on it before anything listens.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/**
 * Workflows the worker keeps in memory (the SDK's sticky cache). A conversation that is not cached is
 * replayed from its history at its next input.
 */
export const defaultWorkerMaxCachedWorkflows = 2_500;

/** A duration such as `10m` or `30s` (workflows/conversation/durations.ts), in milliseconds, at least `minMs`. */
const duration = (fallback: string, minMs = 1) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v === '' ? fallback : v);
      if (ms === undefined || ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be a duration${minMs >= 1000 ? ` of at least ${minMs / 1000}s` : ''}, like "30s", "10m", "12h" or "7d"` });
        return z.NEVER;
      }
      return ms;
    });

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
/** https, or http on a loopback host (a provider or API run on this machine: development and tests). */
const webUrl = optionalString.pipe(
  z
    .url({ protocol: /^https?$/ })
    .refine((v) => new URL(v).protocol === 'https:' || loopbackHosts.has(new URL(v).hostname), 'must be https (http only on localhost, 127.0.0.1 or [::1])')
    .optional(),
);

/** 32 bytes, base64 (or base64url), as `openssl rand -base64 32` writes them. */
const secretsKey = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 bytes in base64 (openssl rand -base64 32)')
  .transform((v) => Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))
  .refine((key) => key.length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)');
/** `rate/burst` per second (`"50/100"`), SPEC section 12's rate limits. */
const rateTier = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx) => {
      const tier = parseRateTier(v === '' ? fallback : v);
      if (!tier) {
        ctx.addIssue({ code: 'custom', message: 'must be "rate/burst", requests per second and the bucket size, like "50/100" (rate 1 to 100000, burst at least 1)' });
        return z.NEVER;
      }
      return tier;
    });

/**
 * Express's `trust proxy`: `false` (the socket's peer is the client), a number of proxy hops, or a list of
 * proxy addresses, CIDRs and the names `loopback`, `linklocal`, `uniquelocal`. `true` would believe any
 * X-Forwarded-For, which lets every client pick its own rate-limit bucket: refused.
 */
const trustProxy = z
  .string()
  .trim()
  .default('false')
  .transform((v, ctx) => {
    if (v === '' || v === 'false') return false;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    if (v === 'true' || !/^[\w.:/,\s-]+$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be false, a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs (loopback, linklocal, uniquelocal allowed); not true' });
      return z.NEVER;
    }
    return v;
  });

const schema = z.object({
  PORT: port.default(3000),
  PLATFORM_API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  TEMPORAL_ADDRESS: optionalString.pipe(
    z
      .string()
      .regex(/^[^\s:/]+:\d+$/, 'must be host:port')
      .optional(),
  ),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default(defaultTaskQueue),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  TEMPORAL_SETUP: z.enum(['check', 'register']).default('check'),
  MONGODB_URI: optionalString.pipe(
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .optional(),
  ),
  MONGODB_DATABASE: z.string().trim().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be a plain database name').default('convoflow'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  FERRETDB_PORT: port.default(27017),
  WHATSAPP_GRAPH_URL: z
    .url({ protocol: /^https?$/ })
    .refine((v) => new URL(v).protocol === 'https:' || loopbackHosts.has(new URL(v).hostname), 'must be https (http only on localhost, 127.0.0.1 or [::1])')
    .default('https://graph.facebook.com'),
  // Where channels may send (SPEC section 12): true lifts the https and public-address rules of webhook channels.
  OUTBOUND_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  // Channel secrets at rest (store/secret-box.ts): the key that seals them, and older keys that still open them.
  SECRETS_KEY: optionalString.pipe(secretsKey.optional()),
  SECRETS_KEY_PREVIOUS: optionalString.pipe(
    z
      .string()
      .transform((v) => v.split(',').map((part) => part.trim()))
      .pipe(z.array(secretsKey))
      .optional(),
  ),
  WORKER_METRICS_PORT: optionalString.pipe(z.string().regex(/^\d{1,5}$/, 'must be a port number').transform(Number).pipe(z.number().min(1).max(65535)).optional()),
  WORKER_MAX_CACHED_WORKFLOWS: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,7}$/, 'must be a whole number')
      .transform(Number)
      // The SDK runs up to 40 workflow tasks at once and caps that at the cache size (below 2 it refuses).
      .refine((n) => n === 0 || n >= 40, 'must be 0 (no cache: every workflow task replays its history) or at least 40')
      .optional(),
  ),
  // SPEC 11: the worker keeps the episode rows on every persist; `false` only to measure their cost (bench `reports`).
  WORKER_EPISODE_ROWS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  PRESENCE_AWAY_AFTER: duration('10m'),
  PRESENCE_OFFLINE_AFTER: duration('30s'),
  STREAM_MAX_PER_USER: z.coerce.number().int('must be a whole number').min(1).max(1000).default(5),
  // Signing in (README "Signing in"): browser sessions, and single sign-on through an OpenID Connect provider.
  PUBLIC_URL: webUrl,
  SESSION_TTL: duration('7d', 1_000),
  SESSION_IDLE_TTL: duration('12h', 1_000),
  OIDC_ISSUER: webUrl,
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_REDIRECT_URL: webUrl,
  OIDC_ACCOUNT: optionalString.pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be an account id').optional()),
  // Rate limits (README "Rate limits"): user keys and sessions, service keys and the platform key, requests without a credential per client address.
  RATE_LIMIT_USER: rateTier('50/100'),
  RATE_LIMIT_SERVICE: rateTier('500/1000'),
  RATE_LIMIT_ANONYMOUS: rateTier('20/40'),
  TRUST_PROXY: trustProxy,
  // SPEC 11: how often each API process builds the reports' packs in the background; `off`: never.
  REPORT_PACKS_EVERY: z
    .string()
    .trim()
    .default('15s')
    .transform((v, ctx) => {
      if (v === 'off') return null;
      const ms = parseDuration(v === '' ? '15s' : v);
      if (ms === undefined || ms < 1_000) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration of at least 1s, like "15s" or "1m", or "off"' });
        return z.NEVER;
      }
      return ms;
    }),
});

/** Single sign-on through an OpenID Connect provider (api/oidc.ts); absent when OIDC_ISSUER is not set. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Never logged, never returned. */
  clientSecret: string;
  /** Where the provider sends the browser back: `{PUBLIC_URL}/v1/auth/oidc/callback` unless set. */
  redirectUrl: string;
  /** Only users of this account sign in this way; undefined: any account (an e-mail in two accounts needs `?account=`). */
  account: string | undefined;
}

export type Config = {
  port: number;
  platformApiKey: string | undefined;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    tls: boolean;
    /** At start the worker and API check the namespace and search attributes; `register` adds what is missing. */
    setup: 'check' | 'register';
  };
  mongo: { uri: string | undefined; database: string };
  /** Where WhatsApp Cloud API sends go (tests point it at a fake Graph API). */
  whatsappGraphUrl: string;
  /** OUTBOUND_ALLOW_PRIVATE: webhook channels may name plain http and loopback or private addresses. */
  outbound: { allowPrivate: boolean };
  /** SECRETS_KEY seals channel secrets; SECRETS_KEY_PREVIOUS still opens what older keys sealed. Never logged. */
  secrets: { key: Buffer | undefined; previous: Buffer[] };
  /** The port on which the worker serves Prometheus metrics (`/metrics`, every interface); undefined: none. */
  workerMetricsPort: number | undefined;
  /** How many workflows the worker keeps cached; the rest are replayed from history at their next input. */
  workerMaxCachedWorkflows: number;
  /** WORKER_EPISODE_ROWS: SPEC 11's episode rows kept by persist (default true; false only to measure their cost). */
  workerEpisodeRows: boolean;
  /** Presence that follows the tabs (docs/presence.md): idle this long is away; the last tab gone this long is offline. */
  presence: { awayAfterMs: number; offlineGraceMs: number };
  /** Account streams open at once per user (or service key), across API processes; one more answers 429. */
  streamMaxPerUser: number;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  embedded: { temporalPort: number; temporalUiPort: number; ferretdbPort: number };
  /** A browser session's absolute lifetime, and how long it lives unused. */
  sessions: { ttlMs: number; idleTtlMs: number };
  oidc: OidcConfig | undefined;
  /** Token buckets per credential and per client address (api/rate-limit.ts). */
  rateLimits: { user: RateTier; service: RateTier; anonymous: RateTier };
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client address. */
  trustProxy: boolean | number | string;
  /** REPORT_PACKS_EVERY: the reports pack builder's interval in each API process; null: off. */
  reportPacksEveryMs: number | null;
};

/** The variables this file accepts: docker-compose and .env.example are checked against this list. */
export const configVariables = Object.keys(schema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const oidc = oidcConfigOf(e);
  return {
    port: e.PORT,
    platformApiKey: e.PLATFORM_API_KEY,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS,
      setup: e.TEMPORAL_SETUP,
    },
    mongo: { uri: e.MONGODB_URI, database: e.MONGODB_DATABASE },
    whatsappGraphUrl: e.WHATSAPP_GRAPH_URL.replace(/\/+$/, ''),
    outbound: { allowPrivate: e.OUTBOUND_ALLOW_PRIVATE },
    secrets: { key: e.SECRETS_KEY, previous: e.SECRETS_KEY_PREVIOUS ?? [] },
    workerMetricsPort: e.WORKER_METRICS_PORT,
    workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS ?? defaultWorkerMaxCachedWorkflows,
    workerEpisodeRows: e.WORKER_EPISODE_ROWS,
    presence: { awayAfterMs: e.PRESENCE_AWAY_AFTER, offlineGraceMs: e.PRESENCE_OFFLINE_AFTER },
    streamMaxPerUser: e.STREAM_MAX_PER_USER,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    embedded: {
      temporalPort: e.TEMPORAL_DEV_PORT,
      temporalUiPort: e.TEMPORAL_UI_PORT,
      ferretdbPort: e.FERRETDB_PORT,
    },
    sessions: { ttlMs: e.SESSION_TTL, idleTtlMs: Math.min(e.SESSION_IDLE_TTL, e.SESSION_TTL) },
    oidc,
    rateLimits: { user: e.RATE_LIMIT_USER, service: e.RATE_LIMIT_SERVICE, anonymous: e.RATE_LIMIT_ANONYMOUS },
    trustProxy: e.TRUST_PROXY,
    reportPacksEveryMs: e.REPORT_PACKS_EVERY,
  };
}

/** All of the provider's settings or none: half a configuration is an error, not SSO quietly off. */
function oidcConfigOf(e: z.output<typeof schema>): OidcConfig | undefined {
  const given = { OIDC_ISSUER: e.OIDC_ISSUER, OIDC_CLIENT_ID: e.OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: e.OIDC_CLIENT_SECRET };
  const redirectUrl = e.OIDC_REDIRECT_URL ?? (e.PUBLIC_URL ? `${e.PUBLIC_URL.replace(/\/+$/, '')}/v1/auth/oidc/callback` : undefined);
  if (Object.values(given).every((v) => v === undefined) && e.OIDC_REDIRECT_URL === undefined && e.OIDC_ACCOUNT === undefined) return undefined;
  const missing = Object.entries(given)
    .filter(([, v]) => v === undefined)
    .map(([name]) => `${name}: required when single sign-on is configured`);
  if (redirectUrl === undefined) missing.push('OIDC_REDIRECT_URL: required when single sign-on is configured (or set PUBLIC_URL)');
  if (missing.length > 0) throw new ConfigError(`invalid configuration:\n  ${missing.join('\n  ')}`);
  return { issuer: e.OIDC_ISSUER!, clientId: e.OIDC_CLIENT_ID!, clientSecret: e.OIDC_CLIENT_SECRET!, redirectUrl: redirectUrl!, account: e.OIDC_ACCOUNT };
}

/** Worker and API need both addresses; `npm start` fills them in for the embedded servers. */
export function requireServers(config: Config): { temporalAddress: string; mongoUri: string } {
  if (!config.temporal.address) throw new ConfigError('TEMPORAL_ADDRESS: required for this process');
  if (!config.mongo.uri) throw new ConfigError('MONGODB_URI: required for this process');
  return { temporalAddress: config.temporal.address, mongoUri: config.mongo.uri };
}

/**
 * SECRETS_KEY is required when MONGODB_URI names a database beyond this machine: channel secrets must
 * not sit there in plaintext. `npm start` always provides one (generated into DATA_DIR); a database on
 * loopback (the embedded FerretDB, a process run by hand) may do without, and then stores them as given.
 */
export function requireSecretsKey(config: Config): void {
  if (config.secrets.key !== undefined || config.mongo.uri === undefined || !namesExternalDatabase(config.mongo.uri)) return;
  throw new ConfigError(
    'SECRETS_KEY: required when MONGODB_URI names an external database (channel secrets are stored encrypted with it); ' +
      'generate one with `openssl rand -base64 32` and keep it: secrets stored with it cannot be read without it',
  );
}

/** A mongodb+srv URI, or any host that is not loopback. */
export function namesExternalDatabase(uri: string): boolean {
  if (uri.startsWith('mongodb+srv://')) return true;
  const hosts = uri.replace(/^mongodb:\/\//, '').replace(/^[^@/]*@/, '').split(/[/?]/)[0] ?? '';
  return hosts.split(',').some((host) => !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host));
}
