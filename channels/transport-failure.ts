import type { SendResult } from './types';

/**
 * A provider request whose fetch threw: the timeout fired, or the connection failed. Both are worth
 * another try. Only the error's name and code are kept, never its text (which may quote a URL or header).
 */
export function transportFailure(err: unknown, timeoutMs: number): SendResult {
  // Duck-typed: fetch's errors may come from another realm (jest's sandbox) where instanceof Error is false.
  const facts = typeof err === 'object' && err !== null ? (err as { name?: unknown; cause?: { code?: unknown } | null }) : {};
  const name = typeof facts.name === 'string' ? facts.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { outcome: 'retry', error: { code: 'timeout', message: `no answer within ${timeoutMs} ms` } };
  }
  const cause = facts.cause?.code;
  const reason = typeof cause === 'string' ? cause : name || 'unknown error';
  return { outcome: 'retry', error: { code: 'network', message: `network error: ${reason}` } };
}
