import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPolicy } from '../../shared/config/policy.js';
import { resolveEffectiveConfig } from '../../shared/config/inheritance.js';
import { NotFoundError } from '../../shared/errors.js';
import { EffectiveConfigCache, EventConfigReader, RevisionCache, type ConfigSourceGerrit } from '../../shared/pipelines/config-source.js';

/** refs/meta/config of a few projects, as Gerrit would answer; every call counted. */
function gerrit(heads: Record<string, string>, files: Record<string, Record<string, string>>, parents: Record<string, string | undefined>) {
  const calls: string[] = [];
  const api: ConfigSourceGerrit = {
    getBranchRevision: async (project) => {
      calls.push(`head ${project}`);
      return heads[project];
    },
    getFileContentAt: async (project, commit, path) => {
      calls.push(`file ${project}@${commit} ${path}`);
      return files[commit]?.[path];
    },
    getProjectParent: async (project) => {
      calls.push(`parent ${project}`);
      if (!(project in parents)) throw new NotFoundError(project);
      return parents[project];
    },
  };
  return { api, calls };
}

const CONFIG = 'pipelines:\n  check: { workflow: ci/check.yaml }\n';

test('one event: heads read once per project; a later event at the same commits reads only the heads', async () => {
  const { api, calls } = gerrit(
    { 'mw/ext': 'c1', mw: 'c2' },
    { c1: {}, c2: { 'seakeeper.yaml': CONFIG, 'ci/check.yaml': 'text' } },
    { 'mw/ext': 'mw', mw: 'All-Projects' },
  );
  const cache = new RevisionCache();
  const first = new EventConfigReader(api, cache);
  const effective = await resolveEffectiveConfig('mw/ext', first, loadPolicy());
  assert.is(effective.kind, 'configured');
  assert.is(await first.readFile('mw', 'ci/check.yaml'), 'text');
  assert.equal(calls, ['head mw/ext', 'file mw/ext@c1 seakeeper.yaml', 'parent mw/ext', 'head mw', 'file mw@c2 seakeeper.yaml', 'file mw@c2 ci/check.yaml']);

  calls.length = 0;
  const second = new EventConfigReader(api, cache);
  await resolveEffectiveConfig('mw/ext', second, loadPolicy());
  assert.is(await second.readFile('mw', 'ci/check.yaml'), 'text');
  assert.equal(calls, ['head mw/ext', 'head mw'], 'an absent file is cached too');
});

test('a push to refs/meta/config is a new commit: read anew', async () => {
  const heads: Record<string, string> = { p: 'c1' };
  const { api, calls } = gerrit(heads, { c1: { 'seakeeper.yaml': 'a' }, c2: { 'seakeeper.yaml': 'b' } }, { p: undefined });
  const cache = new RevisionCache();
  assert.is(await new EventConfigReader(api, cache).readConfig('p'), 'a');
  heads.p = 'c2';
  assert.is(await new EventConfigReader(api, cache).readConfig('p'), 'b');
  assert.equal(calls.filter((c) => c.startsWith('file')), ['file p@c1 seakeeper.yaml', 'file p@c2 seakeeper.yaml']);
});

test('a project without refs/meta/config reads as missing (NotFoundError), for the inheritance walk', async () => {
  const { api } = gerrit({}, {}, {});
  const reader = new EventConfigReader(api, new RevisionCache());
  try {
    await reader.readConfig('gone');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, NotFoundError);
  }
  assert.equal(await resolveEffectiveConfig('gone', reader, loadPolicy()), { kind: 'missing-project', project: 'gone' });
});

test('the cache keeps to its size, dropping the least recently used', () => {
  const cache = new RevisionCache(1000);
  cache.set('a', 'x'.repeat(100));
  cache.set('b', 'x'.repeat(100));
  assert.ok(cache.get('a'));
  cache.set('c', 'x'.repeat(100));
  assert.ok(cache.get('a'), 'a was used last');
  assert.is(cache.get('b'), undefined);
  assert.ok(cache.get('c'));
  cache.set('huge', 'x'.repeat(1000));
  assert.is(cache.get('huge'), undefined, 'an entry larger than the cache is not kept');
  assert.equal(cache.get('a'), { value: 'x'.repeat(100) });
});

test('the effective config is kept with its chain\'s commits: the same commits, the same result, without a walk', async () => {
  const heads: Record<string, string> = { 'mw/ext': 'c1', mw: 'c2' };
  const { api, calls } = gerrit(heads, { c1: {}, c2: { 'seakeeper.yaml': CONFIG }, c3: { 'seakeeper.yaml': 'pipelines: {}\n' } }, { 'mw/ext': 'mw', mw: 'All-Projects' });
  const cache = new RevisionCache();
  const effective = new EffectiveConfigCache(loadPolicy());
  const first = await effective.resolve('mw/ext', new EventConfigReader(api, cache));
  assert.is(first.kind, 'configured');
  calls.length = 0;
  assert.is(await effective.resolve('mw/ext', new EventConfigReader(api, cache)), first);
  assert.equal(calls.sort(), ['head mw', 'head mw/ext']);

  heads.mw = 'c3';
  const changed = await effective.resolve('mw/ext', new EventConfigReader(api, cache));
  assert.is.not(changed, first);
  assert.ok(changed.kind === 'configured' && changed.config.pipelines.length === 0);
});

test.run();
