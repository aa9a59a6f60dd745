// Where the inheritance walk (shared/config/inheritance.ts) gets seakeeper.yaml texts and parents: Gerrit's
// REST API, read once per project per reader. Ancestors are shared by many descendants (every extension
// inherits through `mediawiki`), so a reader that lives for one event or one reconcile pass asks Gerrit
// about each project once, and concurrent walks share the answer in flight.
import type { ProjectConfigReader } from '../config/inheritance.js';
import { CONFIG_FILE, CONFIG_REF } from '../config/project-config.js';
import { NotFoundError } from '../errors.js';
import type { GerritApi } from '../gerrit/client.js';

export type ConfigReaderGerrit = Pick<GerritApi, 'getFileContent' | 'getFileContentAt' | 'getProjectParent'>;

/** Git's all-zero object id: a ref update to it deleted the ref. */
export const ZERO_REVISION = '0'.repeat(40);

export interface ReaderOptions {
  /**
   * Read this project at this commit rather than at its branch head: the revision an event announced,
   * so that what is provisioned is what changed. ZERO_REVISION (refs/meta/config deleted) reads as no file.
   */
  readonly pin?: { readonly project: string; readonly revision: string };
  /**
   * Every project's parent, known beforehand (one listing of the whole tree for a reconcile pass), instead of
   * a call per project. A project missing from it does not exist.
   */
  readonly parents?: ReadonlyMap<string, string | undefined>;
}

export class GerritConfigReader implements ProjectConfigReader {
  readonly #gerrit: ConfigReaderGerrit;
  readonly #options: ReaderOptions;
  readonly #configs = new Map<string, Promise<string | undefined>>();
  readonly #parents = new Map<string, Promise<string | undefined>>();

  constructor(gerrit: ConfigReaderGerrit, options: ReaderOptions = {}) {
    this.#gerrit = gerrit;
    this.#options = options;
  }

  readConfig(project: string): Promise<string | undefined> {
    return once(this.#configs, project, async () => {
      // A project missing from a known tree is gone or hidden from us; Gerrit would answer 404, or 409 for a
      // hidden one, which reads like a transient conflict.
      if (this.#options.parents && !this.#options.parents.has(project)) throw missing(project);
      const pin = this.#options.pin;
      if (pin?.project !== project) return this.#gerrit.getFileContent(project, CONFIG_REF, CONFIG_FILE);
      if (pin.revision === ZERO_REVISION) return Promise.resolve(undefined);
      return this.#gerrit.getFileContentAt(project, pin.revision, CONFIG_FILE);
    });
  }

  parentOf(project: string): Promise<string | undefined> {
    return once(this.#parents, project, async () => {
      const known = this.#options.parents;
      if (!known) return this.#gerrit.getProjectParent(project);
      if (!known.has(project)) throw missing(project);
      return known.get(project);
    });
  }
}

const missing = (project: string) => new NotFoundError(`Gerrit project ${JSON.stringify(project)} does not exist (or is hidden)`);

function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (!pending) {
    pending = load();
    cache.set(key, pending);
  }
  return pending;
}
