// --apply of `npm run import-zuul`: each converted seakeeper.yaml onto its project's refs/meta/config, as a
// project owner would push it (dev/gerrit-chores.ts, pushDirect: the git CLI over HTTP), a few at a time. A
// project Gerrit does not have is reported, never created: which projects exist is Gerrit's administrators'
// call, not the importer's. A file already as converted is not pushed again, so applying twice pushes nothing.
import { pushDirect } from '../../dev/gerrit-chores.js';
import { mapWithConcurrency } from '../concurrency.js';
import { CONFIG_FILE, CONFIG_REF } from '../config/project-config.js';
import { GerritClient } from '../gerrit/client.js';
import type { GerritConnection } from '../gerrit/rest.js';

export const DEFAULT_CONCURRENCY = 8;

export interface ApplyOutcome {
  readonly pushed: readonly string[];
  readonly unchanged: readonly string[];
  readonly missing: readonly string[];
  readonly failed: readonly { readonly project: string; readonly error: string }[];
}

type One = 'pushed' | 'unchanged' | 'missing' | { error: string };

export async function applyConfigs(
  connection: GerritConnection,
  configs: readonly { readonly project: string; readonly text: string }[],
  concurrency = DEFAULT_CONCURRENCY,
): Promise<ApplyOutcome> {
  const gerrit = new GerritClient(connection);
  const results = await mapWithConcurrency(configs, concurrency, async ({ project, text }): Promise<One> => {
    try {
      // Every Gerrit project has refs/meta/config; no branch there means no such project (or none we may read).
      if ((await gerrit.getBranchRevision(project, CONFIG_REF)) === undefined) return 'missing';
      if ((await gerrit.getFileContent(project, CONFIG_REF, CONFIG_FILE)) === text) return 'unchanged';
      await pushDirect(connection, project, CONFIG_REF, { [CONFIG_FILE]: text }, 'Seakeeper CI configuration converted from the Zuul layout');
      return 'pushed';
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  });
  const pick = (want: One) => configs.filter((_, i) => results[i] === want).map((c) => c.project);
  return {
    pushed: pick('pushed'),
    unchanged: pick('unchanged'),
    missing: pick('missing'),
    failed: configs.flatMap((c, i) => {
      const result = results[i]!;
      return typeof result === 'object' ? [{ project: c.project, error: result.error }] : [];
    }),
  };
}
