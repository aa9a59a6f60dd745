import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MAX_INHERITANCE_DEPTH,
  resolveEffectiveConfig,
  resolveFromLinks,
  ROOT_PROJECT,
  type ChainLink,
  type EffectiveConfig,
  type ProjectConfigReader,
} from '../../shared/config/inheritance.js';
import { NotFoundError, TransientError } from '../../shared/errors.js';
import { testPolicy } from './support/policy.js';

interface Project {
  config?: string;
  parent?: string;
}

type Tree = Record<string, Project>;

/** A reader over an in-memory tree that records what it was asked. */
function reader(tree: Tree, calls: string[] = []): ProjectConfigReader {
  const get = (p: string) => {
    const project = Object.hasOwn(tree, p) ? tree[p] : undefined;
    if (!project) throw new NotFoundError(`no project ${p}`, { status: 404 });
    return project;
  };
  return {
    readConfig: async (p) => {
      calls.push(`config ${p}`);
      return get(p).config;
    },
    parentOf: async (p) => {
      calls.push(`parent ${p}`);
      return get(p).parent;
    },
  };
}

const lookup = (tree: Tree) => (p: string): ChainLink | undefined =>
  Object.hasOwn(tree, p) ? { project: p, config: tree[p]!.config, parent: tree[p]!.parent } : undefined;

/** Both ways of resolving must agree; returns the answer. */
async function resolve(tree: Tree, project: string): Promise<EffectiveConfig> {
  const sync = resolveFromLinks(project, lookup(tree), testPolicy);
  const async = await resolveEffectiveConfig(project, reader(tree), testPolicy);
  assert.equal(async, sync);
  return sync;
}

const wikimedia: Tree = {
  [ROOT_PROJECT]: {},
  mediawiki: { parent: ROOT_PROJECT, config: 'owners: [MediaWiki-owners]\n' },
  'mediawiki/extensions': { parent: 'mediawiki' },
  'mediawiki/extensions/Foo': { parent: 'mediawiki/extensions' },
  'mediawiki/extensions/Bar': { parent: 'mediawiki/extensions', config: 'owners: [Bar-owners]\n' },
  'operations/puppet': { parent: ROOT_PROJECT },
};

test('a project with its own seakeeper.yaml uses it', async () => {
  const result = await resolve(wikimedia, 'mediawiki/extensions/Bar');
  assert.is(result.kind, 'configured');
  if (result.kind !== 'configured') return;
  assert.is(result.source, 'mediawiki/extensions/Bar');
  assert.is(result.inherited, false);
  assert.equal(result.chain, ['mediawiki/extensions/Bar']);
  assert.equal(result.config.owners, ['Bar-owners']);
});

test('a project without one inherits the nearest ancestor’s, and says from where', async () => {
  const result = await resolve(wikimedia, 'mediawiki/extensions/Foo');
  assert.is(result.kind, 'configured');
  if (result.kind !== 'configured') return;
  assert.is(result.source, 'mediawiki');
  assert.is(result.inherited, true);
  assert.equal(result.chain, ['mediawiki/extensions/Foo', 'mediawiki/extensions', 'mediawiki']);
  assert.equal(result.config.owners, ['MediaWiki-owners']);
});

test('no seakeeper.yaml up to All-Projects: unconfigured', async () => {
  assert.equal(await resolve(wikimedia, 'operations/puppet'), { kind: 'unconfigured', project: 'operations/puppet', chain: ['operations/puppet', ROOT_PROJECT] });
  assert.equal(await resolve(wikimedia, ROOT_PROJECT), { kind: 'unconfigured', project: ROOT_PROJECT, chain: [ROOT_PROJECT] });
});

test('All-Projects’ own config applies to everyone below it', async () => {
  const tree = { ...wikimedia, [ROOT_PROJECT]: { config: 'viewers: [Registered-Users]\n' } };
  const result = await resolve(tree, 'operations/puppet');
  assert.is(result.kind === 'configured' && result.source, ROOT_PROJECT);
});

test('a deleted project is missing-project', async () => {
  assert.equal(await resolve(wikimedia, 'gone'), { kind: 'missing-project', project: 'gone' });
});

test('a missing parent is an error naming it and the chain', async () => {
  const tree: Tree = { orphan: { parent: 'deleted-parent' }, child: { parent: 'orphan' } };
  const result = await resolve(tree, 'child');
  assert.is(result.kind, 'invalid');
  if (result.kind !== 'invalid') return;
  assert.is(result.problems.length, 1);
  assert.is(result.problems[0]!.rule, 'inheritance-missing-parent');
  assert.is(result.problems[0]!.file, 'project.config');
  assert.match(result.problems[0]!.message, /"deleted-parent" does not exist \(chain "child" → "orphan"\)/);
});

test('cycles are errors, including a project that is its own parent', async () => {
  const tree: Tree = { a: { parent: 'b' }, b: { parent: 'c' }, c: { parent: 'a' }, self: { parent: 'self' } };
  const result = await resolve(tree, 'a');
  assert.is(result.kind, 'invalid');
  if (result.kind !== 'invalid') return;
  assert.is(result.problems[0]!.rule, 'inheritance-cycle');
  assert.match(result.problems[0]!.message, /loops back to "a" \("a" → "b" → "c"\)/);
  const self = await resolve(tree, 'self');
  assert.is(self.kind === 'invalid' && self.problems[0]!.rule, 'inheritance-cycle');
});

test('a config found before the cycle still applies', async () => {
  const tree: Tree = { a: { parent: 'b' }, b: { parent: 'a', config: 'owners: [x]\n' } };
  const result = await resolve(tree, 'a');
  assert.is(result.kind === 'configured' && result.source, 'b');
});

test('the depth is bounded', async () => {
  const tree: Tree = {};
  for (let i = 0; i < 100; i++) tree[`p${i}`] = { parent: `p${i + 1}` };
  tree.p100 = { config: 'owners: [x]\n' };
  const result = await resolve(tree, 'p0');
  assert.is(result.kind, 'invalid');
  if (result.kind !== 'invalid') return;
  assert.is(result.problems[0]!.rule, 'inheritance-too-deep');
  assert.is(result.chain.length, MAX_INHERITANCE_DEPTH);
  const shallow = resolveFromLinks('p90', lookup(tree), testPolicy);
  assert.is(shallow.kind, 'configured');
  assert.is(resolveFromLinks('p90', lookup(tree), testPolicy, { maxDepth: 5 }).kind, 'invalid');
});

test('an invalid config is invalid where it is inherited too, located in the file it came from', async () => {
  const tree: Tree = { parent: { config: 'owners: nope\n' }, child: { parent: 'parent' } };
  const own = await resolve(tree, 'parent');
  assert.is(own.kind === 'invalid' && own.problems[0]!.file, 'seakeeper.yaml');
  const inherited = await resolve(tree, 'child');
  assert.is(inherited.kind, 'invalid');
  if (inherited.kind !== 'invalid') return;
  assert.is(inherited.source, 'parent');
  assert.equal(
    inherited.problems.map((p) => [p.file, p.path, p.line, p.column, p.rule]),
    [['parent:seakeeper.yaml', '/owners', 1, 9, 'type']],
  );
});

test('an invalid own config does not fall back to the parent’s', async () => {
  const tree: Tree = { parent: { config: 'owners: [ok]\n' }, child: { parent: 'parent', config: 'owners: [ok]\nbogus: 1\n' } };
  const result = await resolve(tree, 'child');
  assert.is(result.kind === 'invalid' && result.source, 'child');
});

test('the reader is asked no more than needed', async () => {
  const calls: string[] = [];
  await resolveEffectiveConfig('mediawiki/extensions/Foo', reader(wikimedia, calls), testPolicy);
  assert.equal(calls, ['config mediawiki/extensions/Foo', 'parent mediawiki/extensions/Foo', 'config mediawiki/extensions', 'parent mediawiki/extensions', 'config mediawiki']);
});

test('reader failures other than NotFound propagate (so the event is retried)', async () => {
  const failing: ProjectConfigReader = {
    readConfig: async () => {
      throw new TransientError('gerrit is down', { status: 503 });
    },
    parentOf: async () => undefined,
  };
  try {
    await resolveEffectiveConfig('x', failing, testPolicy);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, TransientError);
  }
});

test('property: any parent graph resolves, the same way through both drivers, without looping', async () => {
  const names = ['All-Projects', 'a', 'b', 'c', 'd', 'e', 'f'];
  const node = fc.record({
    exists: fc.boolean(),
    parent: fc.option(fc.constantFrom(...names, 'ghost'), { nil: undefined }),
    config: fc.option(fc.constantFrom('owners: [x]\n', 'owners: 1\n', '{}'), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(node, { minLength: names.length, maxLength: names.length }), fc.constantFrom(...names), async (nodes, start) => {
      const tree: Tree = {};
      nodes.forEach((n, i) => {
        if (n.exists || i === 0) tree[names[i]!] = { ...(n.parent ? { parent: n.parent } : {}), ...(n.config ? { config: n.config } : {}) };
      });
      const result = await resolve(tree, start);
      if (result.kind === 'configured' || result.kind === 'unconfigured') {
        assert.ok(new Set(result.chain).size === result.chain.length, 'chain repeats a project');
      }
      if (result.kind === 'configured') assert.is(tree[result.source]?.config !== undefined, true);
    }),
    { numRuns: 500 },
  );
});

test.run();
