import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import type { Logger } from 'pino';

const pinoLevel = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<LogLevel, string>;

/**
 * The Temporal SDK's logger (worker lifecycle, workflow and activity failures, the Rust core's
 * warnings) writing through our pino logger, so its lines get the same level, format and credential
 * redaction as ours (infra/logger.ts) instead of going to the console unfiltered.
 */
export function sdkLoggerOf(log: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    // The SDK keys some metadata by symbol; pino serializes only string keys, which is what we want.
    // It passes a failure as `error`; pino writes an Error's name, message and stack only under `err`
    // (an Error's own fields are not enumerable: `error` alone logs as {}).
    const { error, ...rest } = meta ?? {};
    log[pinoLevel[level]]({ sdk: true, ...rest, ...(error === undefined ? {} : error instanceof Error ? { err: error } : { error }) }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
