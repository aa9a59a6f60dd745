// The Gerrit calls Seakeeper makes, over GerritRest. Domain code depends on `GerritApi` (or a `Pick` of it)
// so that the functional core and its tests never need a server.
import { NotFoundError, PermanentError } from '../errors.js';
import { encodeId, GerritRest, parseGerritJson, type GerritConnection } from './rest.js';
import type { ChangeInfo, ChangeOption, ProjectInfo, ProjectType, ReviewInput, ReviewResult } from './types.js';

export interface QueryOptions {
  options?: readonly ChangeOption[];
  /** Page size (`n`); Gerrit applies its own cap. */
  limit?: number;
  /** Changes to skip (`S`), for the next page. */
  start?: number;
}

export interface QueryResult {
  changes: ChangeInfo[];
  /** More changes matched than this page holds. */
  more: boolean;
}

/**
 * The content endpoint says in `X-FYI-Content-Encoding` how it wrapped the file: base64 text when asked for
 * text/plain, a JSON string (with the XSSI prefix) when the client accepts JSON.
 */
export function decodeFileContent(body: string, encoding: string | null): string {
  if (encoding === 'json') return parseGerritJson<string>(body, 'Gerrit file content');
  if (encoding === 'base64' || encoding === null) return Buffer.from(body, 'base64').toString('utf8');
  throw new PermanentError(`Gerrit file content: unknown X-FYI-Content-Encoding ${JSON.stringify(encoding)}`);
}

/**
 * The requested votes a review answer does not confirm. Gerrit 3.10 answers 200 to a vote on a label the
 * change does not have or with a value outside the label's range, and silently leaves it out; the answer's
 * `labels` echoes exactly the votes it applied (repeats included), so a missing one was dropped.
 */
export function unappliedVotes(requested: Readonly<Record<string, number>> | undefined, result: ReviewResult): string[] {
  return Object.entries(requested ?? {})
    .filter(([label, value]) => result.labels?.[label] !== value)
    .map(([label, value]) => `${label}=${value}`);
}

export interface GerritApi {
  /**
   * A file's text on a branch (`refs/meta/config` included), or undefined when Gerrit answers 404: the file,
   * the branch or the project does not exist. A project without `seakeeper.yaml` is the common case, not an
   * error, and Gerrit's 404 does not say which of the three is missing.
   */
  getFileContent(project: string, branch: string, path: string): Promise<string | undefined>;
  /** Throws NotFoundError when the change does not exist (or is not visible to us). */
  getChange(changeId: string, options?: readonly ChangeOption[]): Promise<ChangeInfo>;
  queryChanges(query: string, options?: QueryOptions): Promise<QueryResult>;
  /**
   * `revision` is a commit SHA-1, a patchset number, or `current`. A vote Gerrit did not apply is a
   * PermanentError (the message, if any, was posted).
   */
  postReview(changeId: string, revision: string, review: ReviewInput): Promise<ReviewResult>;
  submit(changeId: string): Promise<ChangeInfo>;
  /** The parent project's name; undefined for the root (All-Projects). */
  getProjectParent(project: string): Promise<string | undefined>;
  listProjects(type?: ProjectType): Promise<ProjectInfo[]>;
}

export class GerritClient implements GerritApi {
  readonly #rest: GerritRest;

  constructor(connection: GerritConnection) {
    this.#rest = new GerritRest(connection);
  }

  async getFileContent(project: string, branch: string, path: string): Promise<string | undefined> {
    const url = `projects/${encodeId(project)}/branches/${encodeId(branch)}/files/${encodeId(path)}/content`;
    try {
      const { body, headers } = await this.#rest.request('GET', url, { accept: 'text/plain' });
      return decodeFileContent(body, headers.get('x-fyi-content-encoding'));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async getChange(changeId: string, options: readonly ChangeOption[] = []): Promise<ChangeInfo> {
    return this.#rest.json('GET', `changes/${encodeId(changeId)}`, { query: { o: options } });
  }

  async queryChanges(query: string, { options = [], limit, start }: QueryOptions = {}): Promise<QueryResult> {
    const changes = await this.#rest.json<ChangeInfo[]>('GET', 'changes/', {
      query: { q: query, o: options, n: limit, S: start },
    });
    return { changes, more: changes.at(-1)?._more_changes === true };
  }

  async postReview(changeId: string, revision: string, review: ReviewInput): Promise<ReviewResult> {
    const path = `changes/${encodeId(changeId)}/revisions/${encodeId(revision)}/review`;
    const result = await this.#rest.json<ReviewResult>('POST', path, { body: review });
    const dropped = unappliedVotes(review.labels, result);
    if (dropped.length > 0) {
      throw new PermanentError(
        `Gerrit POST ${path}: votes not applied: ${dropped.join(', ')} (no such label on the change, or a value outside its range)`,
      );
    }
    return result;
  }

  async submit(changeId: string): Promise<ChangeInfo> {
    return this.#rest.json('POST', `changes/${encodeId(changeId)}/submit`, { body: {} });
  }

  async getProjectParent(project: string): Promise<string | undefined> {
    const parent = await this.#rest.json<string>('GET', `projects/${encodeId(project)}/parent`);
    return parent === '' ? undefined : parent;
  }

  async listProjects(type: ProjectType = 'ALL'): Promise<ProjectInfo[]> {
    // Gerrit answers a map keyed by name, whose values leave the name out.
    const byName = await this.#rest.json<Record<string, Omit<ProjectInfo, 'name'>>>('GET', 'projects/', {
      query: { type },
    });
    return Object.entries(byName).map(([name, info]) => ({ ...info, name }));
  }
}
