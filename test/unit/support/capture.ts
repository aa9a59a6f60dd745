// A logger whose lines land in memory, for tests that assert what was logged.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../shared/log.js';

export interface Captured {
  logger: Logger;
  /** Every line as written. */
  raw: string[];
  /** Every line, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLog(): Captured {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  return {
    logger: createLogger({ level: 'trace', destination }),
    raw,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
