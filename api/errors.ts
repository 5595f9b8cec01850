import type { ErrorRequestHandler } from 'express';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { ZodError } from 'zod';
import type { TemporalFailure } from '../activities/temporal-failures';
import { classifyTemporalFailure } from '../activities/temporal-failures';
import type { RejectionCode } from '../workflows/conversation/core/lifecycle';

/** Codes the API answers with that no lifecycle rule produces. */
type ApiOnlyCode = 'unauthenticated' | 'invalid_signature' | 'not_found' | 'method_not_allowed' | 'unavailable' | 'internal';

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
  unavailable: 503,
  internal: 500,
} as const satisfies Record<RejectionCode | ApiOnlyCode, number>;

export type ErrorCode = keyof typeof errorStatus;

/** Thrown by route handlers for any rejection; the one error handler below turns it into JSON. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(options: { code: ErrorCode; message: string; details?: unknown }) {
    super(options.message);
    this.code = options.code;
    this.details = options.details;
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
  if (typeof error === 'object' && error !== null && (error as { type?: string }).type === 'entity.parse.failed') {
    return new ApiError({ code: 'validation_failed', message: 'the body is not valid JSON' });
  }
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

/** The JSON body of an error answer; also what an Idempotency-Key replays. */
export function errorBody(apiError: ApiError): { error: { code: ErrorCode; message: string; details?: unknown } } {
  return { error: { code: apiError.code, message: apiError.message, ...(apiError.details ? { details: apiError.details } : {}) } };
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const apiError = toApiError(error);
  if (apiError.code === 'internal' || apiError.code === 'unavailable') req.log?.error({ err: error }, apiError.message);
  res.status(apiError.status).json(errorBody(apiError));
};
