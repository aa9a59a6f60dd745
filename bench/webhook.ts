// gerrit-webhook's cost on this machine: one instance served by the functions-framework CLI in a process of
// its own (as in production), delivering to a local sink in another process that answers 202 as the Broker's
// ingress does. Loopback only; nothing here talks to the rig.
//
//   npm run bench:webhook [-- --rounds=5 --events=20000 --seconds=20 --concurrency=32 --latency-events=2000]
//
// Throughput: `concurrency` requests in flight until `events` are answered or `seconds` pass; events/s.
// Added latency: one request at a time, alternating a bare POST of the same body straight to the sink and a
// POST through gerrit-webhook; the median of each, the difference is what gerrit-webhook adds. Every figure is
// the median over the rounds; the first `warm-up` requests of a run are not counted.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, functionArgs, waitForListening } from '../dev/serve-function.js';
import { median, numericArgs } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(ROOT, 'test/fixtures/gerrit-events/webhook/fixtures-56abee.jsonl');

const args = numericArgs();
const ROUNDS = args.rounds ?? 5;
const EVENTS = args.events ?? 20_000;
const SECONDS = args.seconds ?? 20;
const CONCURRENCY = args.concurrency ?? 32;
const LATENCY_EVENTS = args['latency-events'] ?? 2_000;
const WARM_UP = args['warm-up'] ?? 2_000;

/** The sink: reads the body, answers 202, as the Broker's ingress does. Its own process, so it competes with neither side. */
const SINK_SOURCE = `
const http = require('node:http');
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(202); res.end(); }); });
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[1]), '127.0.0.1');
`;

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(port: number, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}


async function throughput(port: number, path: string, body: Buffer): Promise<{ perSecond: number; failed: number }> {
  let sent = 0;
  let done = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const lane = async () => {
    while (sent < EVENTS && performance.now() < deadline) {
      sent++;
      const status = await post(port, path, body);
      if (status !== 202) failed++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { perSecond: done / ((performance.now() - started) / 1000), failed };
}

async function latency(webhookPort: number, webhookPath: string, sinkPort: number, body: Buffer): Promise<{ bare: number; webhook: number }> {
  const bare: number[] = [];
  const through: number[] = [];
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    let t = performance.now();
    await post(sinkPort, '/', body);
    bare.push(performance.now() - t);
    t = performance.now();
    const status = await post(webhookPort, webhookPath, body);
    through.push(performance.now() - t);
    if (status !== 202) throw new Error(`gerrit-webhook answered ${status}`);
  }
  return { bare: median(bare), webhook: median(through) };
}

async function main(): Promise<void> {
  const body = Buffer.from(readFileSync(FIXTURE, 'utf8').split('\n').find((line) => line.includes('"type":"patchset-created"'))!);
  const secret = randomBytes(24).toString('hex');
  const webhookPath = `/?token=${secret}`;
  const sinkPort = await freePort();
  const webhookPort = await freePort();
  const sink = spawn(process.execPath, ['-e', SINK_SOURCE, String(sinkPort)], { stdio: 'ignore' });
  // Log lines go where a container's stdout goes: a file the runtime collects; /dev/null here.
  const webhook = spawn(
    process.execPath,
    functionArgs('gerrit-webhook', webhookPort),
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        GERRIT_URL: 'https://gerrit.example.org/r/',
        SEAKEEPER_WEBHOOK_SECRET: secret,
        K_SINK: `http://127.0.0.1:${sinkPort}/`,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        ...(process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    await waitForListening(sinkPort, sink, 'the sink');
    await waitForListening(webhookPort, webhook, 'gerrit-webhook');
    console.log(`gerrit-webhook bench: ${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}, body ${body.length} bytes`);
    console.log(`  ${ROUNDS} rounds; throughput: ${CONCURRENCY} in flight, ≤ ${EVENTS} events or ${SECONDS} s; latency: ${LATENCY_EVENTS} pairs, one at a time`);
    for (let i = 0; i < WARM_UP; i++) {
      await post(webhookPort, webhookPath, body);
      await post(sinkPort, '/', body);
    }
    const rounds: { through: number; bare: number; failed: number; latBare: number; latWebhook: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const through = await throughput(webhookPort, webhookPath, body);
      const bare = await throughput(sinkPort, '/', body);
      const lat = await latency(webhookPort, webhookPath, sinkPort, body);
      rounds.push({ through: through.perSecond, bare: bare.perSecond, failed: through.failed, latBare: lat.bare, latWebhook: lat.webhook });
      console.log(
        `  round ${round}: through gerrit-webhook ${through.perSecond.toFixed(0)}/s (${through.failed} failed), bare POST ${bare.perSecond.toFixed(0)}/s; ` +
          `median latency bare ${lat.bare.toFixed(3)} ms, through gerrit-webhook ${lat.webhook.toFixed(3)} ms, added ${(lat.webhook - lat.bare).toFixed(3)} ms`,
      );
    }
    const m = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
    console.log('medians over the rounds:');
    console.log(`  throughput through gerrit-webhook  ${m((r) => r.through).toFixed(0)} events/s   (target ≥ 2000; bare POST to the sink ${m((r) => r.bare).toFixed(0)}/s)`);
    console.log(`  median latency, bare POST           ${m((r) => r.latBare).toFixed(3)} ms`);
    console.log(`  median latency, through webhook     ${m((r) => r.latWebhook).toFixed(3)} ms`);
    console.log(`  added by gerrit-webhook             ${m((r) => r.latWebhook - r.latBare).toFixed(3)} ms   (target ≤ 1 ms)`);
    if (rounds.some((r) => r.failed > 0)) process.exitCode = 1;
  } finally {
    webhook.kill('SIGTERM');
    sink.kill('SIGTERM');
    agent.destroy();
  }
}

await main();
