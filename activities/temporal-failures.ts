import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, NamespaceNotFoundError } from '@temporalio/common';

/**
 * What a failed call to Temporal means, read once here for the API (api/errors.ts maps it to HTTP) and
 * for the activities that call conversations themselves (the broadcast chunk). Each kind says what the
 * caller may do about it; nobody else walks an error's `cause` chain.
 */
export type TemporalFailure =
  /** Thrown when a Workflow Update's validator or handler refused with an `ApplicationFailure` typed by a rejection code. */
  | { kind: 'rejected'; type: string; message: string }
  /** Thrown when no running workflow has the id (a signal or update to a conversation that does not exist). */
  | { kind: 'not_found' }
  /** Thrown when Temporal's own configuration refuses the call (namespace, search attribute, credentials): an operator must act. */
  | { kind: 'misconfigured'; detail: string }
  /** Thrown when the cluster cannot be reached or did not answer before the deadline (gRPC 14, 4): retry. */
  | { kind: 'unavailable' }
  /** Thrown when an update's call timed out or was cancelled in flight: it may still apply; retry with the same update id. */
  | { kind: 'update_in_doubt' };

/** The failure Temporal reported, or undefined for an error that is not one of these (a bug, another system). */
export function classifyTemporalFailure(error: unknown): TemporalFailure | undefined {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && typeof error.cause.type === 'string') {
    return { kind: 'rejected', type: error.cause.type, message: error.cause.message };
  }
  if (error instanceof WorkflowNotFoundError) return { kind: 'not_found' };
  const misconfigured = temporalMisconfiguration(error);
  if (misconfigured) return { kind: 'misconfigured', detail: misconfigured };
  if (isGrpcUnavailable(error)) return { kind: 'unavailable' };
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'update_in_doubt' };
  return undefined;
}

/** Thrown when no running workflow has the id: for callers to whom that is an answer, not a failure. */
export const isWorkflowNotFound = (error: unknown): boolean => error instanceof WorkflowNotFoundError;

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
