import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { ChannelProvider } from '../activities/channel-provider';
import type { RouterClient } from '../activities/router-client';
import type { Collections } from '../store/collections';
import type { LastKnownPrincipals } from './auth';
import type { ConversationGateway } from './conversation-gateway';
import type { Metrics } from './metrics';
import type { OidcClient } from './oidc';
import type { PolicyVersionCache } from './policy-version-cache';
import type { StreamGuard } from './stream-guard';
import type { RateLimits } from './rate-limit';
import type { StreamHub } from './stream-hub';

/** Everything the API's handlers use, built once by `createApp`. */
export interface ApiDeps {
  db: Db;
  collections: Collections;
  temporal: Client;
  taskQueue: string;
  platformApiKey: string | undefined;
  provider: ChannelProvider;
  router: RouterClient;
  log: Logger;
  metrics: Metrics;
  /** Keys resolved recently, answered from memory only while MongoDB is unreachable. */
  lastKnown: LastKnownPrincipals;
  /** The account streams this process serves (GET .../stream). */
  streams: StreamHub;
  /** The streams' principals and credentials, re-checked on a timer, and their per-user cap (api/stream-guard.ts). */
  streamGuard: StreamGuard;
  /** Browser sessions: absolute lifetime and idle lifetime (SESSION_TTL, SESSION_IDLE_TTL). */
  sessions: { ttlMs: number; idleTtlMs: number };
  /** Single sign-on, when configured: the provider's client, and the one account it signs into, if any (OIDC_ACCOUNT). */
  oidc: { client: OidcClient; account: string | undefined } | undefined;
  /** Runs a Temporal call with a deadline, timing it: a stuck cluster answers 503, not a hung request. */
  temporalCall<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  /** Everything the API sends a conversation, and every workflow it starts (api/conversation-gateway.ts). */
  conversations: ConversationGateway;
  /** The accounts' stored policy versions, stamped on every input to a conversation. */
  policyVersions: PolicyVersionCache;
  /** Base URL of the Graph API (WHATSAPP_GRAPH_URL): the template registry's sync reads it. */
  whatsappGraphUrl: string;
  /** Where channels may send (OUTBOUND_ALLOW_PRIVATE: any address, plain http too). */
  outbound: { allowPrivate: boolean };
  /** Token buckets per credential and per client address (SPEC section 12, api/rate-limit.ts). */
  rateLimits: RateLimits;
}
