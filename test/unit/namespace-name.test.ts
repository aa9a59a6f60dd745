import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDnsLabel, MAX_LABEL_LENGTH, namespaceFor, projectHash } from '../../shared/names.js';

const WIKIMEDIA = readFileSync(new URL('../fixtures/wikimedia-gerrit-projects.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line !== '');

const assertValid = (project: string) => {
  const ns = namespaceFor(project);
  assert.ok(isDnsLabel(ns), `${JSON.stringify(project)} → ${JSON.stringify(ns)} is not a DNS-1123 label`);
  assert.ok(ns.length <= MAX_LABEL_LENGTH, `${ns} is longer than 63`);
  assert.ok(ns.startsWith('sk-'), `${ns} lacks the sk- prefix`);
  return ns;
};

test('golden values: the scheme is pinned (changing it renames every namespace)', () => {
  const golden: Record<string, string> = {
    mediawiki: 'sk-mediawiki',
    'mediawiki/core': 'sk-mediawiki-core--vkolnb3lr7',
    'VisualEditor/VisualEditor': 'sk-visualeditor-visualeditor--khx2m2uykb',
    'mediawiki/extensions/Wikibase': 'sk-mediawiki-extensions-wikibase--gqeiqhar66',
    'operations/puppet': 'sk-operations-puppet--mig6ly6ck7',
    'All-Projects': 'sk-all-projects--6uxlukahyz',
    Foo_Bar: 'sk-foo-bar--mhnt6iwqud',
    'foo.bar': 'sk-foo-bar--ewk5bcwsfr',
    'foo/bar': 'sk-foo-bar--zrounpnute',
    'foo/': 'sk-foo--ct7er4h37o',
    日本語: 'sk--o5yqv3ohj3',
    'Ünïcödé/Thing': 'sk-unicode-thing--dtojfidvcz',
    ['a'.repeat(255)]: `sk-${'a'.repeat(48)}--wdztept2hs`,
  };
  for (const [project, ns] of Object.entries(golden)) assert.is(namespaceFor(project), ns, project);
  assert.is(projectHash('mediawiki/core'), 'vkolnb3lr7sfihxo462j5mm2dxjy6ljf');
});

test('the fixture holds the 2,182 real Wikimedia project names', () => {
  assert.is(WIKIMEDIA.length, 2182);
  assert.is(new Set(WIKIMEDIA).size, 2182);
});

test('every Wikimedia project gets a valid, distinct namespace', () => {
  const seen = new Map<string, string>();
  for (const project of WIKIMEDIA) {
    const ns = assertValid(project);
    const other = seen.get(ns);
    assert.is(other, undefined, `${project} and ${other} share ${ns}`);
    seen.set(ns, project);
  }
  assert.is(seen.size, 2182);
});

test('the longest Wikimedia names (up to 70 characters) are shortened with a hash', () => {
  const long = WIKIMEDIA.filter((p) => p.length > 63);
  assert.ok(long.length >= 3);
  for (const project of long) assert.match(assertValid(project), /--[a-z2-7]{10}$/);
});

test('tidy names are kept readable and unhashed; any folding adds the hash', () => {
  assert.is(namespaceFor('mediawiki'), 'sk-mediawiki');
  assert.is(namespaceFor('a-b-c'), 'sk-a-b-c');
  assert.is(namespaceFor('x'.repeat(60)), `sk-${'x'.repeat(60)}`);
  assert.match(namespaceFor('x'.repeat(61)), /^sk-x{48}--[a-z2-7]{10}$/);
  for (const folded of ['Mediawiki', 'media_wiki', 'media.wiki', 'media/wiki', 'media--wiki', '-mediawiki', 'mediawiki-', 'mediawiki/']) {
    assert.match(namespaceFor(folded), /--[a-z2-7]{10}$/, folded);
  }
});

test('odd names: unicode, 255 characters, dots, underscores, upper case, trailing slashes, empty-ish', () => {
  const odd = [
    '日本語/プロジェクト',
    'emoji/😀/repo',
    'Ελληνικά',
    'ß',
    'İstanbul',
    'a'.repeat(255),
    `${'Ab_.'.repeat(63)}xyz`,
    'a.b.c',
    '...',
    '___',
    'UPPER/CASE',
    'trailing/',
    'trailing//',
    '/leading',
    '/',
    ' ',
    '-',
    '0',
    '0day',
    'a\u0000b',
    'tab\tname',
    'new\nline',
    '\u200b',
    'x'.repeat(1000),
  ];
  const namespaces = odd.map(assertValid);
  assert.is(new Set(namespaces).size, odd.length, 'odd names collide');
});

test('names that fold to the same text get distinct namespaces', () => {
  const family = ['foo-bar', 'Foo-Bar', 'foo_bar', 'foo.bar', 'foo/bar', 'FOO/BAR', 'foo//bar', 'foo/bar/', 'foo-bar/', 'föo/bar', 'foo bar', 'foo--bar'];
  const namespaces = family.map(assertValid);
  assert.is(new Set(namespaces).size, family.length);
  // and the readable part is the same for all of them
  for (const ns of namespaces) assert.match(ns, /^sk-foo-bar(--[a-z2-7]{10})?$/);
});

test('property: any string gives a valid label with the prefix, deterministically', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 })), (name) => {
      const ns = assertValid(name);
      assert.is(namespaceFor(name), ns);
    }),
    { numRuns: 2000 },
  );
});

test('property: distinct names give distinct namespaces, also when they fold together', () => {
  // Variants of one base name that differ only in case and separators: they fold to the same text.
  const variant = fc
    .tuple(
      fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 6 }),
      fc.array(fc.constantFrom('-', '_', '.', '/', '//', ' '), { minLength: 6, maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 48, maxLength: 48 }),
    )
    .map(([words, seps, upper]) =>
      words
        .map((w, i) => (i === 0 ? w : `${seps[i - 1]}${w}`))
        .join('')
        .split('')
        .map((c, i) => (upper[i % 48] ? c.toUpperCase() : c))
        .join(''),
    );
  fc.assert(
    fc.property(fc.uniqueArray(variant, { minLength: 2, maxLength: 30 }), (names) => {
      assert.is(new Set(names.map(namespaceFor)).size, names.length);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => {
      fc.pre(a !== b);
      assert.is.not(namespaceFor(a), namespaceFor(b));
    }),
    { numRuns: 2000 },
  );
});

test('property: a hashed label is never a tidy one (the two forms cannot collide)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 100 }), (name) => {
      const ns = namespaceFor(name);
      const tidy = /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name) && name.length <= 60;
      assert.is(ns.includes('--'), !tidy);
    }),
    { numRuns: 2000 },
  );
});

test('projectHash is a 32-character label value, distinct per project', () => {
  const hashes = new Set(WIKIMEDIA.map(projectHash));
  assert.is(hashes.size, WIKIMEDIA.length);
  for (const h of hashes) assert.match(h, /^[a-z2-7]{32}$/);
});

test.run();
