// gerrit-webhook served by the functions-framework CLI (as in production), with the rig's real Gerrit
// delivering through its webhooks plugin (the rig's stand-in, test/rig/gerrit/webhooks/) configured in
// webhooks.config on a parent project of our own; the sink is the Broker STAND-IN of support/broker.ts.
// rig: parallel (test/run.ts): a parent project (its webhooks.config) and projects of its own
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { CloudEvent } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configChangedId, gerritEventId } from '../../shared/events/gerrit-cloudevents.js';
import { parseGerritEvent, type JsonObject } from '../../shared/events/gerrit-event.js';
import { GerritClient } from '../../shared/gerrit/client.js';
import { BrokerStandIn } from './support/broker.js';
import { freePort } from '../../dev/serve-function.js';
import { failedStart, serveFunction, type ServedFunction } from './support/functions.js';
import { createProject, pushChange, pushDirect } from '../../dev/gerrit-chores.js';
import { rigConnections } from './support/gerrit.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const admin = new GerritClient(adminConnection);
const suffix = uniqueSuffix();
const SECRET = randomBytes(24).toString('hex');
const SINK_TIMEOUT_MS = 1_000;
/** Long enough for a delivery that should not come to have come. */
const QUIET_MS = 1_500;
const PARENT = `seakeeper-it-webhook-${suffix}`;
const SOURCE = new URL(rig.GERRIT_URL).href;

let broker: BrokerStandIn;
let webhook: ServedFunction;

const webhookEnv = (sink: string): Record<string, string> => ({
  GERRIT_URL: rig.GERRIT_URL,
  SEAKEEPER_WEBHOOK_SECRET: SECRET,
  K_SINK: sink,
  SINK_TIMEOUT_MS: String(SINK_TIMEOUT_MS),
});

test.before(async () => {
  broker = await BrokerStandIn.start();
  webhook = await serveFunction('gerrit-webhook', webhookEnv(broker.url));
  await createProject(adminConnection, PARENT);
  const config = [
    '[remote "seakeeper"]',
    `\turl = http://127.0.0.1:${webhook.port}/?token=${SECRET}`,
    '\tmaxTries = 5',
    '\tretryInterval = 500',
    '\tsocketTimeout = 5000',
    '',
  ].join('\n');
  await pushDirect(adminConnection, PARENT, 'refs/meta/config', { 'webhooks.config': config }, 'Send events to gerrit-webhook');
});

test.after(async () => {
  await webhook?.stop();
  await broker?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ofType = (events: CloudEvent<unknown>[], type: string, change?: number) =>
  events.filter((e) => e.type === type && (change === undefined || e.gerritchange === String(change)));

/** The events of `project` of `type` (for `change`), once there is one, after a quiet spell that would reveal a second. */
async function deliveredOnce(project: string, type: string, change?: number): Promise<CloudEvent<unknown>> {
  await broker.waitFor(() => ofType(broker.of(project), type, change).length > 0, `${type} for ${project}`);
  await sleep(QUIET_MS);
  const found = ofType(broker.of(project), type, change);
  assert.is(found.length, 1, `exactly one ${type} for ${project}`);
  return found[0]!;
}

/** The id gerrit-cloudevents gives the Gerrit event in `data`: the same whichever path delivered it. */
function expectedId(event: CloudEvent<unknown>): string {
  const parsed = parseGerritEvent(event.data);
  assert.ok(parsed.ok && parsed.event.kind !== 'dropped-output', 'data is the Gerrit event');
  return gerritEventId(parsed.event as Parameters<typeof gerritEventId>[0]);
}

// --- Gerrit → webhooks plugin → gerrit-webhook → Broker stand-in ----------------------------------------------

const PROJECT = `${PARENT}/main`;
let changeNumber = 0;

test('a pushed patchset arrives as exactly one gerrit.patchset-created with its attributes', async () => {
  await createProject(adminConnection, PROJECT, PARENT);
  const change = await pushChange(adminConnection, PROJECT, { 'README.md': 'hello\n' }, 'Add a README');
  changeNumber = change._number;
  const event = await deliveredOnce(PROJECT, 'gerrit.patchset-created', changeNumber);
  assert.is(event.source, SOURCE);
  assert.is(event.subject, `${PROJECT}/${changeNumber}/1`);
  assert.match(event.id, /^patchset-created-[0-9a-f]{40}$/);
  assert.is(event.id, expectedId(event));
  assert.equal(
    { project: event.gerritproject, change: event.gerritchange, patchset: event.gerritpatchset, branch: event.gerritbranch },
    { project: PROJECT, change: String(changeNumber), patchset: '1', branch: 'master' },
  );
  assert.is(event.datacontenttype, 'application/json');
  const data = event.data as JsonObject;
  assert.is((data.change as JsonObject).project, PROJECT);
  assert.is(event.time, new Date((data.eventCreatedOn as number) * 1000).toISOString());
});

test('Code-Review+2 arrives as gerrit.comment-added with the approvals', async () => {
  await admin.postReview(`${PROJECT}~${changeNumber}`, 'current', { message: 'Ship it.', labels: { 'Code-Review': 2 }, notify: 'NONE' });
  const event = await deliveredOnce(PROJECT, 'gerrit.comment-added', changeNumber);
  const approvals = (event.data as JsonObject).approvals as JsonObject[];
  assert.ok(approvals.some((a) => a.type === 'Code-Review' && a.value === '2'), JSON.stringify(approvals));
  assert.is(event.id, expectedId(event));
  assert.is(event.gerritpatchset, '1');
});

test('a change of refs/meta/config arrives as gerrit.ref-updated and project.config-changed', async () => {
  // Creating the project wrote refs/meta/config too: count only what this push adds.
  const configUpdates = () => ofType(broker.of(PROJECT), 'gerrit.ref-updated').filter((e) => e.gerritbranch === 'refs/meta/config');
  const before = new Set([...configUpdates(), ...ofType(broker.of(PROJECT), 'project.config-changed')].map((e) => e.id));
  await pushDirect(adminConnection, PROJECT, 'refs/meta/config', { 'seakeeper.yaml': '# placeholder\n' }, 'Add seakeeper.yaml');
  const fresh = (events: CloudEvent<unknown>[]) => events.filter((e) => !before.has(e.id));
  await broker.waitFor(() => fresh(ofType(broker.of(PROJECT), 'project.config-changed')).length > 0, 'project.config-changed');
  await sleep(QUIET_MS);
  const changed = fresh(ofType(broker.of(PROJECT), 'project.config-changed'));
  const updated = fresh(configUpdates());
  assert.is(changed.length, 1);
  assert.is(updated.length, 1);
  assert.is(changed[0]!.id, configChangedId(updated[0]!.id));
  assert.equal(
    { subject: changed[0]!.subject, source: changed[0]!.source, branch: changed[0]!.gerritbranch },
    { subject: PROJECT, source: SOURCE, branch: 'refs/meta/config' },
  );
});

test('a submit arrives as gerrit.change-merged', async () => {
  await admin.submit(`${PROJECT}~${changeNumber}`);
  const event = await deliveredOnce(PROJECT, 'gerrit.change-merged', changeNumber);
  assert.is(event.id, expectedId(event));
  assert.is(event.gerritbranch, 'master');
});

test('a non-ASCII project name travels percent-encoded in binary mode and decodes to the name', async () => {
  const project = `${PARENT}/ünïcødé 日本`;
  await createProject(adminConnection, project, PARENT);
  const change = await pushChange(adminConnection, project, { 'a.txt': 'a\n' }, 'Unicode project');
  const event = await deliveredOnce(project, 'gerrit.patchset-created', change._number);
  assert.is(event.subject, `${project}/${change._number}/1`);
  const headers = broker.received.find((r) => r.event.id === event.id)!.headers;
  assert.match(String(headers['ce-gerritproject']), /^[\x21-\x7e]+$/, 'an ASCII header value');
  assert.is(headers['ce-gerritproject'], `${PARENT}/%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E6%97%A5%E6%9C%AC`);
  assert.is(((event.data as JsonObject).change as JsonObject).project, project, 'data carries the name as it is');
});

test('the sink answering 500: gerrit-webhook answers 5xx, the plugin retries, the event arrives once', async () => {
  const project = `${PARENT}/retried`;
  await createProject(adminConnection, project, PARENT);
  broker.failNext(1, 500, (headers) => headers['ce-type'] === 'gerrit.patchset-created' && String(headers['ce-gerritproject']) === project);
  const change = await pushChange(adminConnection, project, { 'b.txt': 'b\n' }, 'Retried');
  const event = await deliveredOnce(project, 'gerrit.patchset-created', change._number);
  const refused = broker.refused.filter((r) => r.headers['ce-id'] === event.id);
  assert.equal(refused.map((r) => r.status), [500], 'the first delivery was refused');
  assert.match(webhook.output(), /"outcome":"retry","status":500/);
});

// --- straight to gerrit-webhook -----------------------------------------------------------------------------

const DIRECT = `seakeeper-it-direct-${suffix}`;
let directChange = 1000;

/** A patchset-created as Gerrit writes it, for a change no other test uses. */
function patchsetCreated(overrides: JsonObject = {}): JsonObject {
  const number = ++directChange;
  return {
    type: 'patchset-created',
    eventCreatedOn: Math.floor(Date.now() / 1000),
    change: { project: DIRECT, branch: 'master', id: `I${randomBytes(20).toString('hex')}`, number, subject: 'Direct', status: 'NEW' },
    patchSet: { number: 1, revision: randomBytes(20).toString('hex'), ref: `refs/changes/${String(number).slice(-2)}/${number}/1` },
    project: DIRECT,
    refName: 'refs/heads/master',
    ...overrides,
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http, so that the test controls Content-Length, chunking and encoding exactly. */
function send(
  target: ServedFunction,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (body && !options.chunked) headers['content-length'] = String(body.length);
    const req = request(
      { host: '127.0.0.1', port: target.port, method: options.method ?? 'POST', path: options.path ?? `/?token=${SECRET}`, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (body && options.chunked) {
      // Two chunks, so that no Content-Length announces the size.
      req.write(body.subarray(0, body.length / 2));
      req.end(body.subarray(body.length / 2));
    } else req.end(body);
  });
}

/** A one-line JSON `{error}` answer with the status; returns the reason. */
function refusal(answer: Answer, status: number): string {
  assert.is(answer.status, status, answer.body);
  assert.match(String(answer.headers['content-type']), 'application/json');
  assert.not.match(answer.body.trimEnd(), '\n');
  const { error } = JSON.parse(answer.body) as { error: string };
  assert.type(error, 'string');
  return error;
}

const nothingEmitted = async (before: number) => {
  await sleep(200);
  assert.is(broker.of(DIRECT).length, before, 'nothing reached the sink');
};

test('direct: with the token in the query or as a Bearer header, an event is delivered and its ids answered', async () => {
  const viaQuery = await send(webhook, { body: JSON.stringify(patchsetCreated()) });
  assert.is(viaQuery.status, 202, viaQuery.body);
  const viaBearer = await send(webhook, { path: '/', headers: { authorization: `Bearer ${SECRET}` }, body: JSON.stringify(patchsetCreated()) });
  assert.is(viaBearer.status, 202, viaBearer.body);
  const ids = [viaQuery, viaBearer].flatMap((a) => (JSON.parse(a.body) as { ids: string[] }).ids);
  await broker.waitFor(() => ids.every((id) => broker.received.some((r) => r.event.id === id)), 'both events');
});

for (const [label, options] of [
  ['no token', { path: '/' }],
  ['a wrong token in the query', { path: '/?token=not-the-secret' }],
  ['a wrong Bearer token', { path: '/', headers: { authorization: 'Bearer not-the-secret' } }],
  ['the secret as Basic credentials', { path: '/', headers: { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` } }],
] as const) {
  test(`direct: ${label} is 401, nothing emitted`, async () => {
    const before = broker.of(DIRECT).length;
    const answer = await send(webhook, { ...options, body: JSON.stringify(patchsetCreated()) });
    assert.match(refusal(answer, 401), /token/);
    assert.is(answer.headers['www-authenticate'], 'Bearer');
    await nothingEmitted(before);
  });
}

test('direct: a method other than POST is 405 with Allow: POST', async () => {
  const answer = await send(webhook, { method: 'GET' });
  assert.match(refusal(answer, 405), /GET is not accepted/);
  assert.is(answer.headers.allow, 'POST');
});

test('direct: malformed JSON is 400 with a one-line reason, nothing emitted', async () => {
  const before = broker.of(DIRECT).length;
  assert.match(refusal(await send(webhook, { body: '{"type": "patchset-created", ' }), 400), /^malformed JSON: /);
  assert.match(refusal(await send(webhook, { headers: { 'content-type': 'text/plain' }, body: 'not json' }), 400), /^malformed JSON: /);
  await nothingEmitted(before);
});

test('direct: an empty body, and JSON that is no object, are 400', async () => {
  assert.match(refusal(await send(webhook, { body: '' }), 400), /empty body/);
  assert.match(refusal(await send(webhook, { body: '[1, 2]' }), 400), /not an object|an array/);
});

test('direct: a change event without its change is 400 naming what is missing, nothing emitted', async () => {
  const before = broker.of(DIRECT).length;
  const { change: _change, ...withoutChange } = patchsetCreated();
  assert.match(refusal(await send(webhook, { body: JSON.stringify(withoutChange) }), 400), /^patchset-created event without a change/);
  await nothingEmitted(before);
});

test('direct: a type Seakeeper does not model passes through as gerrit.<type>', async () => {
  const event = { type: 'x-seakeeper-probe', eventCreatedOn: Math.floor(Date.now() / 1000), projectName: DIRECT, detail: { n: 1 } };
  const answer = await send(webhook, { body: JSON.stringify(event) });
  assert.is(answer.status, 202, answer.body);
  const [id] = (JSON.parse(answer.body) as { ids: string[] }).ids;
  const [received] = await broker.waitFor((events) => events.some((e) => e.id === id), 'the probe event').then((events) => events.filter((e) => e.id === id));
  assert.equal({ type: received!.type, project: received!.gerritproject, subject: received!.subject }, { type: 'gerrit.x-seakeeper-probe', project: DIRECT, subject: DIRECT });
  assert.equal(received!.data, event);
});

test('direct: a 2 MiB body is 413, refused before it is read when its length is declared, and when chunked', async () => {
  const before = broker.of(DIRECT).length;
  const big = JSON.stringify(patchsetCreated({ padding: 'x'.repeat(2 * 1024 * 1024) }));
  assert.match(refusal(await send(webhook, { body: big }), 413), /exceeds the 1048576-byte limit/);
  assert.match(refusal(await send(webhook, { body: big, chunked: true }), 413), /exceeds the 1048576-byte limit/);
  await nothingEmitted(before);
});

test('direct: a compressed body is 415', async () => {
  const answer = await send(webhook, { headers: { 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(patchsetCreated())) });
  assert.match(refusal(answer, 415), /Content-Encoding gzip/);
});

test('direct: a slow sink (no answer within SINK_TIMEOUT_MS) is a 5xx', async () => {
  const event = patchsetCreated();
  const change = String((event.change as JsonObject).number);
  broker.stallNext(1, SINK_TIMEOUT_MS * 3, (headers) => headers['ce-gerritchange'] === change && headers['ce-gerritproject'] === DIRECT);
  const started = performance.now();
  const answer = await send(webhook, { body: JSON.stringify(event) });
  assert.is(refusal(answer, 500), 'internal error, retry later');
  assert.ok(performance.now() - started < SINK_TIMEOUT_MS * 2.5, 'answered at the timeout, not when the sink woke up');
});

test('direct: the sink down is a 5xx to the caller', async () => {
  const down = await serveFunction('gerrit-webhook', webhookEnv(`http://127.0.0.1:${await freePort()}/`));
  try {
    const answer = await send(down, { body: JSON.stringify(patchsetCreated()) });
    assert.is(refusal(answer, 500), 'internal error, retry later');
    await eventually(async () => assert.match(down.output(), /"outcome":"retry".*ECONNREFUSED/));
  } finally {
    await down.stop();
  }
});

test('the secret never reaches the log, and neither does a request URL', () => {
  const output = webhook.output();
  assert.ok(output.includes('"outcome":"rejected"'), 'rejections were logged');
  assert.not.ok(output.includes(SECRET), 'the secret is not logged');
  assert.not.ok(output.includes('token='), `no URL with its query is logged: ${output.split('\n').filter((l) => l.includes('token=')).join('\n')}`);
  assert.not.ok(output.includes('not-the-secret'), 'nor a wrong token');
});

test('without its configuration gerrit-webhook does not start, and says which variables are missing', async () => {
  const missing = await failedStart('gerrit-webhook', {});
  assert.is(missing.code, 1);
  for (const name of ['GERRIT_URL', 'SEAKEEPER_WEBHOOK_SECRET', 'K_SINK']) assert.match(missing.output, name);
  const weak = await failedStart('gerrit-webhook', { ...webhookEnv(broker.url), SEAKEEPER_WEBHOOK_SECRET: 'short-secret' });
  assert.is(weak.code, 1);
  assert.match(weak.output, 'SEAKEEPER_WEBHOOK_SECRET must be at least 16 characters');
  assert.not.match(weak.output, 'short-secret');
});

test.run();
