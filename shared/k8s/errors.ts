// Turns what @kubernetes/client-node throws into the errors of shared/errors.ts. The API server explains a
// failure in a `Status` body whose `reason` tells apart what the status code alone does not (409
// AlreadyExists vs 409 Conflict).
import { ApiException } from '@kubernetes/client-node';
import { errorForStatus, networkError, PermanentError } from '../errors.js';

interface StatusBody {
  message?: string;
  reason?: string;
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body === 'object' && body !== null) return body as StatusBody;
  if (typeof body !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : {};
  } catch {
    return { message: body.slice(0, 200) };
  }
}

// KubernetesObjectApi looks up each apiVersion's resources first and prefixes this to a failure of that step.
const DISCOVERY_FAILURE = 'Failed to fetch resource metadata';
const UNKNOWN_KIND = 'Unrecognized API version and kind';
const TYPED_PATCH_FAILURE = 'failed to create typed patch object';

function isNetworkFailure(err: Error): boolean {
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  // undici's fetch: TypeError('fetch failed') with the socket error as its cause (and, from the discovery
  // step, the DISCOVERY_FAILURE prefix).
  if (err instanceof TypeError && err.message.endsWith('fetch failed')) return true;
  return typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

/** The typed error for a failed cluster call described by `what`; errors it does not recognise pass through. */
export function clusterError(err: unknown, what: string): unknown {
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    const detail = status.message ?? err.message;
    if (err.message.startsWith(DISCOVERY_FAILURE) && err.code === 404) {
      // Otherwise `get` would read "this API group is not served" as "this object does not exist".
      return new PermanentError(`${what}: the cluster does not serve this apiVersion (${detail})`, { status: 404 });
    }
    if (err.code === 500 && detail.includes(TYPED_PATCH_FAILURE)) {
      // Server-side apply answers 500 when the applied object does not fit the schema (an undeclared field);
      // retrying cannot fix the object, so it must not be classed as a server fault.
      return new PermanentError(`${what}: ${detail}`, { status: 500, reason: status.reason });
    }
    return errorForStatus(err.code, `${what}: ${detail}`, status.reason);
  }
  if (err instanceof Error && err.message.startsWith(UNKNOWN_KIND)) {
    return new PermanentError(`${what}: ${err.message}`, { cause: err });
  }
  if (err instanceof Error && isNetworkFailure(err)) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return networkError(`${what}: ${err.message}${cause}`, err);
  }
  return err;
}

/** The watch helper reports a failed connection as an Error with the HTTP status in `statusCode`. */
export function watchError(err: unknown, what: string): unknown {
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (err instanceof Error && typeof statusCode === 'number') {
    return errorForStatus(statusCode, `${what}: ${statusCode} ${err.message}`);
  }
  return clusterError(err, what);
}
