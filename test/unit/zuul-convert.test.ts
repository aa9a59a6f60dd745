// `npm run import-zuul` on small layouts, one edge at a time: merge keys, a template and jobs in one pipeline, a
// job pattern, a project in no pipeline, a pipeline the layout does not define, names that need sanitizing,
// queues joined through templates and transitively, branch, ref, comment and e-mail patterns, the sets of accounts
// Zuul's e-mail filters become, the vote filters of triggers, and ref pipelines (change-merged, ref-updated, timer).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { parsePipelines } from '../../shared/config/pipeline-config.js';
import { formatProblem } from '../../shared/config/yaml.js';
import { convertLayoutText, outputFiles, projectPath, type Conversion } from '../../shared/zuul/convert.js';
import { flattenJobs, parseLayout } from '../../shared/zuul/layout.js';
import { pipelineName, queueName, workflowTemplateName } from '../../shared/zuul/names.js';
import { summaryText } from '../../shared/zuul/report.js';
import { commandOf } from '../../shared/zuul/accounts.js';
import { anchored, branchFilter, commentPattern, emailPattern, refFilter } from '../../shared/zuul/regex.js';
import { validateOutputs } from '../../shared/zuul/validate.js';

const GATE = `
  - name: gate
    manager: DependentPipelineManager
    precedence: high
    trigger:
      gerrit:
        - event: comment-added
          approval: [{ code-review: 2 }]
    success: { gerrit: { verified: 2, submit: true } }
    failure: { gerrit: { verified: -1 } }
  - name: check
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
    success: { gerrit: { verified: 1 } }
    failure: { gerrit: { verified: -1 } }
`;

function convert(text: string): Conversion {
  const result = convertLayoutText(text);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.conversion;
}

const projectDoc = (conversion: Conversion, project: string) =>
  parse(outputFiles(conversion, 'layout.yaml').get(projectPath(project)!)!) as { pipelines: Record<string, { workflowTemplate: string; queue?: string }> };

test("yaml's merge option expands YAML 1.1 merge keys, both spellings", () => {
  const layout = parseLayout(`
pipelines:
  - &base { name: a, manager: IndependentPipelineManager, precedence: low }
  - <<: *base
    name: b
  - !!merge : *base
    name: c
projects: []
`);
  assert.ok(layout.ok);
  if (!layout.ok) return;
  assert.equal(
    layout.layout.pipelines.map((p) => [p.name, p.manager, p.precedence]),
    [['a', 'IndependentPipelineManager', 'low'], ['b', 'IndependentPipelineManager', 'low'], ['c', 'IndependentPipelineManager', 'low']],
  );
});

test('a layout that is not one is refused with reasons, not an exception', () => {
  assert.equal(parseLayout('[1, 2]'), { ok: false, problems: ['a layout is a mapping with pipelines and projects'] });
  const bad = parseLayout('pipelines: [{ manager: x }]\nprojects: [{ name: a }, { name: a }]\n');
  assert.not.ok(bad.ok);
  if (!bad.ok) assert.equal(bad.problems, ['pipelines[0]: an entry with a name is expected', 'pipelines: the layout defines none', 'projects: a is listed twice']);
});

test('a template and jobs in the same pipeline: the template names the WorkflowTemplate, the rest are in a comment', () => {
  const conversion = convert(`
pipelines:${GATE}
project-templates:
  - name: php_tests
    check: [php-lint, php-unit]
projects:
  - name: a
    template: [{ name: php_tests }]
    check: [own-job]
`);
  assert.equal(projectDoc(conversion, 'a').pipelines, { check: { workflowTemplate: 'php-tests' } });
  const text = outputFiles(conversion, 'layout.yaml').get('projects/a/seakeeper.yaml')!;
  assert.match(text, /# Zuul check: template php_tests; jobs own-job\n\s+# one Workflow per pipeline: php-tests runs what all of them ran/);
});

test('job trees are flattened: every job of the tree is one of the pipeline\'s', () => {
  assert.equal(flattenJobs(['a', { b: ['c', { d: ['e'] }] }, 'f']), ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a project in no pipeline gets a seakeeper.yaml with none; an undefined pipeline is noted and left out', () => {
  const conversion = convert(`
pipelines:${GATE}
projects:
  - name: idle
  - name: odd
    nightly: [job-x]
    check: [job-y]
`);
  assert.equal(projectDoc(conversion, 'idle').pipelines, {});
  assert.equal(projectDoc(conversion, 'odd').pipelines, { check: { workflowTemplate: 'job-y' } });
  assert.ok(conversion.notes.some((n) => n.kind === 'project: unknown pipeline' && n.where === 'project odd' && n.detail.includes('nightly')));
  assert.equal(validateOutputs(outputFiles(conversion, 'layout.yaml')), []);
});

test('names are sanitized: pipelines, WorkflowTemplates, queues', () => {
  assert.is(pipelineName('gate-and-submit-1_43'), 'gate-and-submit-1-43');
  assert.is(pipelineName('Gate_And.Submit'), 'gate-and-submit');
  assert.is(pipelineName('2nd'), 'p-2nd');
  assert.is(pipelineName('x'.repeat(60)).length, 40);
  assert.is(workflowTemplateName('mediawiki-vagrant-ruby2.7-rake'), 'mediawiki-vagrant-ruby2.7-rake');
  assert.is(workflowTemplateName('Extension_Quibble..x-'), 'extension-quibble.x');
  assert.is(queueName('mediawiki/extensions/AbuseFilter'), 'mediawiki-extensions-abusefilter');
  assert.is(queueName('a/'.repeat(50)).length <= 63, true);

  const conversion = convert(`
pipelines:
  - name: Gate_And.Submit 1_43
    manager: DependentPipelineManager
    trigger: { gerrit: [{ event: comment-added, approval: [{ code-review: 2 }] }] }
    success: { gerrit: { verified: 2, submit: true } }
projects:
  - name: a
    Gate_And.Submit 1_43: [Some_Job]
`);
  const files = outputFiles(conversion, 'layout.yaml');
  const result = parsePipelines(files.get('pipelines.yaml')!);
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  if (result.ok) assert.equal(result.pipelines.map((p) => [p.name, p.tag]), [['gate-and-submit-1-43', 'autogenerated:seakeeper-gate-and-submit-1-43']]);
  assert.equal(projectDoc(conversion, 'a').pipelines, { 'gate-and-submit-1-43': { workflowTemplate: 'some-job' } });
  assert.match(files.get('pipelines.yaml')!, /# Zuul pipeline Gate_And.Submit 1_43, renamed gate-and-submit-1-43/);
});

test('queues: shared through a template job, transitively, named after the first project; a loner gets none', () => {
  const conversion = convert(`
pipelines:${GATE}
project-templates:
  - name: common
    gate: [shared-lint]
projects:
  - name: Zeta/one
    template: [{ name: common }]
  - name: alpha/two
    gate: [shared-lint, link-ab]
  - name: beta
    gate: [link-ab, link-bc]
  - name: gamma
    gate: [link-bc]
  - name: loner
    gate: [own]
  - name: checker
    check: [shared-lint]
`);
  assert.equal(conversion.queues.map((q) => [q.pipeline, q.name, q.projects]), [['gate', 'zeta-one', ['Zeta/one', 'alpha/two', 'beta', 'gamma']]]);
  assert.is(projectDoc(conversion, 'gamma').pipelines.gate!.queue, 'zeta-one');
  assert.is(projectDoc(conversion, 'loner').pipelines.gate!.queue, undefined);
  // Sharing a job in an independent pipeline makes no queue.
  assert.is(projectDoc(conversion, 'checker').pipelines.check!.queue, undefined);
  assert.equal(validateOutputs(outputFiles(conversion, 'layout.yaml')), []);
});

test("queues: a job's queue-name names the queue, a job pattern does not; prefix/* only when the whole prefix is in", () => {
  const conversion = convert(`
pipelines:${GATE}
jobs:
  - name: ^.*$
    queue-name: everything
  - name: mw-unit
    queue-name: mediawiki
projects:
  - name: mediawiki/core
    gate: [mw-unit]
  - name: mediawiki/extensions/A
    gate: [mw-unit]
  - name: mediawiki/extensions/B
    gate: [mw-unit]
  - name: mediawiki/tools/C
    gate: [other]
  - name: ext/x
    gate: [pair]
  - name: ext/y
    gate: [pair]
`);
  assert.equal(conversion.layout.jobPatterns, 1);
  assert.equal(conversion.policy, { 'ext-x': ['ext/*'], mediawiki: ['mediawiki/core', 'mediawiki/extensions/*'] });
  assert.equal(validateOutputs(outputFiles(conversion, 'layout.yaml')), []);
});

test("queues: a name that is another project's own is not taken", () => {
  const conversion = convert(`
pipelines:${GATE}
projects:
  - name: a-b
    gate: [solo]
  - name: a/b
    gate: [pair]
  - name: a/c
    gate: [pair]
`);
  assert.equal(conversion.queues.map((q) => q.name), ['a-b-q2']);
  assert.equal(validateOutputs(outputFiles(conversion, 'layout.yaml')), []);
});

test('branch patterns: anchored as re.match anchors them; a lone negative lookahead becomes exclude', () => {
  assert.is(anchored('wmf/.*'), '^wmf/.*');
  assert.is(anchored('^REL1_43$'), '^REL1_43$');
  assert.is(anchored('a|b'), '^(?:a|b)');
  assert.equal(branchFilter('(?!^refs/meta/config|^wmf/(\\d|next)|^REL)'), { exclude: ['^refs/meta/config', '^wmf/(\\d|next)', '^REL'] });
  assert.equal(branchFilter(['^master$', 'wmf/.*']), { include: ['^master$', '^wmf/.*'] });
  assert.equal(branchFilter('(?P<x>a)\\Z'), { include: ['^(?<x>a)$'] });
  assert.is(branchFilter('(unclosed'), undefined);
  // A ref-updated trigger's ref, matched by Zuul as a branch is, against the full ref name.
  assert.equal(refFilter('^refs/heads/.*$'), { include: ['^refs/heads/.*$'] });
  assert.equal(refFilter(['refs/tags/', 'refs/heads/stable/|refs/heads/master']), { include: ['^refs/tags/', '^(?:refs/heads/stable/|refs/heads/master)'] });
  assert.equal(refFilter('(?!^refs/meta/|^refs/changes/)'), { exclude: ['^refs/meta/', '^refs/changes/'] });
});

test("comment patterns: Gerrit's header spelled out in Zuul's is left to Seakeeper", () => {
  assert.equal(commentPattern('(?im)^Patch Set \\d+:( -?Code\\-Review(\\+|-)?(1|2)?)?(\\n\\n\\(\\d+ comment(s)?\\))?\\n\\n\\s*recheck\\b'), { pattern: '^recheck\\b', exact: true });
  assert.equal(commentPattern('(?im)^Patch Set \\d+:\\n\\n\\s*check (php5?|zend)\\.?\\s*$'), { pattern: '^check (php5?|zend)\\.?\\s*$', exact: true });
  assert.equal(commentPattern('(?i)^run it$'), { pattern: '^run it$', exact: false });
});

const parsedPipelines = (conversion: Conversion) => {
  const result = parsePipelines(outputFiles(conversion, 'layout.yaml').get('pipelines.yaml')!);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.pipelines;
};

test('triggers Seakeeper lacks, filters it cannot express: noted, and a pipeline left with none is reserved', () => {
  const conversion = convert(`
pipelines:
  - name: follow
    manager: IndependentPipelineManager
    trigger:
      zuul:
        - event: parent-change-enqueued
          pipeline: gate
  - name: check
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
          email: ['.*@example\\.org$']
          branch: (?!^refs/meta/config)
        - event: ref-updated
          ref: ^refs/tags/.*$
    success-message: 'OK {pipeline.name}'
    success: { gerrit: { verified: 1 }, smtp: { to: a@example.org } }
    failure: { gerrit: { verified: -1 } }
    footer-message: see the docs
projects:
  - name: a
    follow: [nightly]
`);
  const files = outputFiles(conversion, 'layout.yaml');
  const result = parsePipelines(files.get('pipelines.yaml')!);
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  if (!result.ok) return;
  const check = result.pipelines.find((p) => p.name === 'check')!;
  assert.is(check.triggers.length, 1);
  assert.is(check.success.message, 'OK {pipeline}');
  // The e-mail filter is carried over, as a set of accounts: the one list in one pipeline is named after it.
  assert.is(check.triggers[0]!.by?.name, 'check');
  assert.ok(check.triggers[0]!.by!.emails.some((re) => re.test('jane@example.org')));
  assert.not.ok(check.triggers[0]!.by!.emails.some((re) => re.test('jane@example.com')));
  const kinds = conversion.notes.map((n) => n.kind).sort();
  // check votes on changes, so its ref-updated trigger cannot be one of its own: a run of a ref never votes.
  for (const kind of ['trigger: ref-updated in a pipeline that votes', 'trigger: zuul', 'report: smtp reporter', 'pipeline: footer-message', 'pipeline reserved (written commented out)']) {
    assert.ok(kinds.includes(kind), kind);
  }
  assert.equal(check.triggers.map((t) => t.event), ['patchset-created']);
  assert.equal(check.success.labels, { Verified: 1 });
  // Zuul's own zuul trigger is a kind Seakeeper has none of: follow is reserved, and says why.
  assert.equal(conversion.pipelines.filter((p) => p.reserved).map((p) => p.name), ['follow']);
  assert.match(conversion.pipelines.find((p) => p.name === 'follow')!.reserved!, /its triggers \(zuul\) are kinds Seakeeper has no trigger for yet/);
  assert.match(files.get('pipelines.yaml')!, /^# Pipelines whose triggers Seakeeper does not have yet follow/m);
  assert.equal(validateOutputs(files), []);
  assert.not.ok(kinds.includes('trigger: email filter'));
  assert.equal(result.pipelines.map((p) => p.name), ['check']);
  assert.match(files.get('pipelines.yaml')!, /#\s+Zuul pipeline follow: reserved, not live/);
  assert.match(files.get('pipelines.yaml')!, /# {3}follow:\n/);
  assert.match(files.get('projects/a/seakeeper.yaml')!, /follow is reserved/);
  assert.match(files.get('report.txt')!, /^account sets: 1 /m);
});

test('change-merged and ref-updated triggers: ref pipelines, independent and never voting; refs anchored on full ref names', () => {
  const conversion = convert(`
pipelines:
  - name: postmerge
    manager: IndependentPipelineManager
    precedence: low
    trigger:
      gerrit:
        - event: change-merged
          branch: (?!^refs/meta/config)
    success-message: 'Post-merge build succeeded.'
    success: { gerrit: { verified: 1, tag: autogenerated:ci-postmerge } }
    failure: { gerrit: { verified: -1 } }
  - name: post
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: ref-updated
          ref: ^refs/heads/.*$
          branch: master
        - event: ref-updated
          ref: [refs/heads/stable/, 'refs/tags/v\\d+']
          ignore-deletes: false
        - event: ref-updated
          ref: (?!^refs/meta/|^refs/changes/)
          email: ['^release-bot@example\\.org$']
        - event: ref-updated
          ref: ^refs/tags/
          require-approval: [{ verified: 1 }]
  - name: both
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
        - event: change-merged
    success-message: 'Both.'
  - name: gate
    manager: DependentPipelineManager
    trigger:
      gerrit:
        - event: ref-updated
          ref: ^refs/heads/master$
    success: { gerrit: { verified: 2 } }
projects:
  - name: a
    postmerge: [docs-publish]
    post: [deploy]
    gate: [merge]
`);
  const files = outputFiles(conversion, 'layout.yaml');
  assert.equal(validateOutputs(files), []);
  const pipelines = parsedPipelines(conversion);
  const pipeline = (name: string) => pipelines.find((p) => p.name === name)!;
  assert.equal(pipelines.map((p) => p.name), ['both', 'post', 'postmerge']);

  // postmerge: the change's branch, as any trigger's; its votes are dropped, its messages kept.
  const postmerge = pipeline('postmerge');
  assert.is(postmerge.manager, 'independent');
  assert.equal(postmerge.triggers.map((t) => t.event), ['change-merged']);
  assert.ok(postmerge.triggers[0]!.excludeBranches.some((re) => re.test('refs/meta/config')));
  assert.not.ok(postmerge.triggers[0]!.excludeBranches.some((re) => re.test('master')));
  assert.equal([postmerge.success.labels, postmerge.failure.labels], [{}, {}]);
  assert.is(postmerge.success.message, 'Post-merge build succeeded.');
  assert.is(postmerge.failure.message, 'Build failed.');
  const kinds = conversion.notes.map((n) => `${n.where}: ${n.kind}`);
  assert.equal(kinds.filter((k) => k.endsWith('report: vote on a ref')), ['pipeline postmerge: report: vote on a ref', 'pipeline postmerge: report: vote on a ref']);
  const text = files.get('pipelines.yaml')!;
  assert.match(text, /\n {4}success:\n {6}# success: tag [^\n]*\n {6}# success: Verified 1 not carried over: a pipeline triggered by change-merged or ref-updated never votes\n/);

  // post: refs anchored as re.match anchored them, on the full ref name; a branch is no filter there.
  const [heads, listed, excluded, ...rest] = pipeline('post').triggers;
  assert.equal(rest, []);
  assert.equal([heads!.event, listed!.event, excluded!.event], ['ref-updated', 'ref-updated', 'ref-updated']);
  assert.ok(heads!.includeRefs.some((re) => re.test('refs/heads/master')));
  assert.not.ok(heads!.includeRefs.some((re) => re.test('refs/tags/v1')));
  assert.is(heads!.ignoreDeletes, true);
  assert.ok(listed!.includeRefs.some((re) => re.test('refs/tags/v12')));
  assert.ok(listed!.includeRefs.some((re) => re.test('refs/heads/stable/2.1')));
  assert.not.ok(listed!.includeRefs.some((re) => re.test('refs/heads/feature/refs/heads/stable/')));
  assert.not.ok(listed!.includeRefs.some((re) => re.test('refs/tags/xv1')));
  assert.is(listed!.ignoreDeletes, false);
  assert.equal(excluded!.includeRefs, []);
  for (const ref of ['refs/meta/config', 'refs/changes/01/1/1']) assert.ok(excluded!.excludeRefs.some((re) => re.test(ref)), ref);
  assert.not.ok(excluded!.excludeRefs.some((re) => re.test('refs/heads/master')));
  assert.is(excluded!.by?.name, 'release-bot');
  assert.ok(kinds.includes('pipeline post: trigger: branch on ref-updated'));
  assert.ok(kinds.includes('pipeline post: trigger: vote filter on ref-updated'));
  // A run of ref-updated posts nothing: Zuul reporting nothing is no loss, so no note, only a comment.
  assert.not.ok(kinds.some((k) => k.startsWith('pipeline post: report: no ')));
  assert.is(pipeline('post').success.notify, 'NONE');
  assert.match(text, /# a run of a ref posts nothing in Gerrit/);
  for (const trigger of conversion.pipelines.find((p) => p.name === 'post')!.value.trigger as Record<string, unknown>[]) {
    assert.equal(Object.keys(trigger).filter((k) => k === 'branches' || k === 'ignoreWip'), []);
  }

  // A pipeline that votes on nothing may have both kinds of trigger; a merged change is no work in progress.
  const both = conversion.pipelines.find((p) => p.name === 'both')!.value.trigger as Record<string, unknown>[];
  assert.equal(both, [{ event: 'patchset-created', ignoreWip: false }, { event: 'change-merged' }]);

  // A gate cannot run refs: its only trigger is left out, and the pipeline reserved, saying so.
  const gate = conversion.pipelines.find((p) => p.name === 'gate')!;
  assert.match(gate.reserved!, /none of its triggers \(ref-updated\) could be carried over/);
  assert.ok(kinds.includes('pipeline gate: trigger: ref-updated in a pipeline that gates'));
  assert.match(text, /# {3}gate:\n(# [^\n]*\n)*# {7}- event: ref-updated\n/);

  // The project's entries for the ref pipelines are live; the reserved gate's is commented out.
  const a = projectDoc(conversion, 'a');
  assert.equal(a.pipelines, { postmerge: { workflowTemplate: 'docs-publish' }, post: { workflowTemplate: 'deploy' } });
  assert.match(files.get('projects/a/seakeeper.yaml')!, /gate is reserved/);
  assert.not.match(files.get('report.txt')!, /trigger: (change-merged|ref-updated)\n/);
});

test('timer triggers: periodic pipelines, live at the periodic priority, never voting; a schedule kept as Zuul ran it', () => {
  const conversion = convert(`
pipelines:
  - name: periodic
    manager: IndependentPipelineManager
    source: gerrit
    precedence: low
    trigger:
      timer:
        - time: '0 3 * * *'
  - name: weekly
    manager: IndependentPipelineManager
    precedence: high
    trigger:
      timer:
        - time: '30 2 * * 0-4 0'
        - time: ['15 4 * 6 */2', '0 5 * * 6']
    success: { gerrit: { verified: 1 } }
    failure: { gerrit: { verified: -1 } }
  - name: seconds
    manager: IndependentPipelineManager
    precedence: low
    trigger:
      timer:
        - time: '0 3 * * * *'
  - name: invalid
    manager: IndependentPipelineManager
    precedence: low
    trigger:
      timer:
        - time: '61 3 * * *'
        - time: '0 1 13 * 4'
  - name: mixed
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
      timer:
        - time: '0 4 * * *'
    success: { gerrit: { verified: 1 } }
  - name: gate
    manager: DependentPipelineManager
    trigger:
      timer:
        - time: '0 4 * * *'
projects:
  - name: a
    periodic: [nightly]
    weekly: [weekly-build]
    seconds: [x]
    invalid: [y]
`);
  const files = outputFiles(conversion, 'layout.yaml');
  assert.equal(validateOutputs(files), []);
  const pipelines = parsedPipelines(conversion);
  const pipeline = (name: string) => pipelines.find((p) => p.name === name)!;
  assert.equal(pipelines.map((p) => p.name), ['mixed', 'periodic', 'weekly']);
  const kinds = conversion.notes.map((n) => `${n.where}: ${n.kind}`);
  const text = files.get('pipelines.yaml')!;

  // periodic: its time as the schedule, the default branch (no filter), independent, at the periodic priority.
  const periodic = pipeline('periodic');
  assert.is(periodic.manager, 'independent');
  assert.is(periodic.priorityClass, 'seakeeper-periodic');
  assert.equal(periodic.triggers.map((t) => [t.event, t.schedule, t.includeBranches, t.excludeBranches]), [['timer', '0 3 * * *', [], []]]);
  assert.equal(conversion.pipelines.find((p) => p.name === 'periodic')!.value.trigger, [{ event: 'timer', schedule: '0 3 * * *' }]);
  assert.not.ok(kinds.some((k) => k.startsWith('pipeline periodic: ')), kinds.join('\n'));
  assert.match(text, /schedule: 0 3 \* \* \* # Zuul time "0 3 \* \* \*"; in the Zuul server's time zone, UTC here\n/);
  assert.match(text, /# Zuul v2 ran a timer once per project: here it runs on each project's default branch \(HEAD\)/);
  assert.is(periodic.success.notify, 'NONE');

  // weekly: high precedence, periodic all the same; its votes dropped; a zero seconds field dropped; Zuul's
  // weekdays, counted from Monday, in cron's numbering; its month, which Zuul ignored, made *; a list of times.
  const weekly = pipeline('weekly');
  assert.is(weekly.priorityClass, 'seakeeper-periodic');
  assert.match(text, /priorityClass: seakeeper-periodic # Zuul precedence: high; a pipeline with a timer trigger runs at the periodic priority\n/);
  assert.equal(weekly.triggers.map((t) => t.schedule), ['30 2 * * 1-5', '15 4 * * 1-7/2', '0 5 * * 7']);
  assert.equal([weekly.success.labels, weekly.failure.labels], [{}, {}]);
  assert.equal(kinds.filter((k) => k.startsWith('pipeline weekly: ')).sort(), [
    'pipeline weekly: report: vote on a ref',
    'pipeline weekly: report: vote on a ref',
    'pipeline weekly: trigger: timer month',
  ]);
  assert.match(text, /# success: Verified 1 not carried over: a pipeline triggered by change-merged, ref-updated or timer never votes\n/);
  assert.match(text, /schedule: 30 2 \* \* 1-5 # Zuul time "30 2 \* \* 0-4 0"; its days of the week counted from 0 = Monday; its sixth field, second 0, dropped/);

  // A sixth field other than 0, a schedule scheduleProblem refuses, both day fields: left out; nothing left, reserved.
  assert.equal(conversion.pipelines.filter((p) => p.reserved).map((p) => p.name), ['seconds', 'invalid', 'gate']);
  assert.ok(kinds.includes('pipeline seconds: trigger: timer seconds'));
  assert.match(conversion.pipelines.find((p) => p.name === 'seconds')!.reserved!, /none of its triggers \(timer\) could be carried over/);
  assert.equal(kinds.filter((k) => k.startsWith('pipeline invalid: trigger:')), ['pipeline invalid: trigger: timer schedule', 'pipeline invalid: trigger: timer day of month and of week']);
  assert.match(conversion.notes.find((n) => n.kind === 'trigger: timer schedule')!.detail, /"61 3 \* \* \*" is not a cron schedule/);

  // A pipeline that votes on changes, or gates them, cannot have a timer: as for the other ref triggers.
  assert.equal(pipeline('mixed').triggers.map((t) => t.event), ['patchset-created']);
  assert.is(pipeline('mixed').priorityClass, 'seakeeper-check');
  assert.ok(kinds.includes('pipeline mixed: trigger: timer in a pipeline that votes'));
  assert.ok(kinds.includes('pipeline gate: trigger: timer in a pipeline that gates'));

  // The project's entries for the live timer pipelines are live too.
  const a = projectDoc(conversion, 'a');
  assert.equal(a.pipelines, { periodic: { workflowTemplate: 'nightly' }, weekly: { workflowTemplate: 'weekly-build' } });
  assert.match(files.get('projects/a/seakeeper.yaml')!, /seconds is reserved/);
});

test("timer schedules: APScheduler's weekdays (0 = Monday) become cron's (1 = Monday, 7 = Sunday)", () => {
  const schedules = (...times: string[]) =>
    convert(`
pipelines:
  - name: periodic
    manager: IndependentPipelineManager
    trigger:
      timer:
${times.map((t) => `        - time: '${t}'`).join('\n')}
projects: []
`).pipelines[0]!.value.trigger as { schedule: string }[];
  assert.equal(
    schedules('0 1 * * 0', '0 1 * * 6', '0 1 * * 0,2,4', '0 1 * * 1-3/2', '0 1 * * 3/2', '0 1 * * */3', '0 1 * * mon-fri', '0 1 1 * *').map((t) => t.schedule),
    ['0 1 * * 1', '0 1 * * 7', '0 1 * * 1,3,5', '0 1 * * 2-4/2', '0 1 * * 4-7/2', '0 1 * * 1-7/3', '0 1 * * mon-fri', '0 1 1 * *'],
  );
});

const CHECKS = (email: string, other: string) => `
  - name: check
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
          email: ${email}
        - event: comment-added
          comment: (?im)^Patch Set \\d+:\\n\\n\\s*recheck\\b
          email: ${email}
        - event: comment-added
          approval: [{ code-review: 1 }]
          email: ${email}
    success: { gerrit: { verified: 1 } }
  - name: extra
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: comment-added
          comment: (?im)^Patch Set \\d+:\\n\\n\\s*check extra\\.?\\s*$
          email: ${email}
        - event: comment-added
          comment: (?im)^Patch Set \\d+:\\n\\n\\s*check bot\\.?\\s*$
          email: ${other}
        - event: comment-added
          comment: (?im)^Patch Set \\d+:\\n\\n\\s*check again\\.?\\s*$
          email: ${other}
    success: { gerrit: { verified: 1 } }
`;

test("e-mail filters: each distinct list one set of accounts, named, described, and named by each trigger's by", () => {
  const conversion = convert(`
pipelines:${CHECKS("['.*?@wikimedia\\.org$', '^jane@example\\.org$']", "['^bot@example\\.org$']")}
  - name: gate
    manager: DependentPipelineManager
    trigger:
      gerrit:
        - event: comment-added
          approval: [{ code-review: 2 }]
          # The same list, in another order and with a repeat, is the same set.
          email: ['^jane@example\\.org$', '.*?@wikimedia\\.org$', '^jane@example\\.org$']
        - event: comment-added
          approval: [{ code-review: 2 }]
          email: '^bot@example\\.org$'
        - event: comment-added
          approval: [{ code-review: 2 }]
          email: ['^gatekeeper@example\\.org$']
    success: { gerrit: { verified: 2, submit: true } }
projects: []
`);
  // The list used by the most pipelines is the trusted one; one exact address is named after its user (a bot's
  // account, mostly), any other list after the first pipeline using it.
  assert.equal(conversion.accounts.map((a) => [a.name, a.emails, a.uses.length]), [
    ['trusted', ['.*?@wikimedia\\.org$', '^jane@example\\.org$'], 5],
    ['bot', ['^bot@example\\.org$'], 3],
    ['gatekeeper', ['^gatekeeper@example\\.org$'], 1],
  ]);
  assert.is(conversion.accounts[0]!.description, "Zuul's email filter (2 patterns) on the patchset-created and comment-added triggers of check, extra, gate");
  const pipelines = parsedPipelines(conversion);
  const by = (pipeline: string) => pipelines.find((p) => p.name === pipeline)!.triggers.map((t) => t.by?.name);
  assert.equal(by('check'), ['trusted', 'trusted', 'trusted']);
  assert.equal(by('extra'), ['trusted', 'bot', 'bot']);
  assert.equal(by('gate'), ['trusted', 'bot', 'gatekeeper']);
  const trusted = pipelines.find((p) => p.name === 'check')!.triggers[0]!.by!;
  for (const address of ['someone@wikimedia.org', 'Someone@Wikimedia.ORG', 'jane@example.org']) assert.ok(trusted.emails.some((re) => re.test(address)), address);
  for (const address of ['someone@example.com', 'someone@wikimedia.org.evil.example', 'xjane@example.org']) assert.not.ok(trusted.emails.some((re) => re.test(address)), address);
  assert.equal(conversion.notes.filter((n) => n.kind.startsWith('trigger:')), []);
  assert.match(summaryText(conversion), /^account sets: 3 .*\n {2}trusted: 2 patterns, 5 triggers, with a notice\n {2}bot: 1 pattern, 3 triggers\n {2}gatekeeper: 1 pattern, 1 trigger\n/m);
});

test('a set whose members\' patch sets start a pipeline gets a notice saying how a newcomer\'s change gets tested', () => {
  const conversion = convert(`pipelines:${CHECKS("['^jane@example\\.org$']", "['^bot@example\\.org$']")}projects: []\n`);
  const trusted = parsedPipelines(conversion).find((p) => p.name === 'check')!.triggers[0]!.by!;
  assert.is(
    trusted.notice,
    'Thanks for the patch. Seakeeper runs the tests of changes from trusted contributors at once; a change from a newcomer is tested once a trusted reviewer comments "recheck" or votes Code-Review +1.',
  );
  // A set no patch set is filtered by never sees an uploader's change go untested: no notice.
  assert.is(conversion.accounts.find((a) => a.name === 'bot')!.notice, undefined);
  assert.is(commandOf('^check php\\.?\\s*$'), 'check php');
  assert.is(commandOf('^(recheck|retest)$'), undefined);
});

test('e-mail patterns: Python spellings translated; one that cannot be is noted and left out; a list left empty drops its trigger', () => {
  assert.is(emailPattern('^jane\\-doe@example\\.org$'), '^jane-doe@example\\.org$');
  assert.is(emailPattern('(?i)\\A[a-z\\-]+@example\\.org\\Z'), '^[a-z\\-]+@example\\.org$');
  assert.is(emailPattern('(?x) jane @ example'), undefined);
  assert.is(emailPattern('(unclosed'), undefined);

  const conversion = convert(`
pipelines:
  - name: check
    manager: IndependentPipelineManager
    trigger:
      gerrit:
        - event: patchset-created
          email: ['^jane\\-doe@example\\.org$', '(unclosed@example\\.org']
        - event: comment-added
          comment: recheck
          email: ['(?<=broken']
    success: { gerrit: { verified: 1 } }
projects: []
`);
  assert.equal(conversion.accounts.map((a) => [a.name, a.emails]), [['check', ['^jane-doe@example\\.org$']]]);
  assert.equal(
    conversion.notes.filter((n) => n.kind.startsWith('trigger: email')).map((n) => [n.kind, n.detail.split(':')[0]]),
    [
      ['trigger: email pattern', 'email pattern "(unclosed@example\\\\.org" does not compile as a JavaScript pattern'],
      ['trigger: email pattern', 'email pattern "(?<=broken" does not compile as a JavaScript pattern'],
      ['trigger: email filter', 'comment-added'],
    ],
  );
  // Without its filter the recheck trigger would fire for everyone: it is left out instead.
  const check = parsedPipelines(conversion).find((p) => p.name === 'check')!;
  assert.equal(check.triggers.map((t) => [t.event, t.by?.name]), [['patchset-created', 'check']]);
  assert.ok(check.triggers[0]!.by!.emails[0]!.test('jane-doe@example.org'));
});

test('more distinct e-mail lists than accounts: may hold: the triggers of the rest are left out, not opened to everyone', () => {
  const pipelines = Array.from({ length: 17 }, (_, i) => `
  - name: p${i}
    manager: IndependentPipelineManager
    trigger: { gerrit: [{ event: patchset-created, email: ['^user${i}@example\\.org$'] }, { event: comment-added, comment: recheck }] }
    success: { gerrit: { verified: 1 } }`).join('');
  const conversion = convert(`pipelines:${pipelines}\nprojects: []\n`);
  assert.is(conversion.accounts.length, 16);
  const last = parsedPipelines(conversion).find((p) => p.name === 'p16')!;
  assert.equal(last.triggers.map((t) => t.event), ['comment-added']);
  assert.ok(conversion.notes.some((n) => n.kind === 'trigger: email filter' && n.where === 'pipeline p16' && n.detail.includes('16 sets at most')));
});

test('reject-approval and require-approval become vote filters; require: open is kept silently, other requirements noted', () => {
  const conversion = convert(`
pipelines:
  - name: check
    manager: IndependentPipelineManager
    require: { open: true, current-patchset: true }
    trigger:
      gerrit:
        - event: comment-added
          approval: [{ code-review: +1 }]
          reject-approval:
            - verified: [-1, 2]
            - code-review: +2
            - { code-review: 2, username: jenkins }
          require-approval:
            - workflow: '+1'
            - { verified: 1, code-review: 1 }
    success: { gerrit: { verified: 1 } }
projects: []
`);
  const [rule] = parsedPipelines(conversion)[0]!.triggers;
  assert.equal(rule!.rejectApprovals, [{ label: 'Verified', values: [-1, 2] }, { label: 'Code-Review', values: [2] }]);
  assert.equal(rule!.requireApprovals, [{ label: 'Workflow', values: [1] }]);
  assert.equal(
    conversion.notes.filter((n) => n.kind !== 'report: no failure reporter').map((n) => [n.kind, n.detail.replace(/ \{.*\}/, '')]),
    [
      ['trigger: require-approval', 'comment-added: require-approval not carried over: Seakeeper filters one label per entry'],
      ['trigger: reject-approval', "comment-added: reject-approval not carried over: Seakeeper's vote filters do not ask who voted or when (username)"],
      ['pipeline: require', 'require: current-patchset: true not carried over: pipelines.schema.json has no such requirement'],
    ],
  );
  const text = outputFiles(conversion, 'layout.yaml').get('pipelines.yaml')!;
  assert.match(text, /# Zuul require: open: true is kept: Seakeeper triggers fire for open changes only\n {2}# require: current-patchset: true not carried over[^\n]*\n {2}check:/);
  assert.match(text, /value: \[-1, 2\]/);
});

test('an independent pipeline that submits becomes dependent, with no shared queues', () => {
  const conversion = convert(`
pipelines:
  - name: l10n
    manager: IndependentPipelineManager
    trigger: { gerrit: [{ event: comment-added, approval: [{ code-review: 2 }] }] }
    success: { gerrit: { verified: 2, submit: true } }
projects:
  - name: a
    l10n: [i18n]
  - name: b
    l10n: [i18n]
`);
  assert.is(conversion.pipelines[0]!.value.manager, 'dependent');
  assert.equal(conversion.queues, []);
  assert.equal(validateOutputs(outputFiles(conversion, 'layout.yaml')), []);
});

test('a project name that is no safe path gets no file', () => {
  assert.is(projectPath('a/../b'), undefined);
  assert.is(projectPath('/abs'), undefined);
  assert.is(projectPath('mediawiki/core'), 'projects/mediawiki/core/seakeeper.yaml');
});

test.run();
