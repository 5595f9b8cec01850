import { isUtf8 } from 'node:buffer';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { ZodError } from 'zod';
import type { TemporalFailure } from '../activities/temporal-failures';
import { classifyTemporalFailure } from '../activities/temporal-failures';
import type { RejectionCode } from '../workflows/conversation/core/lifecycle';
import { maxJsonDepth, nestsDeeperThan } from '../workflows/conversation/core/limits';

/** Codes the API answers with that no lifecycle rule produces. */
type ApiOnlyCode =
  | 'unauthenticated'
  | 'invalid_signature'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'range_not_satisfiable'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'
  /** SPEC section 10: a template the registry knows and that is not APPROVED; nothing was sent. */
  | 'template_unavailable';

/**
 * Every error code the API answers with (SPEC section 5), and its HTTP status. Exhaustive over the
 * lifecycle's RejectionCode: a code added there and not here fails to compile, instead of answering
 * 500 (the `satisfies` also rejects a key that is in neither union).
 */
export const errorStatus = {
  validation_failed: 400,
  unauthenticated: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_assignee: 403,
  not_found: 404,
  method_not_allowed: 405,
  conversation_closed: 409,
  window_expired: 409,
  conflict: 409,
  template_unavailable: 409,
  payload_too_large: 413,
  range_not_satisfiable: 416,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<RejectionCode | ApiOnlyCode, number>;

export type ErrorCode = keyof typeof errorStatus;

/** Thrown by route handlers for any rejection; the one error handler below turns it into JSON. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Headers the answer carries (`Retry-After` on 429). */
  readonly headers: Record<string, string> | undefined;

  constructor(options: { code: ErrorCode; message: string; details?: unknown; headers?: Record<string, string> }) {
    super(options.message);
    this.code = options.code;
    this.details = options.details;
    this.headers = options.headers;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string) => new ApiError({ code: 'not_found', message: `${what} not found` });

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorStatus, value);
}

/**
 * Maps what a handler threw to an ApiError: our own, zod validation, Temporal's failures as
 * activities/temporal-failures.ts classifies them (the lifecycle's rejection codes carried through a
 * failed Workflow Update among them), and infrastructure outages.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) {
    return new ApiError({
      code: 'validation_failed',
      message: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      details: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  if (isMongoUnreachable(error)) {
    return new ApiError({ code: 'unavailable', message: 'the database is unavailable; try again' });
  }
  const failure = classifyTemporalFailure(error);
  if (failure) return fromTemporal[failure.kind](failure as never);
  if (error instanceof UnreadableBody) return fromBodyParser(error);
  return internalError();
}

const internalError = () => new ApiError({ code: 'internal', message: 'internal error' });

/** Each kind of Temporal failure as the API answers it; a new kind fails to compile until it is mapped here. */
const fromTemporal: { [K in TemporalFailure['kind']]: (failure: Extract<TemporalFailure, { kind: K }>) => ApiError } = {
  // Only the codes the API knows travel; any other failure type is a bug, answered as one.
  rejected: (f) => (isErrorCode(f.type) ? new ApiError({ code: f.type, message: f.message }) : internalError()),
  not_found: () => notFound('conversation'),
  misconfigured: (f) =>
    new ApiError({ code: 'unavailable', message: `Temporal is not set up for convoflow: ${f.detail}; an operator must fix it (npm run setup:temporal, see README "Production")` }),
  unavailable: () => new ApiError({ code: 'unavailable', message: 'Temporal is unavailable; try again' }),
  // The update may still be applied: a retry with the same Idempotency-Key gets its one result.
  update_in_doubt: () => new ApiError({ code: 'unavailable', message: 'the conversation did not answer in time; retry with the same Idempotency-Key' }),
};

/** MongoDB could not be reached (no server selected, or the connection broke): retryable. */
export function isMongoUnreachable(error: unknown): boolean {
  return error instanceof MongoServerSelectionError || error instanceof MongoNetworkError;
}

/**
 * Whatever a body parser (body-parser, raw-body, the zlib stream decompressing the body) failed with,
 * as `readingBody` catches it. Every such failure is the request's fault: the one mapping below answers
 * 413 or 400, never 500, whatever new `type` a library version adds.
 */
export class UnreadableBody extends Error {
  override name = 'UnreadableBody';
  constructor(
    readonly reason: unknown,
    /** The request's content-encoding, to name it when decompressing failed. */
    readonly contentEncoding: string | undefined,
  ) {
    super('the body could not be read');
  }

  /** What the log may say about it: the parser's error type and code, never the body (body-parser keeps it on the error). */
  get summary(): { type?: unknown; code?: unknown; status?: unknown } {
    const reason = (typeof this.reason === 'object' && this.reason !== null ? this.reason : {}) as Record<string, unknown>;
    return { type: reason.type, code: reason.code, status: reason.status };
  }
}

/** Marks a body that is not UTF-8 (body-parser's `verify` failing with it keeps it as the reason). */
class NotUtf8 extends Error {
  override name = 'NotUtf8';
  readonly notUtf8 = true;
}

/**
 * A JSON parser's `verify`: bytes that are not UTF-8 are refused (400) rather than decoded into
 * replacement characters and stored as if the client had sent them.
 */
export function utf8Only(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw new NotUtf8('the body is not valid UTF-8');
}

/** A body parser whose failures reach the error handler as UnreadableBody (the same parser otherwise). */
export function readingBody(parser: RequestHandler): RequestHandler {
  return (req, res, next) =>
    parser(req, res, (error?: unknown) => {
      // JSON.parse reads any nesting without recursion, but what handles the value next (validation,
      // BSON, JSON.stringify) recurses: a body nested deeper than SPEC section 12's 32 levels is refused
      // here, by an iterative check that stops at the 33rd level.
      if (error === undefined && !Buffer.isBuffer(req.body) && nestsDeeperThan(req.body as unknown, maxJsonDepth)) {
        return next(new ApiError({ code: 'validation_failed', message: `body: nested more than ${maxJsonDepth} levels deep` }));
      }
      if (error === undefined || error === 'route' || error === 'router') return next(error as undefined);
      const encoding = req.headers['content-encoding'];
      next(new UnreadableBody(error, typeof encoding === 'string' ? encoding : undefined));
    });
}

/** A header value quoted in a message: short, printable; the body itself is never quoted. */
const quoted = (value: unknown) => String(value).replace(/[^\x20-\x7e]/g, '?').slice(0, 64);

const bytesIn = (limit: unknown) =>
  typeof limit !== 'number' ? 'the limit' : limit % 1_048_576 === 0 ? `${limit / 1_048_576} MiB` : limit % 1024 === 0 ? `${limit / 1024} KiB` : `${limit} bytes`;

/** Body-parser's and raw-body's error types (and zlib's, which carry none) as SPEC section 12 answers them. */
function fromBodyParser(unreadable: UnreadableBody): ApiError {
  const reason = (typeof unreadable.reason === 'object' && unreadable.reason !== null ? unreadable.reason : {}) as Record<string, unknown>;
  const invalid = (message: string) => new ApiError({ code: 'validation_failed', message });
  switch (reason.type) {
    case 'entity.too.large':
      return new ApiError({ code: 'payload_too_large', message: `the body is larger than ${bytesIn(reason.limit)} (counted after decompression), the most this route reads` });
    case 'entity.parse.failed':
      // The parser's own message quotes the body: not repeated.
      return invalid('the body is not valid JSON');
    case 'encoding.unsupported':
      return invalid(`content-encoding: ${quoted(reason.encoding ?? unreadable.contentEncoding)} is not supported; send gzip, deflate, br or identity`);
    case 'charset.unsupported':
      return invalid(`charset=${quoted(reason.charset)} is not supported; send utf-8`);
    case 'entity.verify.failed':
      return invalid(reason.notUtf8 === true ? 'the body is not valid UTF-8: send JSON as UTF-8' : 'the body failed verification');
    case 'request.aborted':
      return invalid('the request was aborted before its body was read');
    case 'request.size.invalid':
      return invalid('the body is not as long as its content-length says');
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return invalid('the body could not be read');
  }
  // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR, Brotli's ERR__ERROR_FORMAT_*) have no type: the body did not decompress.
  if (unreadable.contentEncoding && typeof reason.code === 'string') {
    return invalid(`the body is not valid ${quoted(unreadable.contentEncoding)} data (content-encoding: ${quoted(unreadable.contentEncoding)})`);
  }
  return reason.status === 413 ? new ApiError({ code: 'payload_too_large', message: 'the body is too large' }) : invalid('the body could not be read');
}

/** The JSON body of an error answer; also what an Idempotency-Key replays. */
export function errorBody(apiError: ApiError): { error: { code: ErrorCode; message: string; details?: unknown } } {
  return { error: { code: apiError.code, message: apiError.message, ...(apiError.details ? { details: apiError.details } : {}) } };
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const apiError = toApiError(error);
  // Anyone can send a bad body, before authentication: a warning, with what failed and none of the body.
  if (error instanceof UnreadableBody) req.log?.warn({ bodyError: error.summary }, apiError.message);
  else if (apiError.code === 'internal' || apiError.code === 'unavailable') req.log?.error({ err: error }, apiError.message);
  if (apiError.headers) res.set(apiError.headers);
  // Set, not left to res.json(): a handler that chose another type before it threw (the WhatsApp
  // handshake's text/plain) would otherwise label the JSON error with it.
  res.status(apiError.status).type('application/json').json(errorBody(apiError));
};
