// The error contract (docs/architecture.md, principle 3) as types. Clients turn what went wrong on the wire
// into one of these, so that a handler's wrapper can ask a single question — retry or acknowledge? — without
// knowing whether the failure came from Gerrit, the cluster or the event itself.

export interface ErrorDetails {
  /** The HTTP status the server answered, when there was one. */
  status?: number | undefined;
  /** The server's machine-readable reason (Kubernetes `Status.reason`, e.g. `AlreadyExists`). */
  reason?: string | undefined;
  cause?: unknown;
}

export class SeakeeperError extends Error {
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.reason = details.reason;
  }
}

/** The same request may succeed later: network trouble, 5xx, 408, 429, and 409 conflicts (re-read, then retry). */
export class TransientError extends SeakeeperError {}

/** Repeating the same request cannot succeed. */
export class PermanentError extends SeakeeperError {}

export class NotFoundError extends PermanentError {}

/** 409: someone else changed the object first (a stale `resourceVersion`, a concurrent Gerrit update). */
export class ConflictError extends TransientError {}

/** 409 with reason AlreadyExists: for an idempotent create this means the work was already done. */
export class AlreadyExistsError extends ConflictError {}

/** 401: the credentials were rejected. */
export class AuthError extends PermanentError {}

/** 403: authenticated, but not allowed to do this. */
export class ForbiddenError extends AuthError {}

/** A function whose issue has not landed: it refuses events rather than pretending to handle them. */
export class NotImplementedError extends PermanentError {
  constructor(what: string) {
    super(`${what} is not implemented yet`, { status: 501 });
  }
}

/** Classifies a non-2xx HTTP answer. `message` should say which call failed; it must not carry credentials. */
export function errorForStatus(status: number, message: string, reason?: string): SeakeeperError {
  const details = { status, reason };
  if (status === 401) return new AuthError(message, details);
  if (status === 403) return new ForbiddenError(message, details);
  if (status === 404) return new NotFoundError(message, details);
  if (status === 409) {
    return reason === 'AlreadyExists' ? new AlreadyExistsError(message, details) : new ConflictError(message, details);
  }
  if (status === 408 || status === 429 || status >= 500) return new TransientError(message, details);
  return new PermanentError(message, details);
}

/** A request that never got an HTTP answer (refused, reset, DNS, timed out) may well get one later. */
export function networkError(message: string, cause: unknown): TransientError {
  return new TransientError(message, { cause });
}

/**
 * Whether a failed event should be redelivered (throw → 500 → Knative retries, then the dead-letter sink).
 * A permanent fault of the event is acknowledged. Faults of our own deployment — bad credentials, a function
 * that is not implemented yet — are permanent for the request but not the event's fault: acknowledging them
 * would drop the event silently, so they are retried and end up where a human sees them. Errors outside the
 * taxonomy are bugs and are treated the same way.
 */
export function shouldRetry(err: unknown): boolean {
  if (err instanceof AuthError || err instanceof NotImplementedError) return true;
  return !(err instanceof PermanentError);
}
