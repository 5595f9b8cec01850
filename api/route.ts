import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Access, Principal } from './auth';
import { authenticate, authorize } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, errorStatus } from './errors';

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
  query?: Q;
  /** The success answer's schema, for /openapi.json; routes without one are documented as an object. */
  response?: z.ZodType;
  status?: number;
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

export function defineRoute<B extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown>(def: RouteDef<B, Q>): RouteDef {
  return def as unknown as RouteDef;
}

export function mountRoutes(router: Router, routes: RouteDef[], deps: ApiDeps): void {
  for (const def of routes) {
    const expressPath = def.path.replace(/\{(\w+)\}/g, ':$1');
    router[def.method](expressPath, async (req, res) => {
      const params = req.params as Record<string, string>;
      const principal: Principal = def.allow
        ? await authenticate(req, deps.collections, deps.platformApiKey, deps.lastKnown)
        : { kind: 'platform' };
      if (def.allow) authorize(principal, def.allow, params.accountId);
      // express.json() leaves other media types unread: say so rather than report every field missing.
      if (def.body && req.is('application/json') === false) {
        throw new ApiError({ code: 'validation_failed', message: `send the body as JSON with content-type: application/json (got ${req.headers['content-type'] ?? 'none'})` });
      }
      const body = def.body ? def.body.parse(req.body ?? {}) : undefined;
      const query = def.query ? def.query.parse(req.query) : undefined;
      const result = await def.handler({ deps, req, res, principal, params, body, query });
      if (!res.headersSent) res.status(def.status ?? 200).json(result);
    });
  }
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
        [String(def.status ?? 200)]: { description: 'success', content: { 'application/json': { schema: success } } },
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (def.allow) {
      operation.security = [{ bearer: [] }];
      operation['x-allowed'] = def.allow;
    }
    if (def.rawBody) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: { type: 'object', description: "the provider's webhook body, checked against its signature byte for byte" } } },
      };
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
