import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEnvFile } from '../integration/support/rig.js';

test('reads export lines and bare lines, skipping comments and blanks', () => {
  const vars = parseEnvFile('# written by rig.sh\n\nexport A=1\nB=two\n  export C=3  \n');
  assert.equal(vars, { A: '1', B: 'two', C: '3' });
});

test('single quotes are literal, double quotes and bare values expand $NAME and ${NAME}', () => {
  const vars = parseEnvFile(`export DIR='/tmp/x'\nexport LIT='$DIR/y'\nexport DQ="$DIR/a:\${DIR}/b"\nBARE=$DIR/c`);
  assert.equal(vars, { DIR: '/tmp/x', LIT: '$DIR/y', DQ: '/tmp/x/a:/tmp/x/b', BARE: '/tmp/x/c' });
});

test('a variable the file does not set comes from the base environment, e.g. PATH', () => {
  const vars = parseEnvFile('export PATH="/rig/bin:$PATH"', { PATH: '/usr/bin:/bin' });
  assert.is(vars.PATH, '/rig/bin:/usr/bin:/bin');
});

test('an unknown variable expands to nothing, as in the shell', () => {
  assert.is(parseEnvFile('X="a${NOPE}b"').X, 'ab');
});

test('an equals sign inside the value is kept', () => {
  assert.is(parseEnvFile("export T='a=b=c'").T, 'a=b=c');
});

test('a line that is not an assignment is an error naming the line', () => {
  assert.throws(() => parseEnvFile('export A=1\necho hello\n'), /:2: not a NAME=value line/);
});

test.run();
