// The layer check (`make layers`: .dependency-cruiser.cjs, docs/architecture.md "Layers") finds what it is meant
// to: run on a small tree with one upward import of each kind it forbids, it names each; on this repository it
// finds none.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');
const run = promisify(execFile);

/** depcruise's violations in `cwd` as `rule: from → to`. */
async function violations(cwd: string): Promise<string[]> {
  const { stdout } = await run(DEPCRUISE, ['--config', path.join(cwd, '.dependency-cruiser.cjs'), '--output-type', 'json', 'shared', 'functions', 'sources', 'dev'], { cwd }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

test('an upward import, a cycle, shipped code importing tests, and adapters importing each other are each named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-layers-'));
  try {
    await copyFile(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }));
    const files: Record<string, string> = {
      'shared/errors.ts': 'export const e = 1;\n',
      'shared/config/policy.ts': "import { p } from '../pipelines/plan.js';\nexport const c = p;\n",
      'shared/pipelines/plan.ts': "import { e } from '../errors.js';\nexport const p = e;\n",
      'shared/k8s/cluster.ts': "import { g } from '../gerrit/client.js';\nexport const k = g;\n",
      'shared/gerrit/client.ts': 'export const g = 1;\n',
      'shared/runs/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'shared/runs/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'dev/stack.ts': "import { t } from '../test/support/x.js';\nexport const d = t;\n",
      'test/support/x.ts': 'export const t = 1;\n',
      'functions/f/index.ts': "import { p } from '../../shared/pipelines/plan.js';\nexport const f = p;\n",
      'sources/s/main.ts': "import { f } from '../../functions/f/index.js';\nexport const s = f;\n",
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    assert.equal(await violations(dir), [
      'adapters-import-each-other: shared/k8s/cluster.ts → shared/gerrit/client.ts',
      'config-imports-up: shared/config/policy.ts → shared/pipelines/plan.ts',
      'no-circular: shared/runs/a.ts → shared/runs/b.ts',
      'shipped-code-imports-tests: dev/stack.ts → test/support/x.ts',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('this repository: no violation', async () => {
  assert.equal(await violations(ROOT), []);
});

test.run();
