import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, parseStreamLine, type StreamLine } from '../../shared/events/stream-lines.js';
import { CAPTURES, fixtureText } from './support/gerrit-fixtures.js';

const texts = (lines: StreamLine[]) => lines.map((l) => (l.kind === 'line' ? l.text : `<${l.bytes}>`));

function feed(chunks: (string | Uint8Array)[], maxLineBytes?: number): StreamLine[] {
  const splitter = new LineSplitter(maxLineBytes === undefined ? {} : { maxLineBytes });
  return [...chunks.flatMap((c) => splitter.push(c)), ...splitter.end()];
}

/** Cuts bytes at the given offsets. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    parts.push(bytes.subarray(start, point));
    start = point;
  }
  return parts;
}

test('lines split anywhere, even inside a UTF-8 character, come out whole', () => {
  const text = '{"a":"ünïcødé ✓"}\n{"b":2}\n';
  const bytes = Buffer.from(text);
  for (let i = 0; i <= bytes.length; i++) {
    assert.equal(texts(feed([bytes.subarray(0, i), bytes.subarray(i)])), ['{"a":"ünïcødé ✓"}', '{"b":2}'], `cut at ${i}`);
  }
  assert.equal(texts(feed([...bytes].map((b) => Uint8Array.of(b)))), ['{"a":"ünïcødé ✓"}', '{"b":2}']);
});

test('CRLF, blank lines and a last line without a newline', () => {
  assert.equal(texts(feed(['a\r\n\r\n\n  \nb\n', 'c'])), ['a', 'b', 'c']);
  assert.equal(texts(feed([''])), []);
  const splitter = new LineSplitter();
  assert.equal(splitter.push('x'), []);
  assert.equal(texts(splitter.end()), ['x']);
  assert.equal(splitter.end(), []);
});

test('an oversized line is skipped and reported once with its size; the stream goes on', () => {
  const big = 'x'.repeat(100);
  const lines = feed(['ok1\n', big.slice(0, 30), big.slice(30, 60), big.slice(60), '\nok2\n'], 50);
  assert.equal(texts(lines), ['ok1', '<100>', 'ok2']);
  const oversized = lines[1]!;
  assert.ok(oversized.kind === 'oversized');
  if (oversized.kind === 'oversized') {
    assert.match(oversized.reason, /^line of 100 bytes exceeds the 50-byte limit; it began "x{50,}/);
    assert.not.match(oversized.reason, /\n/);
  }
  // Exactly the limit is allowed; one more is not; one at the very end is reported at end().
  assert.equal(texts(feed(['12345\n123456\n'], 5)), ['12345', '<6>']);
  assert.equal(texts(feed(['123456'], 5)), ['<6>']);
  assert.equal(texts(feed(['12', '34', '56', '\n', '78\n'], 5)), ['<6>', '78']);
});

test('the oversized part is never buffered', () => {
  const splitter = new LineSplitter({ maxLineBytes: 1024 });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 100; i++) assert.equal(splitter.push(chunk), []);
  const [line] = splitter.push('\n');
  assert.ok(line?.kind === 'oversized' && line.bytes === 100 * 64 * 1024);
});

test('the splitter copies what it keeps, so a reused chunk buffer cannot corrupt a line', () => {
  const splitter = new LineSplitter();
  const buffer = Buffer.from('abc');
  splitter.push(buffer);
  buffer.write('XYZ');
  assert.equal(texts(splitter.push('\n')), ['abc']);
});

test('a bad limit is a programming error, refused at construction', () => {
  assert.throws(() => new LineSplitter({ maxLineBytes: 0 }), RangeError);
  assert.throws(() => new LineSplitter({ maxLineBytes: 1.5 }), RangeError);
  assert.is(new LineSplitter().maxLineBytes, DEFAULT_MAX_LINE_BYTES);
});

for (const capture of CAPTURES) {
  test(`${capture}: the captured stream, cut into arbitrary chunks, yields its events`, () => {
    const text = fixtureText(`stream/${capture}.jsonl`);
    const expected = text.split('\n').filter(Boolean);
    const bytes = Buffer.from(text);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (offsets) => {
        const lines = feed(cut(bytes, offsets));
        assert.equal(texts(lines), expected);
        assert.ok(lines.map(parseStreamLine).every((r) => r.ok));
      }),
      { numRuns: 50 },
    );
  });
}

test('property: any chunking gives the lines of the whole text', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 12 }), fc.array(fc.nat(200), { maxLength: 10 }), (parts, offsets) => {
      const text = parts.join('\n');
      const expected = text
        .split('\n')
        .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
        .filter((l) => l.trim() !== '');
      assert.equal(texts(feed(cut(Buffer.from(text), offsets))), expected);
    }),
  );
});

test('bad lines become reasons and the good ones around them still parse', () => {
  const input =
    '{"type":"patchset-created"\n' + // malformed JSON
    '{"type":"comment-added","eventCreatedOn":1,"author":{}}\n' + // a change event without a change
    `${'{"type":"x","pad":"' + 'y'.repeat(200) + '"}'}\n` + // oversized
    '{"type":"ref-updated","refUpdate":{"oldRev":"a","newRev":"b","refName":"refs/heads/m","project":"p"},"eventCreatedOn":1}\n' +
    '{"type":"dropped-output"}\n';
  const results = feed([input], 180).map(parseStreamLine);
  assert.equal(
    results.map((r) => (r.ok ? r.event.kind : r.reason.replace(/:.*$/, ''))),
    ['malformed JSON', 'comment-added event without a change', 'line of 221 bytes exceeds the 180-byte limit; it began "{\\"type\\"', 'ref-updated', 'dropped-output'],
  );
});

test.run();
