import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigError,
  fileContent,
  httpUrl,
  integer,
  loadEnv,
  oneOf,
  optional,
  Secret,
  secret,
  text,
  withDefault,
  type ReadFile,
} from '../../shared/env.js';
import { gerritEnv } from '../../shared/gerrit/env.js';
import { problems } from './support/config-errors.js';
import { withTempFile } from './support/temp-file.js';

const files = (contents: Record<string, string>): ReadFile => (path) => {
  const content = contents[path];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return content;
};

test('reads a valid configuration with the types the spec declares', () => {
  const config = loadEnv(
    { URL: httpUrl(), N: integer({ min: 1, max: 10 }), MODE: oneOf(['a', 'b']), NAME: text() },
    { URL: 'https://gerrit.example.org/r/', N: '7', MODE: 'b', NAME: 'bot' },
  );
  assert.equal(config, { URL: 'https://gerrit.example.org/r/', N: 7, MODE: 'b', NAME: 'bot' });
});

test('a missing required variable is named', () => {
  assert.equal(problems(() => loadEnv({ GERRIT_USER: text() }, {})), ['GERRIT_USER is required']);
});

test('an empty variable counts as missing', () => {
  assert.equal(problems(() => loadEnv({ GERRIT_USER: text() }, { GERRIT_USER: '' })), ['GERRIT_USER is required']);
});

test('optional gives undefined, withDefault the default, and a set value wins over both', () => {
  const spec = { A: optional(text()), B: withDefault(integer({ min: 0, max: 9 }), 3) };
  assert.equal(loadEnv(spec, {}), { A: undefined, B: 3 });
  assert.equal(loadEnv(spec, { A: 'x', B: '5' }), { A: 'x', B: 5 });
});

test('a default does not excuse an invalid value', () => {
  const spec = { B: withDefault(integer({ min: 0, max: 9 }), 3) };
  assert.equal(problems(() => loadEnv(spec, { B: 'many' })), ['B must be an integer from 0 to 9']);
});

for (const bad of ['gerrit.example.org', '/relative', 'ftp://gerrit.example.org', 'http//missing-colon', 'not a url']) {
  test(`GERRIT_URL=${JSON.stringify(bad)} is refused, naming the variable`, () => {
    assert.equal(problems(() => loadEnv({ GERRIT_URL: httpUrl() }, { GERRIT_URL: bad })), [
      'GERRIT_URL must be an absolute http(s) URL',
    ]);
  });
}

test('a URL with credentials in it is refused, and the error does not repeat them', () => {
  const found = problems(() => loadEnv({ GERRIT_URL: httpUrl() }, { GERRIT_URL: 'https://bot:hunter2@gerrit.example.org/' }));
  assert.equal(found, ['GERRIT_URL must not contain credentials']);
});

for (const bad of ['0', '11', '3.5', '1e3', ' 5', 'five', '-']) {
  test(`integer ${JSON.stringify(bad)} outside the rule is refused`, () => {
    assert.equal(problems(() => loadEnv({ N: integer({ min: 1, max: 10 }) }, { N: bad })), ['N must be an integer from 1 to 10']);
  });
}

test('oneOf lists the accepted values', () => {
  assert.equal(problems(() => loadEnv({ LOG_LEVEL: oneOf(['info', 'debug']) }, { LOG_LEVEL: 'loud' })), [
    'LOG_LEVEL must be one of info, debug',
  ]);
});

test('text with a rule says what it must be', () => {
  const spec = { NS: text({ pattern: /^[a-z0-9-]+$/, description: 'a DNS-1123 label' }) };
  assert.equal(problems(() => loadEnv(spec, { NS: 'Not_OK' })), ['NS must be a DNS-1123 label']);
});

test('every problem is reported at once', () => {
  const found = problems(() => loadEnv(gerritEnv, { GERRIT_URL: 'nope', GERRIT_TIMEOUT_MS: '5' }));
  assert.equal(found, [
    'GERRIT_URL must be an absolute http(s) URL',
    'GERRIT_USER is required',
    'GERRIT_PASSWORD (or GERRIT_PASSWORD_FILE) is required',
    'GERRIT_TIMEOUT_MS must be an integer from 100 to 300000',
  ]);
});

test('the ConfigError message carries every problem', () => {
  try {
    loadEnv({ A: text(), B: text() }, {});
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'invalid configuration: A is required; B is required');
  }
});

test('a secret comes from the variable itself', () => {
  const config = loadEnv({ GERRIT_PASSWORD: secret() }, { GERRIT_PASSWORD: 'hunter2' });
  assert.instance(config.GERRIT_PASSWORD, Secret);
  assert.is(config.GERRIT_PASSWORD.reveal(), 'hunter2');
});

test('a secret comes from NAME_FILE, with the trailing newline trimmed and other whitespace kept', () => {
  const read = files({ '/s/pw': ' hunter 2 \n', '/s/crlf': 'abc\r\n' });
  assert.is(loadEnv({ P: secret() }, { P_FILE: '/s/pw' }, read).P.reveal(), ' hunter 2 ');
  assert.is(loadEnv({ P: secret() }, { P_FILE: '/s/crlf' }, read).P.reveal(), 'abc');
});

test('NAME and NAME_FILE both set is refused', () => {
  const read = files({ '/s/pw': 'from-file' });
  assert.equal(problems(() => loadEnv({ P: secret() }, { P: 'direct', P_FILE: '/s/pw' }, read)), [
    'P and P_FILE are both set; set only one',
  ]);
});

test('an unreadable NAME_FILE is named with the reason', () => {
  assert.equal(problems(() => loadEnv({ P: secret() }, { P_FILE: '/nowhere' }, files({}))), [
    'P_FILE names a file that cannot be read (ENOENT)',
  ]);
});

test('an empty NAME_FILE is refused', () => {
  assert.equal(problems(() => loadEnv({ P: secret() }, { P_FILE: '/s/empty' }, files({ '/s/empty': '\n' }))), [
    'P_FILE names an empty file',
  ]);
});

test('a real file works through the default reader', async () => {
  await withTempFile('s3cret\n', (file) => {
    assert.is(loadEnv({ P: secret() }, { P_FILE: file }).P.reveal(), 's3cret');
  });
});

test('NAME_FILE is only honoured for secrets', () => {
  assert.equal(problems(() => loadEnv({ USER: text() }, { USER_FILE: '/s/user' }, files({ '/s/user': 'x' }))), [
    'USER is required',
  ]);
});

test('a secret never shows its value: not in String, JSON, inspect or a config dump', () => {
  const config = loadEnv({ GERRIT_USER: text(), GERRIT_PASSWORD: secret() }, { GERRIT_USER: 'bot', GERRIT_PASSWORD: 'hunter2' });
  for (const shown of [String(config.GERRIT_PASSWORD), `${config.GERRIT_PASSWORD}`, JSON.stringify(config), inspect(config), inspect(config.GERRIT_PASSWORD)]) {
    assert.not.match(shown, 'hunter2');
  }
  assert.match(JSON.stringify(config), '"GERRIT_PASSWORD":"[secret]"');
});

test('no error message repeats a rejected value', () => {
  const values = { GERRIT_URL: 'ftp://hunter2.example', GERRIT_USER: 'bot', GERRIT_PASSWORD: 'hunter2', GERRIT_PASSWORD_FILE: '/x' };
  for (const problem of problems(() => loadEnv(gerritEnv, values, files({ '/x': 'hunter2' })))) {
    assert.not.match(problem, 'hunter2');
  }
});

test('a secret may demand a minimum length, and the message does not repeat the value', () => {
  assert.equal(problems(() => loadEnv({ S: secret({ minLength: 16 }) }, { S: 'short' })), ['S must be at least 16 characters']);
  assert.is(loadEnv({ S: secret({ minLength: 16 }) }, { S: 'sixteen-chars-ok' }).S.reveal(), 'sixteen-chars-ok');
});

test('a file variable holds the file\'s content, and names the variable when it cannot be read', async () => {
  await withTempFile('key material', (file) => {
    assert.is(loadEnv({ KEY: fileContent() }, { KEY: file }).KEY.toString('utf8'), 'key material');
  });
  assert.equal(problems(() => loadEnv({ KEY: fileContent() }, { KEY: '/no/such/file' })), ['KEY names a file that cannot be read (ENOENT)']);
  assert.equal(problems(() => loadEnv({ KEY: fileContent() }, {})), ['KEY is required']);
});

test.run();
