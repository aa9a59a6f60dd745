// The Gerrit calls Seakeeper makes, over GerritRest. Domain code depends on `GerritApi` (or a `Pick` of it)
// so that the functional core and its tests never need a server.
import { NotFoundError, PermanentError } from '../errors.js';
import { encodeId, GerritRest, parseGerritJson, type GerritConnection } from './rest.js';
import type { AccountInfo, BranchInfo, ChangeInfo, ChangeOption, FileInfo, ProjectInfo, ProjectType, RelatedChangeAndCommitInfo, ReviewInput, ReviewResult } from './types.js';

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

/**
 * Gerrit answered a review with 200 but left votes out (see unappliedVotes): the message, if any, was posted.
 * Permanent — posting again would post the message twice and still not vote.
 */
export class VotesNotAppliedError extends PermanentError {
  constructor(
    path: string,
    /** `Label=value` of each vote left out. */
    readonly dropped: readonly string[],
  ) {
    super(`Gerrit POST ${path}: votes not applied: ${dropped.join(', ')} (no such label on the change, or a value outside its range)`);
  }
}

/** A full commit SHA-1: the only revision form the commits endpoints take, and what events carry. */
const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * REST paths of the endpoints below, pure so that their encoding is tested without a server. Every id is one
 * path segment (encodeId); a commit must be a full SHA-1, since it comes from event data.
 */
export const gerritPaths = {
  branch: (project: string, branch: string) => `projects/${encodeId(project)}/branches/${encodeId(branch)}`,
  branchFile: (project: string, branch: string, path: string) =>
    `projects/${encodeId(project)}/branches/${encodeId(branch)}/files/${encodeId(path)}/content`,
  commitFile: (project: string, commit: string, path: string) => {
    if (!COMMIT_ID.test(commit)) throw new PermanentError(`${JSON.stringify(commit)} is not a commit SHA-1`);
    return `projects/${encodeId(project)}/commits/${commit}/files/${encodeId(path)}/content`;
  },
  revisionFiles: (changeId: string, revision: string) => `changes/${encodeId(changeId)}/revisions/${encodeId(revision)}/files`,
  children: (project: string) => `projects/${encodeId(project)}/children/`,
  related: (changeId: string, revision: string) => `changes/${encodeId(changeId)}/revisions/${encodeId(revision)}/related`,
  groupMembers: (group: string) => `groups/${encodeId(group)}/members/`,
  branches: (project: string) => `projects/${encodeId(project)}/branches/`,
};

/**
 * Gerrit lists these magic entries among a revision's files: the commit message, a merge's list of commits,
 * and patch-set-level comments. None is a file in the repository.
 */
export const MAGIC_FILES: ReadonlySet<string> = new Set(['/COMMIT_MSG', '/MERGE_LIST', '/PATCHSET_LEVEL']);

/** The repository paths a revision touches (added, modified, deleted; a rename's old path too), sorted. */
export function changedPaths(files: Readonly<Record<string, FileInfo>>): string[] {
  const paths = new Set<string>();
  for (const [path, info] of Object.entries(files)) {
    if (MAGIC_FILES.has(path)) continue;
    paths.add(path);
    if (info.old_path !== undefined) paths.add(info.old_path);
  }
  return [...paths].sort();
}

export interface ListProjectsOptions {
  /** Ask for each project's parent too (Gerrit's `t` option), to walk inheritance without a call per project. */
  parents?: boolean;
}

export interface GerritApi {
  /**
   * A file's text on a branch (`refs/meta/config` included), or undefined when Gerrit answers 404: the file,
   * the branch or the project does not exist. A project without `seakeeper.yaml` is the common case, not an
   * error, and Gerrit's 404 does not say which of the three is missing.
   */
  getFileContent(project: string, branch: string, path: string): Promise<string | undefined>;
  /**
   * A file's text at a commit (e.g. the new revision of a ref update, or a patch set's), or undefined when
   * Gerrit answers 404: the file is not in that commit, or the commit or project is not visible.
   */
  getFileContentAt(project: string, commit: string, path: string): Promise<string | undefined>;
  /** The commit a branch (`refs/meta/config` included) points at, or undefined when the branch or project does not exist. */
  getBranchRevision(project: string, branch: string): Promise<string | undefined>;
  /** The files a revision of a change touches, compared with its first parent, as Gerrit lists them (magic files included). */
  listRevisionFiles(changeId: string, revision: string): Promise<Record<string, FileInfo>>;
  /** Throws NotFoundError when the change does not exist (or is not visible to us). */
  getChange(changeId: string, options?: readonly ChangeOption[]): Promise<ChangeInfo>;
  queryChanges(query: string, options?: QueryOptions): Promise<QueryResult>;
  /**
   * The changes related to a revision (`current` by default) by ancestry, open or not, the change itself
   * included: its ancestors and descendants, newest first. Empty when the revision is related to nothing.
   */
  getRelatedChanges(changeId: string, revision?: string): Promise<RelatedChangeAndCommitInfo[]>;
  /**
   * `revision` is a commit SHA-1, a patchset number, or `current`. A vote Gerrit did not apply is a
   * VotesNotAppliedError (the message, if any, was posted); a vote the account may not cast is a
   * ForbiddenError (nothing was posted).
   */
  postReview(changeId: string, revision: string, review: ReviewInput): Promise<ReviewResult>;
  submit(changeId: string): Promise<ChangeInfo>;
  /** The parent project's name; undefined for the root (All-Projects). */
  getProjectParent(project: string): Promise<string | undefined>;
  listProjects(type?: ProjectType, options?: ListProjectsOptions): Promise<ProjectInfo[]>;
  /** Projects whose parent is `project` (all descendants when `recursive`). NotFoundError: no such project. */
  listChildProjects(project: string, options?: { recursive?: boolean }): Promise<ProjectInfo[]>;
  /**
   * A group's members, those of the groups it includes too (`recursive`); the group named by name or UUID.
   * NotFoundError: no such group, or one we may not see.
   */
  listGroupMembers(group: string): Promise<AccountInfo[]>;
  /** The project's branches (refs/heads/…, and Gerrit's HEAD and refs/meta/config entries) with their revisions. */
  listBranches(project: string): Promise<BranchInfo[]>;
}

export class GerritClient implements GerritApi {
  readonly #rest: GerritRest;

  constructor(connection: GerritConnection) {
    this.#rest = new GerritRest(connection);
  }

  async getFileContent(project: string, branch: string, path: string): Promise<string | undefined> {
    return this.#fileContent(gerritPaths.branchFile(project, branch, path));
  }

  async getFileContentAt(project: string, commit: string, path: string): Promise<string | undefined> {
    return this.#fileContent(gerritPaths.commitFile(project, commit, path));
  }

  async #fileContent(url: string): Promise<string | undefined> {
    try {
      const { body, headers } = await this.#rest.request('GET', url, { accept: 'text/plain' });
      return decodeFileContent(body, headers.get('x-fyi-content-encoding'));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async getBranchRevision(project: string, branch: string): Promise<string | undefined> {
    try {
      return (await this.#rest.json<BranchInfo>('GET', gerritPaths.branch(project, branch))).revision;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async listRevisionFiles(changeId: string, revision: string): Promise<Record<string, FileInfo>> {
    return this.#rest.json('GET', gerritPaths.revisionFiles(changeId, revision));
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

  async getRelatedChanges(changeId: string, revision = 'current'): Promise<RelatedChangeAndCommitInfo[]> {
    return (await this.#rest.json<{ changes?: RelatedChangeAndCommitInfo[] }>('GET', gerritPaths.related(changeId, revision))).changes ?? [];
  }

  async postReview(changeId: string, revision: string, review: ReviewInput): Promise<ReviewResult> {
    const path = `changes/${encodeId(changeId)}/revisions/${encodeId(revision)}/review`;
    const result = await this.#rest.json<ReviewResult>('POST', path, { body: review });
    const dropped = unappliedVotes(review.labels, result);
    if (dropped.length > 0) throw new VotesNotAppliedError(path, dropped);
    return result;
  }

  async submit(changeId: string): Promise<ChangeInfo> {
    return this.#rest.json('POST', `changes/${encodeId(changeId)}/submit`, { body: {} });
  }

  async getProjectParent(project: string): Promise<string | undefined> {
    const parent = await this.#rest.json<string>('GET', `projects/${encodeId(project)}/parent`);
    return parent === '' ? undefined : parent;
  }

  async listProjects(type: ProjectType = 'ALL', { parents = false }: ListProjectsOptions = {}): Promise<ProjectInfo[]> {
    // Gerrit answers a map keyed by name, whose values leave the name out.
    const byName = await this.#rest.json<Record<string, Omit<ProjectInfo, 'name'>>>('GET', 'projects/', {
      query: { type, t: parents ? 'true' : undefined },
    });
    return Object.entries(byName).map(([name, info]) => ({ ...info, name }));
  }

  async listChildProjects(project: string, { recursive = false }: { recursive?: boolean } = {}): Promise<ProjectInfo[]> {
    return this.#rest.json('GET', gerritPaths.children(project), { query: { recursive: recursive ? 'true' : undefined } });
  }

  async listBranches(project: string): Promise<BranchInfo[]> {
    return this.#rest.json('GET', gerritPaths.branches(project));
  }

  async listGroupMembers(group: string): Promise<AccountInfo[]> {
    return this.#rest.json('GET', gerritPaths.groupMembers(group), { query: { recursive: 'true' } });
  }
}
