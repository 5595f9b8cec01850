import type { SendResult } from './types';
import { OutboundError } from './outbound-http';

/**
 * A provider request that got no answer (channels/outbound-http.ts): a forbidden destination is final
 * (`destination_forbidden`: sending again reaches the same place); no answer in time (`timeout`) and a
 * failed connection (`network`) are worth another try. The message is the client's own, never remote
 * text; anything else thrown (a substituted client) is a network error whose text is not kept either.
 */
export function transportFailure(err: unknown): SendResult {
  if (!(err instanceof OutboundError)) return { outcome: 'retry', error: { code: 'network', message: 'network error: unknown' } };
  const error = { code: err.code, message: err.message };
  switch (err.code) {
    // Only downloads count bytes (getOutboundStream); the same file is as large next time.
    case 'destination_forbidden':
    case 'too_large':
      return { outcome: 'failed', error };
    case 'timeout':
    case 'network':
      return { outcome: 'retry', error };
  }
}
