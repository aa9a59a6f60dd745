// One JSON object per line on stdout, which is what Knative's log collection expects. Secret-looking
// fields are redacted as a second line of defence; the first is `Secret`, which never prints its value.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import { loadEnv, oneOf, withDefault, type Env } from './config/env.js';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'http_password',
  'passwd',
  'secret',
  'token',
  'bearerToken',
  'authorization',
  'Authorization',
  'cookie',
  'apiKey',
  'api_key',
  'privateKey',
  'private_key',
  'ssh_key',
];

// pino redacts by path, not by key name anywhere in the object; three levels reach what we log (an
// event's `data.change.x`, a request's `req.headers.authorization`) without walking whole objects.
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const logEnv = { LOG_LEVEL: withDefault(oneOf(LEVELS), 'info') };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

export function loggerFromEnv(env: Env = process.env): Logger {
  return createLogger({ level: loadEnv(logEnv, env).LOG_LEVEL });
}

/** The process logger. An invalid LOG_LEVEL stops the process at start-up with an error naming it. */
export const log: Logger = loggerFromEnv();
