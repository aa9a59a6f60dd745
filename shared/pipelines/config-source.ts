// Where the pipeline shells read project configuration: refs/meta/config through Gerrit's REST API, with a
// process-wide cache keyed by the commit it was read at. Each event first asks where each project's
// refs/meta/config points (one call per project of the inheritance chain, memoised for the event); the
// seakeeper.yaml, the parent and the workflow files at that commit are read once per process, since a commit
// never changes. A push to refs/meta/config is a new commit and so a new key: nothing is ever stale, and the
// config and the workflow file of one event come from the same commit.
//
// The effective config (inheritance.ts) is kept too, per project, with the commits of its chain: an event whose
// chain is at the same commits gets the same result without walking and parsing again (the walk reads nothing
// but those commits' files and parents, so equal commits mean an equal result).
import { resolveEffectiveConfig, type EffectiveConfig, type ProjectConfigReader } from '../config/inheritance.js';
import type { Policy } from '../config/policy.js';
import { CONFIG_FILE, CONFIG_REF } from '../config/project-config.js';
import { NotFoundError } from '../errors.js';
import type { GerritApi } from '../gerrit/client.js';

export type ConfigSourceGerrit = Pick<GerritApi, 'getBranchRevision' | 'getFileContentAt' | 'getProjectParent'>;

/** Enough for the configs and workflow files of thousands of projects; the largest file allowed is 256 KiB. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** What an entry costs besides its text: the key and the map's bookkeeping. */
const ENTRY_OVERHEAD = 200;

/** Least recently used entries go first once the texts held pass `maxBytes`. */
export class RevisionCache {
  readonly #entries = new Map<string, { value: string | undefined; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes = DEFAULT_CACHE_BYTES) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The value read for `key`, or undefined when nothing is cached (a cached absent file is `{ value: undefined }`). */
  get(key: string): { value: string | undefined } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { value: entry.value };
  }

  set(key: string, value: string | undefined): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#entries.delete(key);
    }
    const bytes = ENTRY_OVERHEAD + key.length + (value?.length ?? 0) * 2;
    if (bytes > this.maxBytes) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  /** The cached value for `key`, else `load()`'s, kept. Concurrent loads of one key may both call Gerrit: harmless. */
  async through(key: string, load: () => Promise<string | undefined>): Promise<string | undefined> {
    const hit = this.get(key);
    if (hit) return hit.value;
    const value = await load();
    this.set(key, value);
    return value;
  }
}

/** One event's view of refs/meta/config: each project's head read once, everything else through the cache. */
export class EventConfigReader implements ProjectConfigReader {
  readonly #gerrit: ConfigSourceGerrit;
  readonly #cache: RevisionCache;
  readonly #heads = new Map<string, Promise<string>>();

  constructor(gerrit: ConfigSourceGerrit, cache: RevisionCache) {
    this.#gerrit = gerrit;
    this.#cache = cache;
  }

  /** The commit refs/meta/config of `project` points at now. NotFoundError: no such project. */
  revisionOf(project: string): Promise<string> {
    let head = this.#heads.get(project);
    if (!head) {
      head = this.#gerrit.getBranchRevision(project, CONFIG_REF).then((revision) => {
        if (revision === undefined) throw new NotFoundError(`Gerrit project ${JSON.stringify(project)} (or its ${CONFIG_REF}) does not exist`);
        return revision;
      });
      this.#heads.set(project, head);
    }
    return head;
  }

  async readConfig(project: string): Promise<string | undefined> {
    return this.readFile(project, CONFIG_FILE);
  }

  async parentOf(project: string): Promise<string | undefined> {
    const revision = await this.revisionOf(project);
    return this.#cache.through(key(project, revision, 'parent'), () => this.#gerrit.getProjectParent(project));
  }

  /** A file on refs/meta/config of `project` (a workflow definition), at the commit this event saw; undefined when absent. */
  async readFile(project: string, path: string): Promise<string | undefined> {
    const revision = await this.revisionOf(project);
    return this.#cache.through(key(project, revision, `file:${path}`), () => this.#gerrit.getFileContentAt(project, revision, path));
  }
}

const key = (project: string, revision: string, what: string) => `${project}\u0000${revision}\u0000${what}`;

/** Projects whose effective config is kept; the least recently used go first. */
export const EFFECTIVE_CONFIGS_KEPT = 4096;

/** Effective configs by project, each with the refs/meta/config commits of its chain. */
export class EffectiveConfigCache {
  readonly #entries = new Map<string, { chain: readonly string[]; revisions: readonly string[]; effective: EffectiveConfig }>();

  constructor(
    readonly policy: Policy,
    readonly max = EFFECTIVE_CONFIGS_KEPT,
  ) {}

  /** resolveEffectiveConfig through this event's reader, unless the chain is still at the commits it was resolved at. */
  async resolve(project: string, reader: EventConfigReader): Promise<EffectiveConfig> {
    const kept = this.#entries.get(project);
    if (kept) {
      const now = await Promise.all(kept.chain.map((p) => reader.revisionOf(p).catch(() => undefined)));
      if (now.every((revision, i) => revision === kept.revisions[i])) {
        this.#entries.delete(project);
        this.#entries.set(project, kept);
        return kept.effective;
      }
    }
    const effective = await resolveEffectiveConfig(project, reader, this.policy);
    if (effective.kind !== 'missing-project') {
      // The walk read each project's head already (the reader keeps them for the event): no further calls.
      const revisions = await Promise.all(effective.chain.map((p) => reader.revisionOf(p)));
      this.#entries.delete(project);
      this.#entries.set(project, { chain: effective.chain, revisions, effective });
      if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return effective;
  }
}
