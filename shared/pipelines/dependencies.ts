// A change's open dependencies, across projects (Zuul's cross-project dependencies): the changes its
// Depends-On footers name (shared/gerrit/depends-on.ts) and its git parents that are open changes, then theirs,
// and so on, put in the order they must merge — or the cycle that makes an order impossible.
//
// The pure core (wantedBy, levelQuery, matchLevel, mergeOrder) is separate from the one function that asks
// Gerrit (resolveDependencies), which reads one level of the graph per query: every change named at a depth
// is read with one `GET /changes/?q=change:… OR commit:…`, so a chain of ten changes costs ten queries, and ten
// changes named side by side cost one.
//
// What is not a dependency: a merged change (it is on its branch already), a git parent that is no change's
// patch set (the branch's own history). A Change-Id names every open change that has it (Zuul v2 did the
// same: a backport on each branch). What is reported rather than ignored: a footer naming another server or no
// change, a change that does not exist or is not visible, an abandoned dependency.
import { dependsOnFooters, type DependsOnProblem } from '../gerrit/depends-on.js';
import type { GerritApi } from '../gerrit/client.js';
import type { ChangeInfo, ChangeOption } from '../gerrit/types.js';
import type { QueuedChange } from './change-queue.js';
import { openDescendants } from './gate-eligibility.js';

/** What every change of the graph is read with: its current patch set's commit, message and parents. */
export const DEPENDENCY_OPTIONS: readonly ChangeOption[] = ['CURRENT_REVISION', 'CURRENT_COMMIT'];

/** What one change asks for: change numbers and Change-Ids (its footers) and commits (its git parents). */
export interface Wanted {
  readonly numbers: readonly number[];
  readonly changeIds: readonly string[];
  readonly commits: readonly string[];
}

export interface DependencyProblem {
  /** The change whose footer or parent it is about. */
  readonly change: number;
  /** One sentence for the author. */
  readonly reason: string;
}

/** One open change of the graph and the open changes it needs merged first. */
export interface DependencyNode {
  readonly change: ChangeInfo;
  readonly needs: readonly number[];
}

export type MergeOrder =
  /** Dependencies first, each after the ones it needs, the root last. */
  | { readonly ok: true; readonly order: readonly number[] }
  /** The changes of one cycle, in the order they need each other, the first repeated at the end. */
  | { readonly ok: false; readonly cycle: readonly number[] };

export interface Dependencies {
  /** The open changes in merge order, dependencies first, the root last; absent when they form a cycle. */
  readonly order?: readonly ChangeInfo[];
  readonly cycle?: readonly number[];
  readonly problems: readonly DependencyProblem[];
  /** Gerrit queries made (one per level of the graph). */
  readonly queries: number;
}

/** What `change` (read with DEPENDENCY_OPTIONS) names: its Depends-On footers and its git parents. */
export function wantedBy(change: ChangeInfo, webUrl: string): { wanted: Wanted; problems: DependencyProblem[] } {
  const commit = currentCommit(change);
  const footers = dependsOnFooters(commit.message ?? '', webUrl);
  const numbers = footers.dependencies.flatMap((d) => (d.kind === 'change' && d.number !== change._number ? [d.number] : []));
  const changeIds = footers.dependencies.flatMap((d) => (d.kind === 'change-id' && d.changeId !== change.change_id ? [d.changeId] : []));
  const problems = footers.problems.map((p: DependsOnProblem) => ({ change: change._number, reason: p.reason }));
  return { wanted: { numbers, changeIds, commits: commit.parents.map((p) => p.commit) }, problems };
}

/** The one query that reads everything `wanted` names that is not `known` yet; undefined when nothing is left. */
export function levelQuery(wanted: readonly Wanted[], known: { readonly numbers: ReadonlySet<number>; readonly changeIds: ReadonlySet<string>; readonly commits: ReadonlySet<string> }): string | undefined {
  const terms = new Set<string>();
  for (const w of wanted) {
    for (const n of w.numbers) if (!known.numbers.has(n)) terms.add(`change:${n}`);
    for (const id of w.changeIds) if (!known.changeIds.has(id)) terms.add(`change:${id}`);
    for (const c of w.commits) if (!known.commits.has(c)) terms.add(`commit:${c}`);
  }
  return terms.size > 0 ? [...terms].join(' OR ') : undefined;
}

/**
 * The open changes `change` needs among `read` (every change a query returned so far), and the problems with
 * what it names: a number or Change-Id nothing answered, an abandoned change named by a footer.
 */
export function matchLevel(change: ChangeInfo, wanted: Wanted, read: readonly ChangeInfo[]): { needs: ChangeInfo[]; problems: DependencyProblem[] } {
  const needs = new Map<number, ChangeInfo>();
  const problems: DependencyProblem[] = [];
  const take = (info: ChangeInfo) => {
    if (info.status === 'NEW' && info._number !== change._number) needs.set(info._number, info);
  };
  for (const number of wanted.numbers) {
    const info = read.find((c) => c._number === number);
    if (!info) problems.push({ change: change._number, reason: `Depends-On names change ${number}, which does not exist or which you cannot see` });
    else if (info.status === 'ABANDONED') problems.push({ change: change._number, reason: `it depends on change ${number}, which was abandoned` });
    else take(info);
  }
  for (const changeId of wanted.changeIds) {
    const named = read.filter((c) => c.change_id === changeId);
    if (named.length === 0) problems.push({ change: change._number, reason: `Depends-On names ${changeId}, which is no change you can see` });
    else if (named.every((c) => c.status === 'ABANDONED')) problems.push({ change: change._number, reason: `it depends on ${changeId}, which was abandoned` });
    named.forEach(take);
  }
  // A parent that is a patch set of an open change; one that is no change's is the branch's history.
  for (const commit of wanted.commits) {
    const info = read.find((c) => c.current_revision === commit || (c.revisions !== undefined && commit in c.revisions));
    if (info) take(info);
  }
  return { needs: [...needs.values()], problems };
}

/** The order `nodes` merge in, from `root`: each change after every change it needs (depth first), or a cycle. */
export function mergeOrder(root: number, nodes: ReadonlyMap<number, { readonly needs: readonly number[] }>): MergeOrder {
  const order: number[] = [];
  const done = new Set<number>();
  const path: number[] = [];
  const visit = (number: number): readonly number[] | undefined => {
    if (done.has(number)) return undefined;
    const at = path.indexOf(number);
    if (at >= 0) return [...path.slice(at), number];
    path.push(number);
    for (const need of [...(nodes.get(number)?.needs ?? [])].sort((a, b) => a - b)) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(number);
    order.push(number);
    return undefined;
  };
  const cycle = visit(root);
  return cycle ? { ok: false, cycle } : { ok: true, order };
}

/**
 * What restricts every query of `root`'s graph to the changes its owner and the uploader of its current patch
 * set may see (Gerrit's `visibleto:`): Seakeeper's account sees every project, and a footer must not bring a
 * change of a project they cannot read into their run (its code lands in their project's namespace). A change
 * hidden from them is "not visible", as a change that does not exist.
 */
export function visibleToAuthors(root: ChangeInfo): string {
  const revision = root.current_revision === undefined ? undefined : root.revisions?.[root.current_revision];
  const accounts = new Set([root.owner._account_id, revision?.uploader?._account_id].filter((id): id is number => id !== undefined));
  return [...accounts].map((id) => `visibleto:${id}`).join(' ');
}

/**
 * The open dependencies of `root` (read with DEPENDENCY_OPTIONS), in merge order, with one Gerrit query per
 * level of the graph, among the changes its authors may see (visibleToAuthors); `maxChanges` bounds how many
 * it reads (a footer chain is the author's to make long).
 */
export async function resolveDependencies(gerrit: Pick<GerritApi, 'queryChanges'>, root: ChangeInfo, webUrl: string, maxChanges = 100): Promise<Dependencies> {
  const nodes = new Map<number, DependencyNode>();
  const read: ChangeInfo[] = [root];
  const known = { numbers: new Set<number>([root._number]), changeIds: new Set<string>([root.change_id]), commits: new Set<string>() };
  const problems: DependencyProblem[] = [];
  let frontier: ChangeInfo[] = [root];
  let queries = 0;
  const audience = visibleToAuthors(root);
  while (frontier.length > 0) {
    const asked = frontier.map((change) => {
      const { wanted, problems: own } = wantedBy(change, webUrl);
      problems.push(...own);
      return { change, wanted };
    });
    const query = levelQuery(
      asked.map((a) => a.wanted),
      known,
    );
    if (query !== undefined) {
      queries += 1;
      const { changes } = await gerrit.queryChanges(`(${query}) ${audience}`.trim(), { options: DEPENDENCY_OPTIONS });
      for (const info of changes) if (!read.some((c) => c._number === info._number)) read.push(info);
      for (const a of asked) {
        a.wanted.numbers.forEach((n) => known.numbers.add(n));
        a.wanted.changeIds.forEach((id) => known.changeIds.add(id));
        a.wanted.commits.forEach((c) => known.commits.add(c));
      }
    }
    const next: ChangeInfo[] = [];
    for (const { change, wanted } of asked) {
      const matched = matchLevel(change, wanted, read);
      problems.push(...matched.problems);
      nodes.set(change._number, { change, needs: matched.needs.map((c) => c._number) });
      for (const need of matched.needs) {
        if (!nodes.has(need._number) && !next.includes(need) && !frontier.includes(need)) next.push(need);
      }
    }
    if (nodes.size + next.length > maxChanges) {
      problems.push({ change: root._number, reason: `its dependencies reach more than ${maxChanges} open changes` });
      return { problems, queries };
    }
    frontier = next;
  }
  const merged = mergeOrder(root._number, nodes);
  if (!merged.ok) return { cycle: merged.cycle, problems, queries };
  return { order: merged.order.map((n) => nodes.get(n)!.change), problems, queries };
}

type Named = Pick<ChangeInfo, 'project' | '_number' | 'change_id'>;

/**
 * The query for the open changes whose commit message may name one of `changes` in a Depends-On footer: their URL
 * forms as phrases (Gerrit's message search is by words), their Change-Ids. It finds more than it should (the
 * words elsewhere in a message): dependsOnChange tells the dependents from the rest.
 */
export function dependentsQuery(changes: readonly Named[], webUrl: string): string {
  const web = new URL(webUrl.endsWith('/') ? webUrl : `${webUrl}/`);
  const terms = changes.flatMap((change) => {
    const forms = [`${change.project}/+/${change._number}`, `${web.host}${web.pathname}${change._number}`, `c/${change._number}`];
    return [...forms.map((form) => `message:"${form.replaceAll('"', '')}"`), `message:${change.change_id}`];
  });
  return `status:open (${terms.join(' OR ')})`;
}

/** Whether `candidate` (read with DEPENDENCY_OPTIONS) names `change` in a Depends-On footer of its current patch set. */
export function dependsOnChange(candidate: ChangeInfo, change: Pick<ChangeInfo, '_number' | 'change_id'>, webUrl: string): boolean {
  if (candidate._number === change._number) return false;
  const { wanted } = wantedBy(candidate, webUrl);
  return wanted.numbers.includes(change._number) || wanted.changeIds.includes(change.change_id);
}

/** The open changes that name one of `changes` in a Depends-On footer of their current patch set: one query, their footers decide. */
export async function openDependents(gerrit: Pick<GerritApi, 'queryChanges'>, changes: readonly Named[], webUrl: string): Promise<ChangeInfo[]> {
  if (changes.length === 0) return [];
  const { changes: candidates } = await gerrit.queryChanges(dependentsQuery(changes, webUrl), { options: DEPENDENCY_OPTIONS });
  return candidates.filter((candidate) => candidate.status === 'NEW' && changes.some((change) => dependsOnChange(candidate, change, webUrl)));
}

/** How many changes one new patch set may send back to be checked again (a bound, not an expectation). */
export const MAX_TESTED_WITH = 50;

export interface TestedWith {
  /** The open changes, each once, nearest first. */
  readonly changes: readonly ChangeInfo[];
  /** More than the bound depended on it: the rest are left out. */
  readonly truncated: boolean;
  /** Gerrit requests made. */
  readonly requests: number;
}

/**
 * Every open change whose check tests `change` merged in: the changes that name it in a Depends-On footer, the
 * changes that name those, and so on, and with each of them the open changes stacked on it (their tree holds
 * it). A new patch set of `change` makes all their runs stale, not only those of its direct dependents. One
 * query per level for the footers, one related-changes read per dependent and one query per level for the
 * changes stacked on them. A change stacked on `change` itself is not in it: it holds `change`'s old patch set in
 * its own history, and a new patch set of it is its author's to upload.
 */
export async function testedWith(gerrit: Pick<GerritApi, 'queryChanges' | 'getRelatedChanges'>, change: Named, webUrl: string, max = MAX_TESTED_WITH): Promise<TestedWith> {
  const found = new Map<number, ChangeInfo>();
  let requests = 0;
  let frontier: readonly Named[] = [change];
  const add = (infos: readonly ChangeInfo[]): ChangeInfo[] => {
    const fresh = infos.filter((info, i) => info._number !== change._number && !found.has(info._number) && infos.findIndex((other) => other._number === info._number) === i);
    for (const info of fresh) found.set(info._number, info);
    return fresh;
  };
  while (frontier.length > 0 && found.size <= max) {
    requests += 1;
    const named = add(await openDependents(gerrit, frontier, webUrl));
    const stackedNumbers = new Set<number>();
    for (const dependent of named) {
      requests += 1;
      const related = await gerrit.getRelatedChanges(`${dependent.project}~${dependent._number}`);
      for (const number of openDescendants(dependent, related)) if (!found.has(number) && number !== change._number) stackedNumbers.add(number);
    }
    let stacked: ChangeInfo[] = [];
    if (stackedNumbers.size > 0) {
      requests += 1;
      const query = [...stackedNumbers].map((n) => `change:${n}`).join(' OR ');
      stacked = add((await gerrit.queryChanges(query, { options: DEPENDENCY_OPTIONS })).changes.filter((c) => c.status === 'NEW' && stackedNumbers.has(c._number)));
    }
    frontier = [...named, ...stacked];
  }
  const changes = [...found.values()];
  return { changes: changes.slice(0, max), truncated: changes.length > max, requests };
}

/** A change read with its current revision, as a run's SEAKEEPER_CHANGES names it. */
export function queuedChangeOf(change: ChangeInfo): QueuedChange {
  const revision = change.current_revision === undefined ? undefined : change.revisions?.[change.current_revision];
  if (!revision) throw new Error(`change ${change._number} was read without CURRENT_REVISION`);
  return { project: change.project, branch: change.branch, change: change._number, patchset: revision._number, ref: revision.ref, revision: change.current_revision! };
}

function currentCommit(change: ChangeInfo) {
  const revision = change.current_revision === undefined ? undefined : change.revisions?.[change.current_revision];
  if (!revision?.commit) throw new Error(`change ${change._number} was read without CURRENT_REVISION and CURRENT_COMMIT`);
  return revision.commit;
}
