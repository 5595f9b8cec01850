import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

/**
 * Every process's logger (API, worker, tests that capture logs) comes from here, so credentials are
 * kept out of every log line in one place.
 *
 * Redaction works on the finished JSON line (pino's `streamWrite` hook), not on chosen paths: what
 * carries a secret differs by caller (pino-http's `req.headers.authorization`, a webhook's
 * `?hub.verify_token=` in `req.url` and `req.query`, a channel body's `accessToken` nested anywhere, an
 * error message quoting a key), and a path list misses whatever nobody listed. On the text we remove
 * - the value of every JSON member whose name says it is a credential (`authorization`, `cookie`,
 *   anything containing `token`, `secret`, `password` or `apiKey`/`api_key`/`api-key`), at any depth,
 *   also inside an escaped JSON string (an error message that quotes a body);
 * - the value of such a parameter in any query string;
 * - whatever follows `Bearer ` or `Basic `;
 * - convoflow's own keys and session tokens (`cf_u_...`, `cf_s_...`, `cf_c_...`) wherever they appear.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const redacted = '[redacted]';

const secretName = String.raw`[^"\\]*?(?:authorization|cookie|token|secret|password|passwd|api[-_]?key)[^"\\]*`;
/** `"name": "value"` with a secret name: the value goes. */
const jsonMember = new RegExp(String.raw`("${secretName}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi');
/** The same inside a JSON string: `\"name\":\"value\"`. */
const escapedJsonMember = new RegExp(String.raw`(\\"${secretName}\\"\s*:\s*)\\"(?:(?!\\").)*\\"`, 'gi');
/** `?name=value` or `&name=value` with a secret name, in any URL or query string. */
const queryParameter = /([?&][^=&"\s\\]*?(?:token|secret|password|passwd|api[-_]?key)[^=&"\s\\]*=)[^&"#\s\\]*/gi;
const authScheme = /\b(Bearer|Basic)\s+[^\s"\\]+/gi;
const convoflowKey = /\b(cf_[usc]_)[A-Za-z0-9_-]+/g;

/** Removes credentials from one serialized log line (see above). Exported for tests. */
export function redactSecrets(line: string): string {
  return line
    .replace(jsonMember, `$1"${redacted}"`)
    .replace(escapedJsonMember, `$1\\"${redacted}\\"`)
    .replace(queryParameter, `$1${redacted}`)
    .replace(authScheme, `$1 ${redacted}`)
    .replace(convoflowKey, `$1${redacted}`);
}

export interface LoggerOptions {
  level: LogLevel;
  /** Fields on every line, e.g. `{ process: 'api' }`. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      ...(options.base ? { base: options.base } : {}),
      // Child loggers (pino-http's per request ones included) inherit the hook.
      hooks: { streamWrite: redactSecrets },
    },
    options.destination ?? pino.destination(1),
  );
}
