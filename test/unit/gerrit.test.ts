import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../shared/env.js';
import { PermanentError } from '../../shared/errors.js';
import { changedPaths, decodeFileContent, gerritPaths, unappliedVotes } from '../../shared/gerrit/client.js';
import { gerritConnectionFromEnv } from '../../shared/gerrit/env.js';
import { withTempFile } from './support/temp-file.js';
import { basicAuthorization, encodeId, parseGerritJson, restUrl, stripXssiPrefix } from '../../shared/gerrit/rest.js';

test('strips the XSSI prefix and the newline after it', () => {
  assert.is(stripXssiPrefix(`)]}'\n{"a":1}`), '{"a":1}');
  assert.is(stripXssiPrefix(`)]}'\r\n[1]`), '[1]');
  assert.is(stripXssiPrefix(`)]}'"x"`), '"x"');
});

test('leaves a body without the prefix alone, including one that only contains it later', () => {
  assert.is(stripXssiPrefix('{"a":1}'), '{"a":1}');
  assert.is(stripXssiPrefix(`{"a":")]}'"}`), `{"a":")]}'"}`);
  assert.is(stripXssiPrefix(''), '');
});

test('parses prefixed JSON; an empty body is undefined', () => {
  assert.equal(parseGerritJson(`)]}'\n{"_number":7}`, 'x'), { _number: 7 });
  assert.is(parseGerritJson(`)]}'\n"All-Projects"`, 'x'), 'All-Projects');
  assert.is(parseGerritJson('', 'x'), undefined);
  assert.is(parseGerritJson(`)]}'\n`, 'x'), undefined);
});

test('a body that is not JSON (an HTML login page) is a PermanentError naming the call', () => {
  try {
    parseGerritJson('<html>Sign in</html>', 'Gerrit GET changes/1');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, PermanentError);
    assert.match((err as Error).message, 'Gerrit GET changes/1');
  }
});

test('encodes a project name with slashes as one segment', () => {
  assert.is(encodeId('team/odd.name_x'), 'team%2Fodd.name_x');
  assert.is(encodeId('refs/meta/config'), 'refs%2Fmeta%2Fconfig');
  assert.is(encodeId('mediawiki/extensions/X~123'), 'mediawiki%2Fextensions%2FX~123');
});

test('encodes characters that would change the URL: space, ?, #, %, +, unicode', () => {
  assert.is(encodeId('a b?c#d%e+f'), 'a%20b%3Fc%23d%25e%2Bf');
  assert.is(encodeId('ünï'), '%C3%BCn%C3%AF');
});

test('empty, . and .. are refused: a URL would resolve them into another resource', () => {
  for (const id of ['', '.', '..']) assert.throws(() => encodeId(id), (err: unknown) => err instanceof PermanentError);
  assert.is(encodeId('...'), '...');
});

test('any id decodes back to itself and never contains a raw / ? or #', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', minLength: 1 }).filter((id) => id !== '.' && id !== '..'), (id) => {
      const encoded = encodeId(id);
      return decodeURIComponent(encoded) === id && !/[/?#]/.test(encoded);
    }),
  );
});

test('builds /a/ URLs under the base, with or without a trailing slash and with a path prefix', () => {
  assert.is(restUrl('http://127.0.0.1:8080', 'changes/1').href, 'http://127.0.0.1:8080/a/changes/1');
  assert.is(restUrl('http://127.0.0.1:8080/', 'changes/1').href, 'http://127.0.0.1:8080/a/changes/1');
  assert.is(restUrl('https://gerrit.example.org/r', 'changes/1').href, 'https://gerrit.example.org/r/a/changes/1');
  assert.is(restUrl('https://gerrit.example.org/r/', 'changes/1').href, 'https://gerrit.example.org/r/a/changes/1');
});

test('keeps %2F encoded in the path', () => {
  const url = restUrl('http://g/', `projects/${encodeId('a/b')}/branches/${encodeId('refs/meta/config')}/files/${encodeId('x/y.yaml')}/content`);
  assert.is(url.pathname, '/a/projects/a%2Fb/branches/refs%2Fmeta%2Fconfig/files/x%2Fy.yaml/content');
});

test('repeats array query parameters, skips undefined ones, encodes the query', () => {
  const url = restUrl('http://g', 'changes/', { q: 'status:open project:a/b', o: ['CURRENT_REVISION', 'DETAILED_LABELS'], n: 25, S: undefined });
  assert.equal(url.searchParams.getAll('o'), ['CURRENT_REVISION', 'DETAILED_LABELS']);
  assert.is(url.searchParams.get('q'), 'status:open project:a/b');
  assert.is(url.searchParams.get('n'), '25');
  assert.not.ok(url.searchParams.has('S'));
  assert.is(url.search, '?q=status%3Aopen+project%3Aa%2Fb&o=CURRENT_REVISION&o=DETAILED_LABELS&n=25');
});

test('an empty option list adds no o parameter', () => {
  assert.is(restUrl('http://g', 'changes/1', { o: [] }).search, '');
});

test('basic authorization is base64 of user:password', () => {
  const header = basicAuthorization('seakeeper-bot', new Secret('p:ss wörd'));
  assert.is(header, `Basic ${Buffer.from('seakeeper-bot:p:ss wörd').toString('base64')}`);
});

test('file content: base64 (asked for text/plain) decodes as UTF-8', () => {
  const text = '[pipeline "test"]\n\tnote = ünïcode ✓\n';
  assert.is(decodeFileContent(Buffer.from(text).toString('base64'), 'base64'), text);
  assert.is(decodeFileContent(Buffer.from(text).toString('base64'), null), text);
});

test('file content: a JSON string (the client accepted JSON) is unwrapped', () => {
  assert.is(decodeFileContent(`)]}'\n"[access]\\n\\tinheritFrom \\u003d All-Projects\\n"`, 'json'), '[access]\n\tinheritFrom = All-Projects\n');
});

test('file content: an encoding we do not know is refused rather than guessed', () => {
  assert.throws(() => decodeFileContent('x', 'gzip'), (err: unknown) => err instanceof PermanentError && /gzip/.test((err as Error).message));
});

test('votes Gerrit echoes back were applied; a missing or different one was dropped', () => {
  assert.equal(unappliedVotes({ Verified: 1 }, { labels: { Verified: 1 } }), []);
  assert.equal(unappliedVotes({ Verified: 0 }, { labels: { Verified: 0 } }), [], 'a 0 vote is a vote too');
  assert.equal(unappliedVotes({ Verified: 7 }, { labels: {} }), ['Verified=7']);
  assert.equal(unappliedVotes({ Verified: 2, Bogus: 1 }, { labels: { Verified: 2 } }), ['Bogus=1']);
  assert.equal(unappliedVotes({ Verified: -1 }, {}), ['Verified=-1']);
});

test('a review without votes has nothing to confirm', () => {
  assert.equal(unappliedVotes(undefined, {}), []);
  assert.equal(unappliedVotes({}, { labels: {} }), []);
});

const SHA = '0123456789abcdef0123456789abcdef01234567';

test('a file at a commit: project and path are one segment each, the commit goes as it is', () => {
  assert.is(gerritPaths.commitFile('mediawiki/core', SHA, 'ci/check.yaml'), `projects/mediawiki%2Fcore/commits/${SHA}/files/ci%2Fcheck.yaml/content`);
  assert.is(
    gerritPaths.branchFile('mediawiki/core', 'refs/meta/config', 'seakeeper.yaml'),
    'projects/mediawiki%2Fcore/branches/refs%2Fmeta%2Fconfig/files/seakeeper.yaml/content',
  );
});

test('a commit that is not a full lower-case SHA-1 is refused before any request: it comes from event data', () => {
  for (const bad of ['', 'HEAD', 'refs/meta/config', SHA.slice(0, 39), SHA.toUpperCase(), `${SHA}/../x`, `${SHA.slice(0, 39)}g`]) {
    assert.throws(() => gerritPaths.commitFile('p', bad, 'seakeeper.yaml'), (err: unknown) => err instanceof PermanentError, bad);
  }
});

test('revision files and child projects: ids encoded as single segments', () => {
  assert.is(gerritPaths.revisionFiles('team/p~12', SHA), `changes/team%2Fp~12/revisions/${SHA}/files`);
  assert.is(gerritPaths.children('a/b'), 'projects/a%2Fb/children/');
});

test('related changes of a revision: the change id one segment, `current` or a commit as the revision', () => {
  assert.is(gerritPaths.related('mediawiki/core~12', 'current'), 'changes/mediawiki%2Fcore~12/revisions/current/related');
  assert.is(gerritPaths.related('team/p~12', SHA), `changes/team%2Fp~12/revisions/${SHA}/related`);
});

test('changed paths: magic entries left out, a rename counts both paths, sorted', () => {
  assert.equal(
    changedPaths({
      '/COMMIT_MSG': { status: 'A' },
      '/PATCHSET_LEVEL': {},
      '/MERGE_LIST': {},
      'seakeeper.yaml': {},
      'ci/new.yaml': { status: 'R', old_path: 'ci/old.yaml' },
      'gone.yaml': { status: 'D' },
    }),
    ['ci/new.yaml', 'ci/old.yaml', 'gone.yaml', 'seakeeper.yaml'],
  );
  assert.equal(changedPaths({ '/COMMIT_MSG': {} }), []);
});

test('the connection comes from GERRIT_* variables, the password from a file, the timeout defaulted', async () => {
  await withTempFile('hunter2\n', (file) => {
    const connection = gerritConnectionFromEnv({ GERRIT_URL: 'https://gerrit.example.org/r', GERRIT_USER: 'bot', GERRIT_PASSWORD_FILE: file });
    assert.equal(
      { ...connection, password: connection.password.reveal() },
      { baseUrl: 'https://gerrit.example.org/r', username: 'bot', password: 'hunter2', timeoutMs: 10_000 },
    );
  });
});

test.run();
