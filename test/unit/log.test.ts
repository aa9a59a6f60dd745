import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, Secret } from '../../shared/env.js';
import { loggerFromEnv, redactSecrets } from '../../shared/log.js';
import { captureLog } from './support/capture.js';

test('writes one JSON object per line, with the level as a word and an ISO time', () => {
  const { raw, lines, logger } = captureLog();
  logger.info({ fn: 'reconcile' }, 'tick');
  logger.warn('second');
  assert.is(raw.length, 2);
  for (const line of raw) assert.ok(line.endsWith('}\n') && line.indexOf('\n') === line.length - 1);
  assert.is(lines()[0]!.level, 'info');
  assert.is(lines()[0]!.fn, 'reconcile');
  assert.is(lines()[0]!.msg, 'tick');
  assert.match(String(lines()[0]!.time), /^\d{4}-\d\d-\d\dT/);
  assert.is(lines()[1]!.level, 'warn');
});

test('secret-looking fields are redacted at the top level and two levels down', () => {
  const { raw, lines, logger } = captureLog();
  logger.info({
    password: 'p1',
    token: 't1',
    connection: { http_password: 'p2', authorization: 'Basic xyz' },
    req: { headers: { authorization: 'Bearer abc', cookie: 'c=1' } },
    user: 'bot',
  });
  const line = lines()[0]!;
  assert.is(line.password, '[redacted]');
  assert.is(line.token, '[redacted]');
  assert.equal(line.connection, { http_password: '[redacted]', authorization: '[redacted]' });
  assert.equal(line.req, { headers: { authorization: '[redacted]', cookie: '[redacted]' } });
  assert.is(line.user, 'bot');
  for (const leaked of ['p1', 't1', 'p2', 'xyz', 'abc', 'c=1']) assert.not.match(raw[0]!, leaked);
});

test('secrets inside arrays are redacted too; an object without any is logged unchanged', () => {
  const { lines, logger } = captureLog();
  logger.info({ pipelines: [{ pipeline: 'check', token: 't' }], outcome: 'ok' });
  assert.equal(lines()[0]!.pipelines, [{ pipeline: 'check', token: '[redacted]' }]);
  const plain = { a: { b: [1, { c: 'd' }] } };
  assert.is(redactSecrets(plain), plain);
});

test('a Secret under any key prints as [secret]', () => {
  const { raw, logger } = captureLog();
  logger.info({ config: { GERRIT_PASSWORD: new Secret('hunter2') } });
  assert.not.match(raw[0]!, 'hunter2');
  assert.match(raw[0]!, '"GERRIT_PASSWORD":"[secret]"');
});

test('LOG_LEVEL picks the level; an unknown one is refused naming LOG_LEVEL', () => {
  assert.is(loggerFromEnv({ LOG_LEVEL: 'debug' }).level, 'debug');
  assert.is(loggerFromEnv({}).level, 'info');
  try {
    loggerFromEnv({ LOG_LEVEL: 'chatty' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, 'LOG_LEVEL must be one of');
  }
});

test('debug lines show only when LOG_LEVEL asks for them', () => {
  assert.not.ok(loggerFromEnv({}).isLevelEnabled('debug'));
  assert.ok(loggerFromEnv({}).isLevelEnabled('info'));
  assert.ok(loggerFromEnv({ LOG_LEVEL: 'debug' }).isLevelEnabled('debug'));
  assert.not.ok(loggerFromEnv({ LOG_LEVEL: 'warn' }).isLevelEnabled('info'));
});

test.run();
