// One `gerrit stream-events` session over SSH (ssh2), as the stream adapter sees it: bytes in, one end. It
// does not reconnect or parse; the adapter does both.
//
// Keepalives: an SSH-level request every KEEPALIVE_INTERVAL_MS; after KEEPALIVE_COUNT_MAX unanswered ones the
// connection counts as dead (a silent network cut is noticed within about a minute; Gerrit itself is silent
// between events).
// Host key: pinned when GERRIT_SSH_HOST_KEY gives its SHA256 fingerprint (as `ssh-keygen -lf` prints it);
// otherwise accepted, and its fingerprint logged at every connection so that it can be pinned. Accepting an
// unknown key gives a machine in the middle no reusable credential (public-key authentication signs this
// session only), but it could suppress or fabricate events: pin the key wherever the network is not trusted.
import { createHash } from 'node:crypto';
import { Client, type ClientChannel } from 'ssh2';
import type { Logger } from '../log.js';
import { oneLine } from './gerrit-event.js';

export const STREAM_EVENTS_COMMAND = 'gerrit stream-events';
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;
const READY_TIMEOUT_MS = 20_000;

/** What the adapter hears from one session. `onEnd` comes exactly once, after which nothing else does. */
export interface StreamHandlers {
  /** The command runs: events from now on arrive through `onData`. */
  onOpen(): void;
  onData(chunk: Buffer): void;
  onEnd(reason: string): void;
}

export interface StreamSession {
  /** Ends the session (stops reading); `onEnd` follows. */
  close(): void;
  /** Flow control: stop and restart reading, so that Gerrit's buffer, not our memory, absorbs a burst. */
  pause(): void;
  resume(): void;
}

export type OpenStream = (handlers: StreamHandlers) => StreamSession;

export interface SshStreamOptions {
  host: string;
  port: number;
  username: string;
  /** The private key (OpenSSH or PEM), unencrypted. */
  privateKey: Buffer;
  /** `SHA256:…` as `ssh-keygen -lf` prints it; undefined accepts any host key and logs its fingerprint. */
  hostKeyFingerprint?: string;
  logger: Logger;
}

/** The OpenSSH SHA256 fingerprint of a host key blob: `SHA256:` and unpadded base64. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export function sshStreamEvents(options: SshStreamOptions): OpenStream {
  const { logger } = options;
  return (handlers) => {
    const client = new Client();
    let channel: ClientChannel | undefined;
    let paused = false;
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      client.end();
      handlers.onEnd(reason);
    };
    client.on('ready', () => {
      client.exec(STREAM_EVENTS_COMMAND, (err, stream) => {
        if (err) return end(`cannot run ${STREAM_EVENTS_COMMAND}: ${err.message}`);
        channel = stream;
        if (paused) stream.pause();
        stream.on('data', (chunk: Buffer) => handlers.onData(chunk));
        stream.stderr.on('data', (chunk: Buffer) => logger.warn({ fn: 'gerrit-stream', stderr: oneLine(chunk.toString('utf8')) }));
        stream.on('close', (code: number | null) => end(`${STREAM_EVENTS_COMMAND} ended${code === null || code === undefined ? '' : ` (exit ${code})`}`));
        handlers.onOpen();
      });
    });
    client.on('error', (err) => end(`ssh: ${err.message}`));
    client.on('close', () => end('ssh connection closed'));
    const hostVerifier = (key: Buffer) => {
      const fingerprint = hostKeyFingerprint(key);
      if (options.hostKeyFingerprint === undefined) {
        logger.info({ fn: 'gerrit-stream', hostKey: fingerprint }, 'accepting the SSH host key (GERRIT_SSH_HOST_KEY would pin it)');
        return true;
      }
      if (fingerprint === options.hostKeyFingerprint) return true;
      logger.error({ fn: 'gerrit-stream', hostKey: fingerprint, expected: options.hostKeyFingerprint }, 'SSH host key does not match GERRIT_SSH_HOST_KEY');
      return false;
    };
    try {
      client.connect({
        host: options.host,
        port: options.port,
        username: options.username,
        privateKey: options.privateKey,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        readyTimeout: READY_TIMEOUT_MS,
        hostVerifier,
      });
    } catch (err) {
      // A key ssh2 cannot use throws here; stream-config.ts checks the key at start-up, so this is a backstop.
      queueMicrotask(() => end(`ssh: ${(err as Error).message}`));
    }
    return {
      close: () => end('closed by the adapter'),
      pause: () => {
        paused = true;
        channel?.pause();
      },
      resume: () => {
        paused = false;
        channel?.resume();
      },
    };
  };
}
