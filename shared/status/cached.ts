// A value built at most once per `ttlMs`: every caller within that time gets the same value, and callers that
// arrive while it is being built share the one build in flight, however long it takes. A hundred open status
// pages polling every few seconds thus cost one list of each kind per interval. A failed build is not kept:
// the next caller tries again.

export function cachedValue<T>(build: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let built: { readonly at: number; readonly value: Promise<T> } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (inFlight) return inFlight;
    // The age counts from the start of the build: what it read is that old, however long it took.
    if (built && now() - built.at < ttlMs) return built.value;
    const at = now();
    const value = build();
    inFlight = value;
    value.then(
      () => {
        built = { at, value };
      },
      () => undefined,
    ).finally(() => {
      if (inFlight === value) inFlight = undefined;
    });
    return value;
  };
}
