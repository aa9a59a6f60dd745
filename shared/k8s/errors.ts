// What went wrong talking to the API server, as the errors of shared/errors.ts. The server explains a failure in
// a `Status` body whose `reason` tells apart what the status code alone does not (409 AlreadyExists vs 409
// Conflict); a request that got no answer at all is transient.
import { errorForStatus, networkError, PermanentError, TransientError, type SeakeeperError } from '../errors.js';

export interface Status {
  message?: string;
  reason?: string;
  code?: number;
}

const TYPED_PATCH_FAILURE = 'failed to create typed patch object';

/** The Status in an error answer's body; the start of the body as its message when it is not one. */
export function parseStatus(body: string): Status {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Status;
  } catch {
    // not JSON: a proxy's page, say
  }
  return { message: body.trim().slice(0, 200) };
}

/** The typed error for status `code` (a non-2xx answer, or a watch's ERROR event) of the call `what`. */
export function statusError(code: number, status: Status, what: string): SeakeeperError {
  const detail = status.message || `${code}`;
  // Server-side apply answers 500 when the applied object does not fit the schema (an undeclared field);
  // retrying cannot fix the object, so it must not be classed as a server fault.
  if (code === 500 && detail.includes(TYPED_PATCH_FAILURE)) return new PermanentError(`${what}: ${detail}`, { status: code, reason: status.reason });
  return errorForStatus(code, `${what}: ${detail}`, status.reason);
}

/**
 * A call that got no answer: refused, reset, a TLS failure, or `deadline` (the request's own, when it is what
 * stopped it). undici's fetch says only "fetch failed" and keeps the socket's error as the cause.
 */
export function noAnswer(err: unknown, what: string, deadline?: string): TransientError {
  if (deadline) return networkError(`${what}: ${deadline}`, err);
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return networkError(`${what}: ${message}${cause}`, err);
}

/** A watch line that is not the JSON of an event: the stream is broken; a restarted watch may well not be. */
export function malformedLine(line: string, what: string, cause: unknown): TransientError {
  return new TransientError(`${what}: the API server sent a watch line that is not JSON: ${line.slice(0, 100)}`, { cause });
}
