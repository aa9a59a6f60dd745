// Depends-On footers (shared/gerrit/depends-on.ts): every form of URL Gerrit has linked, Change-Ids, several
// footers, odd whitespace and case, footers outside the last paragraph (Zuul reads every line), and what is
// reported rather than ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dependsOnFooters } from '../../shared/gerrit/depends-on.js';

const WEB = 'https://gerrit.wikimedia.org/r/';
const ID = 'I0123456789abcdef0123456789abcdef01234567';
const named = (message: string, web = WEB) => dependsOnFooters(message, web).dependencies.map((d) => (d.kind === 'change' ? [d.number, d.project ?? null] : [d.changeId]));
const problems = (message: string, web = WEB) => dependsOnFooters(message, web).problems.map((p) => p.reason);

test('every URL form of a change on this Gerrit names its number (and project when it is in the URL); a patch set in it is dropped', () => {
  const forms: Array<[string, number, string | null]> = [
    ['https://gerrit.wikimedia.org/r/c/mediawiki/core/+/12345', 12345, 'mediawiki/core'],
    ['https://gerrit.wikimedia.org/r/c/mediawiki/extensions/Foo/+/12345/3', 12345, 'mediawiki/extensions/Foo'],
    ['https://gerrit.wikimedia.org/r/c/mediawiki/core/+/12345/3/includes/Setup.php', 12345, 'mediawiki/core'],
    ['https://gerrit.wikimedia.org/r/c/mediawiki%2Fcore/+/12345', 12345, 'mediawiki/core'],
    ['https://gerrit.wikimedia.org/r/c/12345', 12345, null],
    ['https://gerrit.wikimedia.org/r/12345', 12345, null],
    ['https://gerrit.wikimedia.org/r/12345/', 12345, null],
    ['https://gerrit.wikimedia.org/r/#/c/12345/', 12345, null],
    ['https://gerrit.wikimedia.org/r/#/c/12345/2', 12345, null],
    ['https://gerrit.wikimedia.org/r/#/c/mediawiki/core/+/12345/', 12345, 'mediawiki/core'],
    ['http://GERRIT.wikimedia.org/r/12345', 12345, null],
  ];
  for (const [url, number, project] of forms) assert.equal(named(`Fix it\n\nDepends-On: ${url}\n`), [[number, project]], url);
  assert.equal(named('x\n\nDepends-On: http://localhost:8080/c/p/+/7', 'http://localhost:8080'), [[7, 'p']], 'a web URL at the root, without its slash');
});

test('a Change-Id, in any case, is kept as Gerrit writes it', () => {
  assert.equal(named(`x\n\nDepends-On: ${ID}`), [[ID]]);
  assert.equal(named(`x\n\nDepends-On: ${ID.toUpperCase()}`), [[ID]]);
  assert.equal(named(`x\n\nDepends-On: i${ID.slice(1)}`), [[ID]]);
});

test('several footers in order, each change once; any case of the key; spaces, tabs and CRLF around the value', () => {
  const message = [
    'Use the new hook',
    '',
    'Depends-On: https://gerrit.wikimedia.org/r/c/mediawiki/core/+/1',
    'depends-on:https://gerrit.wikimedia.org/r/2',
    `DEPENDS-ON: \t ${ID} \t`,
    'Depends-On: https://gerrit.wikimedia.org/r/c/mediawiki/core/+/1/4',
    'Change-Id: I1111111111111111111111111111111111111111',
  ].join('\r\n');
  assert.equal(named(message), [[1, 'mediawiki/core'], [2, null], [ID]]);
});

test('footers are read on every line, as Zuul reads them, not only in the last paragraph; an indented or quoted one is not a footer', () => {
  const message = `Revert "Add x"\n\nDepends-On: https://gerrit.wikimedia.org/r/5\n\nThis reverts commit abc.\n\n  Depends-On: https://gerrit.wikimedia.org/r/6\n> Depends-On: https://gerrit.wikimedia.org/r/7\nSee Depends-On: https://gerrit.wikimedia.org/r/8\n\nChange-Id: ${ID}\n`;
  assert.equal(named(message), [[5, null]]);
  assert.equal(named('No footers here.\n\nChange-Id: ' + ID), []);
});

test('footers that name no change of this Gerrit are reported, one sentence each, and name nothing', () => {
  const message = [
    'x',
    '',
    'Depends-On: https://review.opendev.org/c/openstack/nova/+/123',
    'Depends-On: https://gerrit.wikimedia.org/other/123',
    'Depends-On: ftp://gerrit.wikimedia.org/r/123',
    'Depends-On: https://gerrit.wikimedia.org/r/c/mediawiki/core/+/abc',
    'Depends-On: https://gerrit.wikimedia.org/r/plugins/gitiles/mediawiki/core',
    'Depends-On: T12345',
    'Depends-On: I0123',
    'Depends-On:',
    'Depends-On: https://gerrit.wikimedia.org/r/c/%E0%A4%A/+/1',
  ].join('\n');
  assert.equal(named(message), []);
  assert.equal(problems(message), [
    'Depends-On: https://review.opendev.org/c/openstack/nova/+/123 names a change on another server than https://gerrit.wikimedia.org/r/; only this Gerrit\'s changes can be tested together',
    'Depends-On: https://gerrit.wikimedia.org/other/123 names a change on another server than https://gerrit.wikimedia.org/r/; only this Gerrit\'s changes can be tested together',
    'Depends-On: ftp://gerrit.wikimedia.org/r/123 names a change on another server than https://gerrit.wikimedia.org/r/; only this Gerrit\'s changes can be tested together',
    'Depends-On: https://gerrit.wikimedia.org/r/c/mediawiki/core/+/abc is not the URL of a change',
    'Depends-On: https://gerrit.wikimedia.org/r/plugins/gitiles/mediawiki/core is not the URL of a change',
    'Depends-On: T12345 is neither a change\'s URL nor a Change-Id',
    'Depends-On: I0123 is neither a change\'s URL nor a Change-Id',
    'Depends-On names nothing',
    'Depends-On: https://gerrit.wikimedia.org/r/c/%E0%A4%A/+/1 is not the URL of a change',
  ]);
});

test.run();
