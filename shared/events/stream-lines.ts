// `gerrit stream-events` writes one JSON object per line. This cuts the bytes an ssh channel delivers (in
// chunks that split lines, and UTF-8 characters, anywhere) into lines, with a bound on a line's size so that a
// runaway line cannot exhaust memory: an oversized line is dropped as it streams past and reported once, and
// the stream goes on. No I/O and no exceptions: the gerrit-stream shell feeds chunks in and logs what comes out.
import { oneLine, parseGerritEventJson, type ParseResult } from './gerrit-event.js';

/** Far above any real event (Gerrit caps messages and comments well below), far below trouble. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
const PREVIEW_BYTES = 120;
const NEWLINE = 0x0a;

export type StreamLine =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'oversized'; readonly bytes: number; readonly reason: string };

export interface LineSplitterOptions {
  maxLineBytes?: number;
}

export class LineSplitter {
  readonly maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of the oversized line being skipped, or -1 when not skipping. */
  #skipped = -1;
  #preview = '';

  constructor(options: LineSplitterOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxLineBytes must be a positive integer, not ${max}`);
    this.maxLineBytes = max;
  }

  /** The complete lines in this chunk, with whatever earlier chunks left unfinished. Blank lines are skipped. */
  push(chunk: Uint8Array | string): StreamLine[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: StreamLine[] = [];
    let start = 0;
    while (start <= bytes.length) {
      const end = bytes.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#hold(bytes.subarray(start));
        break;
      }
      this.#hold(bytes.subarray(start, end));
      const line = this.#take();
      if (line) lines.push(line);
      start = end + 1;
    }
    return lines;
  }

  /** The last line, if the stream ended without a newline. */
  end(): StreamLine[] {
    const line = this.#take();
    return line ? [line] : [];
  }

  #hold(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#skipped >= 0) {
      this.#skipped += part.length;
      return;
    }
    if (this.#pendingBytes + part.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.#pending, part.subarray(0, PREVIEW_BYTES)]).subarray(0, PREVIEW_BYTES);
      this.#preview = head.toString('utf8');
      this.#skipped = this.#pendingBytes + part.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // A copy: the caller may reuse its buffer for the next chunk.
    this.#pending.push(Buffer.from(part));
    this.#pendingBytes += part.length;
  }

  #take(): StreamLine | undefined {
    if (this.#skipped >= 0) {
      const bytes = this.#skipped;
      const reason = oneLine(`line of ${bytes} bytes exceeds the ${this.maxLineBytes}-byte limit; it began ${JSON.stringify(this.#preview)}`);
      this.#skipped = -1;
      this.#preview = '';
      return { kind: 'oversized', bytes, reason };
    }
    if (this.#pendingBytes === 0) return undefined;
    let text = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return text.trim() === '' ? undefined : { kind: 'line', text };
  }
}

/** A line as a parsed event, or the reason it is not one. Never throws. */
export function parseStreamLine(line: StreamLine): ParseResult {
  return line.kind === 'line' ? parseGerritEventJson(line.text) : { ok: false, reason: line.reason };
}
