import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Access, Principal } from './auth';
import { authenticate, authorize, presentedSecretOf } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, errorStatus } from './errors';
import { fingerprintOf, idempotencyKeyOf, principalScope, withIdempotency } from './idempotency';

/**
 * One declaration per route: the path, who may call it, the schemas of its input, and its handler.
 * The router and /openapi.json are both generated from these, so the spec cannot drift from the code.
 */
export interface RouteDef<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI form: `/v1/accounts/{accountId}`. */
  path: string;
  summary: string;
  /** Omitted only for the unauthenticated probes. */
  allow?: readonly Access[];
  body?: B;
  /** The body as received (a Buffer), for routes that check a signature over its exact bytes. */
  rawBody?: true;
  /** The body is a file of one of these types, which the handler streams itself (POST .../media). */
  upload?: { mimeTypes: string[] };
  /** The success answer is the bytes of a stored file, of its own type (GET .../media/{id}). */
  binary?: true;
  query?: Q;
  /** The success answer's schema, for /openapi.json; routes without one are documented as an object. */
  response?: z.ZodType;
  /** The success answer is a plain-text string, not JSON (the WhatsApp handshake's challenge). */
  plainText?: true;
  status?: number;
  /**
   * The answer holds a secret shown once (a key, a stream ticket): with an Idempotency-Key it is stored
   * sealed under the caller's credential, never in plaintext (api/idempotency.ts), so a retry with the
   * same credential answers the same secret and makes no second one.
   */
  answersSecret?: true;
  /**
   * Resolves the caller some other way than the bearer key (the stream's single-use ticket); answers
   * undefined to fall back to the bearer key. The route's `allow` still applies.
   */
  authenticate?: (ctx: { deps: ApiDeps; req: Request; query: z.output<Q> }) => Promise<Principal | undefined>;
  /** Refusals worth naming in /openapi.json beside `default` (status: when), e.g. `{ 429: 'too many streams' }`. */
  refusals?: Record<number, string>;
  handler: (ctx: RouteContext<z.output<B>, z.output<Q>>) => Promise<unknown>;
}

export interface RouteContext<B, Q> {
  deps: ApiDeps;
  req: Request;
  res: Response;
  principal: Principal;
  params: Record<string, string>;
  body: B;
  query: Q;
}

/** A handler's answer with a status other than the route's usual one (a broadcast still running: 202). */
export class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

export function defineRoute<B extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown>(def: RouteDef<B, Q>): RouteDef {
  return def as unknown as RouteDef;
}

export function mountRoutes(router: Router, routes: RouteDef[], deps: ApiDeps): void {
  for (const def of routes) {
    const expressPath = def.path.replace(/\{(\w+)\}/g, ':$1');
    router[def.method](expressPath, async (req, res) => {
      const params = req.params as Record<string, string>;
      const query = def.query ? def.query.parse(req.query) : undefined;
      const principal: Principal = def.allow ? await authenticatedCaller(def, deps, req, res, query) : { kind: 'platform' };
      // Webhook POSTs are charged in their route, and only when their signature fails (SPEC section 12).
      if (!def.allow && !def.rawBody) await deps.rateLimits.chargeAddress(req, res);
      if (def.allow) authorize(principal, def.allow, params.accountId);
      // express.json() leaves other media types unread: say so rather than report every field missing.
      if (def.body && req.is('application/json') === false) {
        throw new ApiError({ code: 'validation_failed', message: `send the body as JSON with content-type: application/json (got ${req.headers['content-type'] ?? 'none'})` });
      }
      const body = def.body ? def.body.parse(req.body ?? {}) : undefined;
      const run = async () => {
        const result = await def.handler({ deps, req, res, principal, params, body, query });
        return result instanceof Answer ? result : new Answer(def.status ?? 200, result);
      };
      // Every authenticated mutating route honours Idempotency-Key across runs, processes and restarts.
      const key = def.allow && def.method !== 'get' ? idempotencyKeyOf(req.header('idempotency-key')) : undefined;
      const sealWith = def.answersSecret ? presentedSecretOf(req) : undefined;
      // An answer with a secret is stored only sealed; with no credential to seal it under, not at all.
      if (key === undefined || (def.answersSecret && sealWith === undefined)) {
        const answer = await run();
        if (!res.headersSent) res.status(answer.status).json(answer.body);
        return;
      }
      const request = {
        accountId: params.accountId ?? '',
        principal: principalScope(principal),
        key,
        fingerprint: fingerprintOf(def.method, req.path, req.body ?? {}),
        sealWith,
      };
      const answer = await withIdempotency(deps.collections.idempotency, request, run);
      if (answer.replayed) res.setHeader('idempotent-replayed', 'true');
      res.status(answer.status).json(answer.body);
    });
  }
}

/**
 * The caller, charged to its credential's token bucket (api/rate-limit.ts). A credential that does not
 * authenticate is charged to the client address instead, so guessing keys is limited like anonymous
 * requests: past that bucket the answer is 429, not 401.
 */
async function authenticatedCaller(def: RouteDef, deps: ApiDeps, req: Request, res: Response, query: unknown): Promise<Principal> {
  let principal: Principal;
  try {
    principal = (await def.authenticate?.({ deps, req, query })) ?? (await authenticate(req, deps.collections, deps.platformApiKey, deps.lastKnown));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthenticated') await deps.rateLimits.chargeAddress(req, res);
    throw error;
  }
  await deps.rateLimits.chargePrincipal(req, res, principal);
  return principal;
}

/** OpenAPI 3.1 from the same declarations; zod 4 emits JSON Schema 2020-12, which 3.1 uses as is. */
export function openApiDocument(routes: RouteDef[], info: { title: string; version: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const def of routes) {
    const parameters = [...def.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    if (def.query) {
      const schema = z.toJSONSchema(def.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: (schema.required ?? []).includes(name), schema: prop as never });
      }
    }
    const success = def.response ? z.toJSONSchema(def.response, { io: 'output', unrepresentable: 'any' }) : { type: 'object' };
    const operation: Record<string, unknown> = {
      operationId: operationIdOf(def),
      summary: def.summary,
      parameters,
      responses: {
        [String(def.status ?? 200)]: {
          description: 'success',
          content: def.binary
            ? { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } }
            : def.plainText
              ? { 'text/plain': { schema: { type: 'string' } } }
              : { 'application/json': { schema: success } },
        },
        '429': rateLimitedResponse,
        ...Object.fromEntries(Object.entries(def.refusals ?? {}).map(([status, description]) => [status, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }])),
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (def.answersSecret && def.allow) {
      operation.description =
        'The answer holds a secret shown once. With an Idempotency-Key it is stored only encrypted under the credential that asked: a retry with that credential answers the same secret and makes no second one; the same caller with another credential gets 409 conflict, and nothing acts again.';
    }
    if (def.allow) {
      operation.security = [{ bearer: [] }];
      operation['x-allowed'] = def.allow;
    }
    if (def.rawBody) {
      operation.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              description:
                "the provider's webhook body, checked against its signature byte for byte; at most 1,000 items (messages and statuses) and 32 levels of nesting, else 400; " +
                'a text or caption over 4,096 characters is recorded cut, with `truncated: true` on the message',
            },
          },
        },
      };
    }
    if (def.upload) {
      const file = { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };
      operation.requestBody = { required: true, content: Object.fromEntries(def.upload.mimeTypes.map((type) => [type, file])) };
    }
    if (def.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: z.toJSONSchema(def.body, { io: 'input', unrepresentable: 'any' }) } },
      };
    }
    (paths[def.path] ??= {})[def.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(errorStatus) },
                message: { type: 'string' },
                // Validation failures name each field: [{ path, message }].
                details: {
                  type: 'array',
                  items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
                },
              },
            },
          },
        },
      },
    },
  };
}

/** SPEC section 12: every route answers 429 past its caller's token bucket (README "Limits"). */
const rateLimitedResponse = {
  description: "rate_limited: past the token bucket of the caller's key or session (or of its client address, without one)",
  headers: {
    'Retry-After': { description: 'whole seconds (at least 1) until the bucket has a token again', schema: { type: 'integer', minimum: 1 } },
  },
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/**
 * A stable operationId from the method and the path: its fixed segments in camelCase, and `By<Param>`
 * when the path ends in a parameter (`GET /v1/accounts/{accountId}/users/{userId}/keys` is
 * `getAccountsUsersKeys`, `DELETE .../keys/{keyId}` is `deleteAccountsUsersKeysByKeyId`).
 */
export function operationIdOf(def: Pick<RouteDef, 'method' | 'path'>): string {
  const segments = def.path.split('/').filter((segment) => segment && segment !== 'v1');
  const words = segments.filter((segment) => !segment.startsWith('{')).flatMap((segment) => segment.split(/[-_.]/));
  const last = segments.at(-1);
  if (last?.startsWith('{')) words.push('by', last.slice(1, -1));
  return def.method + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}
