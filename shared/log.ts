// One JSON object per line on stdout, which is what Knative's log collection expects. Secret-looking
// fields are redacted as a second line of defence (redactSecrets); the first is `Secret`, which never prints
// its value.
//
// Levels: error, an event that will be retried; warn, one refused for good or something a person must look at;
// info, what happened that a person acts on or looks for (a run started, a vote posted, a namespace
// provisioned); debug, the routine no-ops that most events end in (events/handler.ts, ROUTINE_RESULTS) and the
// `make dev` stand-ins' deliveries. LOG_LEVEL=debug shows them.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import { loadEnv, oneOf, withDefault, type Env } from './env.js';

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

const SECRET_KEY_SET: ReadonlySet<string> = new Set(SECRET_KEYS);
const CENSOR = '[redacted]';
/** Three levels reach what we log (an event's `data.change.x`, a request's `req.headers.authorization`). */
const REDACT_DEPTH = 3;

/**
 * The object with every value under a secret-looking key, on its first three levels, replaced by `[redacted]`;
 * copied only where something is replaced. (pino's own `redact` option deep-clones the line and parses its
 * paths again on every call: about 30 µs a line, 230 µs without a JIT — more than a handler's own work.)
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth >= REDACT_DEPTH || typeof value !== 'object' || value === null || value instanceof Error) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const redacted = redactSecrets(item, depth + 1);
      changed ||= redacted !== item;
      return redacted;
    });
    return changed ? items : value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const redacted = SECRET_KEY_SET.has(key) ? CENSOR : redactSecrets(item, depth + 1);
    if (redacted !== item) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = redacted;
    }
  }
  return copy ?? value;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const logEnv = { LOG_LEVEL: withDefault(oneOf(LEVELS), 'info') };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (object) => redactSecrets(object) as Record<string, unknown> },
    },
    options.destination,
  );
}

export function loggerFromEnv(env: Env = process.env): Logger {
  return createLogger({ level: loadEnv(logEnv, env).LOG_LEVEL });
}

/** The process logger. An invalid LOG_LEVEL stops the process at start-up with an error naming it. */
export const log: Logger = loggerFromEnv();
