// Two things about functions-framework 5 that a function cannot reach through its API, kept in one place.
//
// 1. Which function this process serves. functions-framework imports functions/index.ts, which registers every
//    function, and only then serves the one named by `--target` (else FUNCTION_TARGET). A function whose
//    configuration must be checked at start-up asks `servedFunction()` so that the other targets, which share
//    the module, do not need its variables.
//
// 2. The per-request domain. functions-framework runs every function call inside a `domain` (a deprecated Node
//    API) so that an error thrown outside the call's promise chain still gets a 500. Every async resource
//    created while a domain is active is tagged with it and given a destroy hook, which on the webhook's path
//    (an outbound request per event) costs about a third of the CPU (bench/README.md). Seakeeper's wrappers
//    (handler.ts) catch everything the call throws or rejects with, so they leave the domain first.
//
// 3. The body. functions-framework reads and parses every request body before a function runs (body-parser,
//    limit 1 GiB), and hands what body-parser rejects — malformed JSON, an unsupported charset — to Express's
//    default handler, which answers with an HTML page holding the stack trace and prints the error, the body
//    included, to stderr (functions-framework-nodejs#686, open). `guardFrameworkRequests` wraps Express's
//    request entry point in this process so that a guard sees each request before its body is read (to
//    refuse it unread: no credentials, a declared length over the limit) and answers body-parser's failures
//    itself, one line of JSON. functions-framework builds its Express app after importing the functions, so a
//    guard installed at import time is in place for every request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { log as processLog, type Logger } from '../log.js';
import { oneLine } from './gerrit-event.js';

/** functions-framework's default target when neither `--target` nor FUNCTION_TARGET is given. */
const DEFAULT_TARGET = 'function';

/** The target functions-framework serves in this process, read as it reads it (the flag wins over the env). */
export function servedFunction(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--target=')) return arg.slice('--target='.length);
    if (arg === '--target' && argv[i + 1] !== undefined) return argv[i + 1]!;
  }
  return env.FUNCTION_TARGET || DEFAULT_TARGET;
}

export interface FrameworkGuard {
  /** Sees the request before its body is read; returns true when it answered (the body is then discarded). */
  beforeBody(req: IncomingMessage, res: ServerResponse, started: number): boolean;
  /** Answers a request whose body functions-framework could not read or parse. */
  onBodyError(failure: BodyFailure, req: IncomingMessage, res: ServerResponse, started: number): void;
}

export interface BodyFailure {
  status: number;
  /** One line, safe to send back: it describes the caller's own body. */
  reason: string;
}

/** body-parser's errors carry `type`, `status` and `expose` (its message is about the request when true). */
interface BodyParserError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** What body-parser's error means for the caller. Failures that are not about the request are ours: 500. */
export function describeBodyFailure(err: unknown): BodyFailure {
  const e = err as BodyParserError | undefined;
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
  if (status === 500 || !(e instanceof Error)) return { status: 500, reason: 'internal error, retry later' };
  if (e.type === 'entity.parse.failed') return { status, reason: oneLine(`malformed JSON: ${e.message}`) };
  return { status, reason: oneLine(e.expose === false ? 'unreadable request body' : e.message) };
}

/**
 * Leaves functions-framework's per-request domain (see 2 above); call it first thing in a wrapper that catches
 * every failure of the call itself. An error escaping every promise chain still reaches the framework's
 * process-wide handler, which answers the last request with a crash response.
 */
export function leaveFrameworkDomain(): void {
  (process as { domain?: { exit(): void } | null }).domain?.exit();
}

type Handle = (this: unknown, req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void) => void;

let guard: FrameworkGuard | undefined;
let patched = false;

function patchExpress(): void {
  if (patched) return;
  // functions-framework's own Express, wherever npm put it.
  const fromFramework = createRequire(import.meta.resolve('@google-cloud/functions-framework'));
  const express = fromFramework('express') as { application: { handle: Handle } };
  const original = express.application.handle;
  express.application.handle = function handle(req, res, callback) {
    // An app mounted inside another, or a caller with its own final handler: not the entry point.
    if (callback || !guard) return original.call(this, req, res, callback);
    const current = guard;
    const started = performance.now();
    if (current.beforeBody(req, res, started)) return;
    original.call(this, req, res, (err?: unknown) => {
      if (err) current.onBodyError(describeBodyFailure(err), req, res, started);
      else if (!res.headersSent) {
        // No route matched: functions-framework routes every path, so only its ignored routes get here.
        res.writeHead(404).end();
      }
    });
  };
  patched = true;
}

/** Installs `next` as this process's guard (one per process: the function it serves), replacing any earlier one. */
export function guardFrameworkRequests(next: FrameworkGuard): void {
  patchExpress();
  guard = next;
}

/** Removes the guard (tests). */
export function unguardFrameworkRequests(): void {
  guard = undefined;
}

/**
 * Runs the start-up of the function this process serves: a configuration error stops the process with one
 * log line naming the variables, before functions-framework starts listening.
 */
export function startServedFunction(starts: Readonly<Record<string, () => unknown>>, logger: Logger = processLog, target = servedFunction()): void {
  const start = starts[target];
  if (!start) return;
  try {
    start();
  } catch (err) {
    logger.fatal({ fn: target, err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    process.exit(1);
  }
}
