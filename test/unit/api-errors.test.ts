import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { toApiError } from '../../api/errors';

describe('errors the API answers for Temporal trouble', () => {
  test('an update that timed out or was cancelled in flight is 503 unavailable, not 500: a retry is safe', () => {
    const error = toApiError(new WorkflowUpdateRPCTimeoutOrCancelledError('Deadline exceeded after 15.000s', { cause: new Error('4 DEADLINE_EXCEEDED') }));
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(/Idempotency-Key/);
  });

  test('gRPC UNAVAILABLE anywhere in the cause chain is 503 unavailable', () => {
    expect(toApiError(Object.assign(new Error('outer'), { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) })).code).toBe('unavailable');
  });

  test('anything unknown is 500 internal', () => {
    expect(toApiError(new Error('boom')).code).toBe('internal');
  });
});
