// Shared gate queues as Zuul v2 made them (DependentPipelineManager.buildChangeQueues): in each dependent
// pipeline every project starts in a queue of its own, and two queues become one whenever they have a job in
// common, until no two do: the transitive closure of "shares a job". A project's jobs are all of them, its
// templates' included, since Zuul expanded templates into jobs before it compared them. A queue is named by a
// job's `queue-name` when one of its jobs has one (as Zuul named it), else after its alphabetically first
// project. A project alone in its queue gets none: without `queue:` it gates alone in Seakeeper too.
import { compare } from '../config/project-config.js';
import { jobsIn, type ZuulLayout } from './layout.js';
import { queueName } from './names.js';
import type { Note } from './notes.js';

export interface SharedQueue {
  /** The Zuul pipeline. */
  readonly pipeline: string;
  readonly name: string;
  /** Sorted. */
  readonly projects: readonly string[];
  /** The jobs its projects run in the pipeline. */
  readonly jobs: number;
}

export interface QueuesResult {
  /** Largest first, then by pipeline and name. */
  readonly queues: readonly SharedQueue[];
  /** Zuul pipeline → project → its shared queue's name (projects gating alone are absent). */
  readonly queueOf: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly notes: readonly Note[];
}

/** The shared queues of `pipelines` (Zuul's dependent ones). Pure. */
export function sharedQueues(layout: ZuulLayout, pipelines: readonly string[]): QueuesResult {
  const projectNames = new Set(layout.projects.map((p) => p.name));
  const queues: SharedQueue[] = [];
  const queueOf = new Map<string, Map<string, string>>();
  const notes: Note[] = [];

  for (const pipeline of pipelines) {
    const members = layout.projects.filter((p) => p.pipelines.has(pipeline)).map((p) => ({ name: p.name, jobs: jobsIn(p, pipeline) }));
    // Union-find over projects, joined through each job's first project.
    const parent = members.map((_, i) => i);
    const root = (i: number): number => {
      while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
      return i;
    };
    const firstWith = new Map<string, number>();
    members.forEach((member, i) => {
      for (const job of member.jobs) {
        const other = firstWith.get(job);
        if (other === undefined) firstWith.set(job, i);
        else parent[root(i)] = root(other);
      }
    });
    const groups = new Map<number, number[]>();
    members.forEach((_, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), i]));

    const jobsOf = new Map(members.map((m) => [m.name, m.jobs]));
    const named = new Map<string, string>();
    const used = new Set<string>();
    const shared = [...groups.values()]
      .filter((group) => group.length > 1)
      .map((group) => group.map((i) => members[i]!.name).sort(compare))
      .sort((a, b) => compare(a[0]!, b[0]!));
    for (const projects of shared) {
      const jobs = new Set(projects.flatMap((name) => jobsOf.get(name)!));
      const assigned = [...new Set([...jobs].flatMap((job) => layout.jobs.get(job)?.queueName ?? []))].sort(compare);
      if (assigned.length > 1) {
        notes.push({
          kind: 'queue: several queue-names',
          where: `pipeline ${pipeline}`,
          detail: `the queue of ${projects[0]} and ${projects.length - 1} more has jobs naming queues ${assigned.join(', ')} (Zuul v2 refuses such a layout); named ${queueName(assigned[0]!)}`,
        });
      }
      let name = queueName(assigned[0] ?? projects[0]!);
      // One queue per name in a pipeline; and a name that is another project's own would take its queue away
      // (queueRefusal: a project whose name is a shared queue's it is not among has none of its own).
      const clashes = (candidate: string) => used.has(candidate) || (projectNames.has(candidate) && !projects.includes(candidate));
      if (clashes(name)) {
        const base = name.slice(0, 57);
        let n = 2;
        while (clashes(`${base}-q${n}`)) n++;
        notes.push({ kind: 'queue: name taken', where: `pipeline ${pipeline}`, detail: `queue ${name} of ${projects[0]} is named ${base}-q${n}: the name is taken` });
        name = `${base}-q${n}`;
      }
      used.add(name);
      for (const project of projects) named.set(project, name);
      queues.push({ pipeline, name, projects, jobs: jobs.size });
    }
    queueOf.set(pipeline, named);
  }
  queues.sort((a, b) => b.projects.length - a.projects.length || compare(a.pipeline, b.pipeline) || compare(a.name, b.name));
  return { queues, queueOf, notes };
}

/**
 * The system policy's `sharedQueues` for these queues: each name with the projects that may name it, across
 * pipelines. A prefix is written `prefix/*` only when every project of the layout under it is in the queue, so
 * the policy opens the queue to nobody Zuul kept out of it (beyond projects created after the layout).
 */
export function sharedQueuesPolicy(queues: readonly SharedQueue[], allProjects: readonly string[]): Record<string, string[]> {
  const under = prefixCounts(allProjects);
  const byName = new Map<string, Set<string>>();
  for (const queue of queues) {
    const set = byName.get(queue.name) ?? new Set<string>();
    for (const project of queue.projects) set.add(project);
    byName.set(queue.name, set);
  }
  const policy: Record<string, string[]> = {};
  for (const name of [...byName.keys()].sort(compare)) {
    const members = [...byName.get(name)!].sort(compare);
    const inQueue = prefixCounts(members);
    const patterns = new Set<string>();
    for (const member of members) {
      const prefix = prefixesOf(member).find((p) => (under.get(p) ?? 0) >= 2 && inQueue.get(p) === under.get(p));
      patterns.add(prefix === undefined ? member : `${prefix}/*`);
    }
    policy[name] = [...patterns].sort(compare);
  }
  return policy;
}

/** `a/b/c` → `a`, `a/b`: the folders a project is under, outermost first. */
function prefixesOf(project: string): string[] {
  const parts = project.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

function prefixCounts(projects: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const project of projects) for (const prefix of prefixesOf(project)) counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  return counts;
}
