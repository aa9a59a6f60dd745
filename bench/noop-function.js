// The cold-start baseline of bench/pipeline.ts: a CloudEvent function that does nothing, served by the same
// functions-framework CLI with the same node flags, so a function's cold start is read against it.
import functions from '@google-cloud/functions-framework';

functions.cloudEvent('noop', () => {});
