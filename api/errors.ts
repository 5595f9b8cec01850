import type { ErrorRequestHandler } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, NamespaceNotFoundError } from '@temporalio/common';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { ZodError } from 'zod';
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
 * Maps what a handler threw to an ApiError: our own, zod validation, the lifecycle's rejection codes
 * carried as ApplicationFailure types through a failed Workflow Update, and infrastructure outages.
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
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isErrorCode(error.cause.type)) {
    return new ApiError({ code: error.cause.type, message: error.cause.message });
  }
  if (error instanceof WorkflowNotFoundError) return notFound('conversation');
  if (isMongoUnreachable(error)) {
    return new ApiError({ code: 'unavailable', message: 'the database is unavailable; try again' });
  }
  const misconfigured = temporalMisconfiguration(error);
  if (misconfigured) {
    return new ApiError({ code: 'unavailable', message: `Temporal is not set up for convoflow: ${misconfigured}; an operator must fix it (npm run setup:temporal, see README "Production")` });
  }
  if (isGrpcUnavailable(error)) return new ApiError({ code: 'unavailable', message: 'Temporal is unavailable; try again' });
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    // The update may still be applied: a retry with the same Idempotency-Key gets its one result.
    return new ApiError({ code: 'unavailable', message: 'the conversation did not answer in time; retry with the same Idempotency-Key' });
  }
  if (typeof error === 'object' && error !== null && (error as { type?: string }).type === 'entity.parse.failed') {
    return new ApiError({ code: 'validation_failed', message: 'the body is not valid JSON' });
  }
  return new ApiError({ code: 'internal', message: 'internal error' });
}

/** MongoDB could not be reached (no server selected, or the connection broke): retryable. */
export function isMongoUnreachable(error: unknown): boolean {
  return error instanceof MongoServerSelectionError || error instanceof MongoNetworkError;
}

/**
 * What Temporal said when the failure is its configuration, not the request: the namespace does not exist,
 * a search attribute is not registered, or the cluster refuses our credentials. The worker and API check
 * these at start (infra/temporal-setup.ts), but a cluster can change under a running process. Such a
 * request cannot succeed until an operator acts, which is what 503 `unavailable` says; never `internal`.
 */
export function temporalMisconfiguration(error: unknown): string | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof NamespaceNotFoundError) return `namespace ${e.namespace} does not exist`;
    const code = (e as { code?: unknown }).code;
    const said = String((e as { details?: unknown }).details || (e as { message?: unknown }).message || '');
    // 3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, 9 FAILED_PRECONDITION, 16 UNAUTHENTICATED
    if ((code === 3 || code === 9) && /search attribute/i.test(said)) return said;
    if (code === 5 && /namespace/i.test(said)) return said;
    if (code === 7 || code === 16) return `Temporal refused this application's credentials (${said})`;
  }
  return undefined;
}

function isGrpcUnavailable(error: unknown): boolean {
  // gRPC status 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED; the client wraps them as ServiceError with a cause.
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4) return true;
  }
  return false;
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
