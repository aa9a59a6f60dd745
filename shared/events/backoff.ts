// How long to wait before trying again: exponential backoff with full jitter (each wait uniformly random up to
// the exponential bound), so that many clients cut off by the same outage do not come back in step.
export interface BackoffPolicy {
  /** The bound of the first wait. */
  baseMs: number;
  /** The bound never grows past this. */
  capMs: number;
}

/** Reconnecting to Gerrit: within a minute at worst, and quickly after a blip. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };
/** Retrying a delivery or a Gerrit query inside a running connection. */
export const RETRY_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** The wait before retry number `attempt` (0 for the first retry); `random` is in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // 2^attempt overflows to Infinity for large attempts, which min() then caps.
  const bound = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * bound);
}
